"""Results statistics from per-person rows, checked against scipy and statsmodels."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from campaigns.compute.assignment import Variant, planned_shares
from campaigns.compute.results import RESULT_COLUMNS, campaign_results

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def _frame(rng, arm, n, rate, revenue_mean, *, shift=0.0):
    converted = rng.random(n) < rate
    pre = rng.gamma(2.0, 20.0, n)
    # Revenue follows pre-period spending (the covariate CUPED uses) plus conversion value.
    revenue = np.where(converted, rng.gamma(2.0, revenue_mean / 2.0, n), 0.0) + 0.5 * pre + shift
    days = rng.integers(0, 5, n)
    assigned = [T0 + timedelta(days=int(day)) for day in days]
    return pd.DataFrame(
        {
            "arm": arm,
            "converted": converted.astype(int),
            "revenue": revenue,
            "pre_revenue": pre,
            "pre_orders": rng.poisson(1.0, n),
            "assigned_at": assigned,
            "converted_at": [
                moment + timedelta(hours=5) if hit else pd.NaT
                for moment, hit in zip(assigned, converted, strict=True)
            ],
        },
        columns=list(RESULT_COLUMNS),
    )


@pytest.fixture
def frame():
    rng = np.random.default_rng(7)
    return pd.concat(
        [_frame(rng, "holdout", 2_000, 0.10, 60.0), _frame(rng, "a", 2_000, 0.13, 70.0)],
        ignore_index=True,
    )


def test_uplift_and_p_values_match_statsmodels_and_scipy(frame):
    report = campaign_results(
        frame,
        arms=["a", "holdout"],
        expected_shares={"a": 0.5, "holdout": 0.5},
        min_per_arm=100,
    )

    (comparison,) = report["comparisons"]
    control = frame[frame.arm == "holdout"]
    treated = frame[frame.arm == "a"]
    _, p_z = proportions_ztest(
        [treated.converted.sum(), control.converted.sum()], [len(treated), len(control)]
    )
    welch = stats.ttest_ind(treated.revenue, control.revenue, equal_var=False)
    assert report["control"] == "holdout"
    assert comparison["key"] == "a"
    assert comparison["conversion"]["p_value"] == pytest.approx(p_z, rel=1e-9)
    assert comparison["conversion"]["absolute_uplift"] == pytest.approx(
        treated.converted.mean() - control.converted.mean()
    )
    assert comparison["revenue"]["p_value"] == pytest.approx(welch.pvalue, rel=1e-6)
    assert comparison["has_enough_data"] is True
    assert report["has_enough_data"] is True
    assert report["srm"]["has_sample_ratio_mismatch"] is False
    assert 0.99 < comparison["probability_to_beat_control"] <= 1.0


def test_cuped_keeps_the_estimate_and_reduces_variance(frame):
    report = campaign_results(
        frame, arms=["a", "holdout"], expected_shares={"a": 0.5, "holdout": 0.5}, min_per_arm=100
    )

    cuped = report["comparisons"][0]["cuped"]["revenue"]
    plain = report["comparisons"][0]["revenue"]
    assert cuped["variance_reduction"] > 0.05
    ci_width = cuped["uplift"]["absolute_ci"][1] - cuped["uplift"]["absolute_ci"][0]
    plain_width = plain["absolute_ci"][1] - plain["absolute_ci"][0]
    assert ci_width < plain_width
    assert cuped["uplift"]["absolute_uplift"] == pytest.approx(plain["absolute_uplift"], abs=3.0)


def test_a_skewed_split_is_flagged_as_a_sample_ratio_mismatch():
    rng = np.random.default_rng(3)
    skewed = pd.concat(
        [_frame(rng, "holdout", 4_000, 0.1, 50.0), _frame(rng, "a", 6_000, 0.1, 50.0)],
        ignore_index=True,
    )
    shares = planned_shares([Variant(key="a", weight=1)], 0.5)

    report = campaign_results(
        skewed, arms=["a", "holdout"], expected_shares=shares, min_per_arm=100
    )

    assert report["srm"]["has_sample_ratio_mismatch"] is True
    assert report["srm"]["observed"] == {"a": 6_000, "holdout": 4_000}


def test_small_arms_say_not_enough_data_yet():
    rng = np.random.default_rng(1)
    small = pd.concat(
        [_frame(rng, "holdout", 30, 0.2, 50.0), _frame(rng, "a", 30, 0.2, 50.0)],
        ignore_index=True,
    )

    report = campaign_results(
        small, arms=["a", "holdout"], expected_shares={"a": 0.5, "holdout": 0.5}, min_per_arm=100
    )

    assert report["has_enough_data"] is False
    assert report["comparisons"][0]["has_enough_data"] is False


def test_an_empty_arm_gives_counts_but_no_statistics():
    rng = np.random.default_rng(2)
    report = campaign_results(
        _frame(rng, "a", 5, 0.5, 10.0),
        arms=["a", "holdout"],
        expected_shares={"a": 0.5, "holdout": 0.5},
        min_per_arm=1,
    )

    assert [(arm["key"], arm["n"]) for arm in report["arms"]] == [("a", 5), ("holdout", 0)]
    assert report["comparisons"] == []
    assert report["has_enough_data"] is False


def test_the_series_is_the_cumulative_conversion_rate_per_day():
    frame = pd.DataFrame(
        {
            "arm": ["a", "a", "holdout", "holdout"],
            "converted": [1, 0, 0, 1],
            "revenue": [10.0, 0.0, 0.0, 5.0],
            "pre_revenue": [0.0] * 4,
            "pre_orders": [0] * 4,
            "assigned_at": [T0, T0 + timedelta(days=1), T0, T0],
            "converted_at": [T0 + timedelta(hours=1), pd.NaT, pd.NaT, T0 + timedelta(days=1)],
        }
    )

    report = campaign_results(
        frame, arms=["a", "holdout"], expected_shares={"a": 0.5, "holdout": 0.5}, min_per_arm=1
    )

    assert report["series"] == {
        "days": ["2026-03-02", "2026-03-03"],
        "arms": {"a": [1.0, 0.5], "holdout": [0.0, 0.5]},
    }
