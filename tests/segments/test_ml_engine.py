from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segments.compute.features import NumericFeature, PipelineSpec
from segments.services.ml import engine
from segments.services.ml.engine import (
    ClusteringSettings,
    run_clustering,
    transform_chunked,
)


def _frame(seed: int = 0, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 3
    centres = np.array([[1.0, 10.0], [30.0, 200.0], [8.0, 2000.0]])
    values = centres[group] * rng.lognormal(0, 0.1, size=(n, 2))
    return pd.DataFrame(
        {"profile_id": np.arange(100, 100 + n), "orders": values[:, 0], "spend": values[:, 1]}
    )


SPEC = PipelineSpec(
    numeric=(
        NumericFeature(name="orders", imputation="median", scaling="log1p_standard"),
        NumericFeature(name="spend", imputation="mean", missing_flag=True, scaling="minmax"),
    ),
    max_missing_share=0.5,
)


def test_the_stored_pipeline_holds_the_hand_computed_steps():
    frame = pd.DataFrame(
        {
            "profile_id": [1, 2, 3, 4, 5],
            "orders": [1.0, 3.0, np.nan, 7.0, np.nan],
            "spend": [10.0, np.nan, 30.0, 50.0, np.nan],
        }
    )

    outcome = run_clustering(frame, SPEC, ClusteringSettings(k=2, stability_boots=0, pictures=()))

    orders, spend = outcome.fitted.numeric
    assert outcome.profile_ids.tolist() == [1, 2, 3, 4]  # row 5 misses 2 of 2 features
    assert outcome.n_excluded == 1
    assert orders.fill == 3.0  # median of 1, 3, 7
    assert spend.fill == 30.0  # mean of 10, 30, 50
    logs = np.log1p([1.0, 3.0, 3.0, 7.0])
    assert orders.center == pytest.approx(logs.mean())
    assert orders.scale == pytest.approx(logs.std())
    assert (spend.center, spend.scale) == (10.0, 40.0)
    assert outcome.matrix[:, 2].tolist() == [0.0, 1.0, 0.0, 0.0]  # spend missing flag
    assert outcome.matrix[:, 1].tolist() == [0.0, 0.5, 0.5, 1.0]
    assert outcome.steps[1] == "orders: median imputation (3.0), log1p then standardised"


def test_chunked_transform_equals_one_pass(monkeypatch):
    frame = _frame()
    outcome = run_clustering(frame, SPEC, ClusteringSettings(k=3, stability_boots=0, pictures=()))
    monkeypatch.setattr(engine, "TRANSFORM_CHUNK_ROWS", 7)

    matrix, index = transform_chunked(frame, outcome.fitted)

    assert np.array_equal(matrix, outcome.matrix)
    assert index.tolist() == list(range(300))


def test_the_same_seed_gives_the_same_clusters():
    settings = ClusteringSettings(
        k_min=2, k_max=5, random_state=5, stability_boots=3, pictures=("pca",)
    )

    first = run_clustering(_frame(), SPEC, settings)
    second = run_clustering(_frame(), SPEC, settings)

    assert first.fit.k == 3
    assert np.array_equal(first.fit.labels, second.fit.labels)
    assert np.array_equal(first.fit.centroids, second.fit.centroids)
    assert first.names == second.names
    assert first.stability.mean == second.stability.mean == pytest.approx(1.0)


@pytest.mark.parametrize("_case", ["kmeans", "minibatch", "agglomerative", "dbscan"])
def test_every_algorithm_recovers_three_clear_groups(_case):
    frame = _frame(seed=2)
    settings = ClusteringSettings(algorithm=_case, stability_boots=2, sample_size=200, pictures=())

    outcome = run_clustering(frame, SPEC, settings)

    labels = pd.Series(outcome.fit.labels)
    truth = pd.Series(np.arange(300) % 3)
    assert outcome.fit.k == 3
    found = pd.crosstab(truth, labels).drop(columns=-1, errors="ignore").max(axis=1)
    assert (found >= (70 if _case == "dbscan" else 95)).all()
    if _case == "dbscan":
        assert outcome.fit.metrics["noise_share"] < 0.15
        assert outcome.k_distance is not None
        assert outcome.k_distance.suggested_eps is not None
        assert outcome.selection is None
    else:
        assert outcome.selection.recommended_k == 3
