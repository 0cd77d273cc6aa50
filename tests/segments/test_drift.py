import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from segments.compute.clustering import fit_kmeans
from segments.compute.drift import (
    centroid_drift,
    population_drift,
    psi,
    should_retrain,
)

# --- centroid drift ---------------------------------------------------------------------------


def test_hungarian_matching_undoes_a_permutation_and_scales_by_the_old_spacing():
    old = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])  # pairwise distances 3, 4, 5: mean 4
    new = np.array([[0.0, 4.4], [0.0, 0.0], [3.0, 0.0]])

    report = centroid_drift(old, new)

    assert report.matching == ((0, 1), (1, 2), (2, 0))
    assert report.scale == 4.0
    assert report.shifts == pytest.approx((0.0, 0.0, 0.4), abs=1e-12)
    assert report.relative_shifts == pytest.approx((0.0, 0.0, 0.1), abs=1e-12)
    assert report.max_relative_shift == pytest.approx(0.1, abs=1e-12)
    assert report.mean_relative_shift == pytest.approx(0.1 / 3, abs=1e-12)
    assert json.dumps(report.params(), allow_nan=False)


def test_matching_minimises_the_total_shift_like_brute_force():
    rng = np.random.default_rng(0)
    old = rng.normal(size=(6, 3))
    new = old[rng.permutation(6)] + rng.normal(scale=0.8, size=(6, 3))

    report = centroid_drift(old, new)

    best = min(
        sum(np.linalg.norm(old[i] - new[j]) for i, j in enumerate(perm))
        for perm in itertools.permutations(range(6))
    )
    assert sum(report.shifts) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize(
    ("_case", "threshold", "expected"),
    [("under", 0.15, False), ("at_is_not_over", 0.1 + 1e-9, False), ("over", 0.05, True)],
)
def test_should_retrain_compares_the_largest_relative_shift(_case, threshold, expected):
    old = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    new = np.array([[0.0, 4.4], [0.0, 0.0], [3.0, 0.0]])

    assert should_retrain(centroid_drift(old, new), threshold=threshold) is expected


def test_a_new_cluster_is_reported_unmatched_and_forces_a_retrain():
    old = np.array([[0.0, 0.0], [10.0, 0.0]])
    new = np.array([[10.0, 0.0], [0.0, 0.0], [5.0, 5.0]])

    report = centroid_drift(old, new)

    assert report.matching == ((0, 1), (1, 0))
    assert report.unmatched_new == (2,)
    assert report.unmatched_old == ()
    assert report.max_relative_shift == 0.0
    assert should_retrain(report) is True


def test_one_old_centroid_cannot_be_scaled():
    with pytest.raises(ValueError, match="2\\+ old centroids"):
        centroid_drift(np.zeros((1, 2)), np.zeros((1, 2)))


def _population(rng, n, *, shift=0.0):
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0], [6.0, 6.0]])
    centers[3] += shift
    return centers[rng.integers(0, 4, n)] + rng.normal(size=(n, 2))


def test_refit_on_a_resample_of_the_same_population_does_not_fire():
    rng = np.random.default_rng(1)
    before = fit_kmeans(_population(rng, 1500), k=4, random_state=0)
    after = fit_kmeans(_population(rng, 1500), k=4, random_state=5)

    report = centroid_drift(before.centroids, after.centroids)

    assert report.max_relative_shift < 0.05
    assert should_retrain(report) is False


def test_refit_on_a_shifted_population_fires():
    rng = np.random.default_rng(2)
    before = fit_kmeans(_population(rng, 1500), k=4, random_state=0)
    after = fit_kmeans(_population(rng, 1500, shift=1.5), k=4, random_state=0)

    report = centroid_drift(before.centroids, after.centroids)

    assert should_retrain(report) is True
    assert report.max_relative_shift > 0.2
    assert sorted(report.relative_shifts)[:3] == pytest.approx([0, 0, 0], abs=0.03)


# --- population drift -------------------------------------------------------------------------


def test_psi_on_hand_made_shares():
    # quartiles of 0..99 split it into four equal bins; the current sits in the outer two
    reference = pd.DataFrame({"x": np.arange(100.0)})
    current = pd.DataFrame({"x": [0.0] * 50 + [99.0] * 50})

    table = population_drift(reference, current, ["x"], bins=4)

    expected = 2 * (0.5 - 0.25) * math.log(2) + 2 * (1e-4 - 0.25) * math.log(1e-4 / 0.25)
    assert table.loc["x", "psi"] == pytest.approx(expected, rel=1e-12)
    assert table.loc["x", "bins"] == 4
    assert table.loc["x", "level"] == "major"
    assert bool(table.loc["x", "drifted"]) is True


def test_psi_function_is_symmetric_in_form():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert psi([0.25, 0.75], [0.75, 0.25]) == pytest.approx(2 * 0.5 * math.log(3), rel=1e-12)


def test_ks_statistic_of_two_shifted_ranges():
    reference = pd.DataFrame({"x": np.arange(100.0)})
    current = pd.DataFrame({"x": np.arange(50.0, 150.0)})

    table = population_drift(reference, current, ["x"])

    assert table.loc["x", "ks_statistic"] == 0.5


def test_categorical_psi_uses_reference_levels_and_an_other_bucket():
    reference = pd.DataFrame({"channel": ["a"] * 50 + ["b"] * 50})
    current = pd.DataFrame({"channel": ["a"] * 50 + ["c"] * 50})

    table = population_drift(reference, current, ["channel"])

    assert table.loc["channel", "kind"] == "categorical"
    assert table.loc["channel", "bins"] == 3
    assert table.loc["channel", "psi"] == pytest.approx(
        2 * (0.5 - 1e-4) * math.log(5000), rel=1e-12
    )
    assert np.isnan(table.loc["channel", "ks_statistic"])


def test_missing_values_are_left_out_and_reported_as_shares():
    reference = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan]})
    current = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan, np.nan, np.nan]})

    table = population_drift(reference, current, ["x"], bins=3)

    assert table.loc["x", "psi"] == 0.0
    assert table.loc["x", "reference_missing_share"] == 0.25
    assert table.loc["x", "current_missing_share"] == 0.5


def _customers(rng, n, *, spend_shift=0.0):
    return pd.DataFrame(
        {
            "monetary": rng.lognormal(4 + spend_shift, 1, n),
            "frequency": rng.poisson(1.5, n).astype(float),  # many ties at 0 and 1
            "channel": rng.choice(["web", "store", "app"], n, p=[0.5, 0.3, 0.2]),
        }
    )


def test_population_drift_does_not_fire_on_a_resample():
    rng = np.random.default_rng(3)

    table = population_drift(
        _customers(rng, 5000), _customers(rng, 5000), ["monetary", "frequency", "channel"]
    )

    assert table["drifted"].tolist() == [False, False, False]
    assert table["level"].tolist() == ["stable", "stable", "stable"]
    assert table["psi"].max() < 0.02


def test_population_drift_fires_on_the_shifted_feature_only():
    rng = np.random.default_rng(4)

    table = population_drift(
        _customers(rng, 5000),
        _customers(rng, 5000, spend_shift=0.6),
        ["monetary", "frequency", "channel"],
    )

    assert table["drifted"].tolist() == [True, False, False]
    assert table.loc["monetary", "psi"] > 0.25
    assert table.loc["monetary", "ks_pvalue"] < 1e-10
    assert table.loc["frequency", "psi"] < 0.02


def test_population_drift_names_missing_columns():
    with pytest.raises(ValueError, match="missing columns: y"):
        population_drift(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": [1.0]}), ["x", "y"])
