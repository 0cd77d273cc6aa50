"""Fellegi-Sunter: EM recovers a known model, the prior, term frequencies, params round-trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from profiles.compute.linkage import (
    ComparisonParams,
    ComparisonSpec,
    ModelParams,
    TrainingSession,
    expectation_maximisation,
    score_pairs,
)
from profiles.compute.linkage.fellegi_sunter import estimate_prior, estimate_u
from profiles.compute.linkage.records import RECORD_COLUMNS, prepare_records

M_TRUE = (np.array([0.85, 0.10, 0.05]), np.array([0.9, 0.1]), np.array([0.6, 0.25, 0.1, 0.05]))
U_TRUE = (np.array([0.02, 0.08, 0.90]), np.array([0.05, 0.95]), np.array([0.01, 0.04, 0.15, 0.8]))


def _simulate(n: int, prior: float, seed: int) -> np.ndarray:
    """Level codes (1-based) drawn from the Fellegi-Sunter model with M_TRUE and U_TRUE."""
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < prior
    levels = np.empty((n, len(M_TRUE)), dtype=np.int8)
    for k, (m, u) in enumerate(zip(M_TRUE, U_TRUE, strict=True)):
        levels[is_match, k] = rng.choice(m.size, int(is_match.sum()), p=m) + 1
        levels[~is_match, k] = rng.choice(u.size, int((~is_match).sum()), p=u) + 1
    levels[rng.random(levels.shape) < 0.05] = 0  # some nulls, which carry no evidence
    return levels


def test_em_recovers_known_m_and_prior_from_simulated_pairs() -> None:
    levels = _simulate(200_000, prior=0.3, seed=11)

    fit = expectation_maximisation(levels, U_TRUE, pseudo_count=0.0)

    assert fit.converged
    assert fit.prior == pytest.approx(0.3, abs=0.005)
    for learnt, true in zip(fit.m, M_TRUE, strict=True):
        np.testing.assert_allclose(learnt, true, atol=0.01)


def test_em_leaves_inactive_comparisons_at_their_start() -> None:
    levels = _simulate(50_000, prior=0.5, seed=3)

    fit = expectation_maximisation(levels, U_TRUE, active=[True, False, True])

    np.testing.assert_allclose(fit.m[1], [0.8, 0.2])  # the start: 2**(-2k), normalised
    np.testing.assert_allclose(fit.m[0], M_TRUE[0], atol=0.02)


def test_prior_is_the_fixed_point_over_all_record_pairs() -> None:
    evidence = np.r_[np.full(1_000, 60.0), np.full(5_000, -60.0), np.array([20.0, 19.0])]
    total_pairs = 1e6

    prior = estimate_prior(evidence, total_pairs)

    posterior = 1 / (1 + np.exp2(-(np.log2(prior / (1 - prior)) + evidence)))
    assert prior == pytest.approx(posterior.sum() / total_pairs, rel=1e-9)
    assert 1_000 / total_pairs < prior < 1_002 / total_pairs


def _surname_records(surnames: list[str]) -> pd.DataFrame:
    rows = [
        {"record_id": i + 1, "first_name": "x", "last_name": name, "birth_date": None}
        for i, name in enumerate(surnames)
    ]
    return pd.DataFrame(rows, columns=list(RECORD_COLUMNS))


def _surname_model(tf_minimum_u: float) -> ModelParams:
    spec = ComparisonSpec(
        name="last_name", method="last_name", thresholds=(0.9,), term_frequency=True
    )
    comparison = ComparisonParams(spec=spec, m=(0.9, 0.05, 0.05), u=(0.01, 0.04, 0.95))
    return ModelParams(
        comparisons=(comparison,),
        prior=0.01,
        tf_minimum_u=tf_minimum_u,
        u_sample_pairs=0,
        sessions=(),
    )


def test_agreeing_on_a_common_surname_weighs_less_than_on_a_rare_one() -> None:
    records = _surname_records(["smith"] * 6 + ["zwiebelmeyer"] * 2 + ["okafor", "lindqvist"])
    pairs = pd.DataFrame({"left": [1, 7, 9], "right": [2, 8, 10]})

    scored = score_pairs(pairs, records, _surname_model(tf_minimum_u=1e-4))

    weights = scored["last_name_weight"].to_numpy()
    np.testing.assert_allclose(weights[:2], np.log2([0.9 / 0.6, 0.9 / 0.2]), rtol=1e-6)
    assert weights[0] < weights[1]
    assert weights[2] == pytest.approx(np.log2(0.05 / 0.95), rel=1e-6)
    assert scored["last_name_level"].tolist() == ["exact", "exact", "else"]


def test_term_frequency_is_floored_at_the_minimum_u() -> None:
    records = _surname_records(["smith"] * 6 + ["zwiebelmeyer"] * 2 + ["okafor", "lindqvist"])
    pairs = pd.DataFrame({"left": [7], "right": [8]})

    scored = score_pairs(pairs, records, _surname_model(tf_minimum_u=0.5))

    assert scored["last_name_weight"].iloc[0] == pytest.approx(np.log2(0.9 / 0.5), rel=1e-6)


def test_match_weight_is_prior_plus_contributions_and_probability_its_logistic() -> None:
    records = _surname_records(["smith"] * 6 + ["zwiebelmeyer"] * 2 + ["okafor", "lindqvist"])
    params = _surname_model(tf_minimum_u=1e-4)

    scored = score_pairs(pd.DataFrame({"left": [7], "right": [8]}), records, params)

    expected_weight = np.log2(0.01 / 0.99) + np.log2(0.9 / 0.2)
    assert scored["match_weight"].iloc[0] == pytest.approx(expected_weight, rel=1e-6)
    assert scored["match_probability"].iloc[0] == pytest.approx(
        1 / (1 + 2 ** (-expected_weight)), rel=1e-6
    )


def test_u_from_random_pairs_matches_the_share_of_agreeing_pairs() -> None:
    records = _surname_records(["smith"] * 50 + [f"name{i}" for i in range(50)])
    spec = ComparisonSpec(name="last_name", method="last_name", thresholds=(0.9,))

    (u,) = estimate_u(prepare_records(records), [spec], n_pairs=200_000, random_state=5)

    exact_share = (50 * 49 / 2) / (100 * 99 / 2)  # pairs of two smiths among all pairs
    assert u[0] == pytest.approx(exact_share, abs=0.005)


def test_params_round_trip_through_a_json_dict() -> None:
    spec = ComparisonSpec(
        name="address", method="address", thresholds=(0.85, 0.9), term_frequency=True
    )
    params = ModelParams(
        comparisons=(
            ComparisonParams(
                spec=spec, m=(0.7, 0.1, 0.05, 0.05, 0.05, 0.05), u=(1e-6,) * 5 + (0.99,)
            ),
        ),
        prior=2.5e-6,
        tf_minimum_u=1e-4,
        u_sample_pairs=1_000_000,
        sessions=(
            TrainingSession(
                rule="phone",
                pairs=10,
                estimated=("address",),
                block_prior=0.9,
                iterations=4,
                converged=True,
            ),
        ),
    )

    restored = ModelParams.from_dict(json.loads(json.dumps(params.to_dict())))

    assert restored == params


def test_unknown_params_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        ModelParams.from_dict({"version": 99})
