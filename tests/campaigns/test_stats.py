import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from campaigns.compute.stats import (
    ArmStats,
    SampleSummary,
    _beta_beats_closed_form,
    _beta_beats_quadrature,
    cuped,
    cuped_mean_uplift,
    experiment_report,
    has_enough_data,
    mean_uplift,
    mean_uplift_from_summary,
    probability_to_beat_control,
    proportion_uplift,
    required_sample_size,
    summary_from_sums,
)

TOLERANCE = 1e-9


@pytest.mark.parametrize(
    ("_case", "control", "treatment", "confidence"),
    [
        ("equal arms", (480, 10_000), (552, 10_000), 0.95),
        ("unequal arms", (37, 1_200), (61, 1_500), 0.95),
        ("lower confidence", (900, 20_000), (850, 19_000), 0.90),
        ("treatment worse", (120, 800), (95, 820), 0.99),
    ],
)
def test_proportion_uplift_matches_statsmodels(_case, control, treatment, confidence):
    (x_c, n_c), (x_t, n_t) = control, treatment
    result = proportion_uplift(x_c, n_c, x_t, n_t, confidence=confidence)

    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    diff_low, diff_high = confint_proportions_2indep(
        x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=1 - confidence
    )
    ratio_low, ratio_high = confint_proportions_2indep(
        x_t, n_t, x_c, n_c, method="log", compare="ratio", alpha=1 - confidence
    )
    assert result.control_rate == x_c / n_c
    assert result.treatment_rate == x_t / n_t
    assert result.absolute_uplift == x_t / n_t - x_c / n_c
    assert result.relative_uplift == pytest.approx((x_t / n_t) / (x_c / n_c) - 1, abs=TOLERANCE)
    assert result.z_statistic == pytest.approx(z, abs=TOLERANCE)
    assert result.p_value == pytest.approx(p, abs=TOLERANCE)
    assert result.absolute_ci == pytest.approx((diff_low, diff_high), abs=TOLERANCE)
    assert result.relative_ci == pytest.approx((ratio_low - 1, ratio_high - 1), abs=TOLERANCE)


def test_proportion_uplift_pinned_values():
    result = proportion_uplift(480, 10_000, 552, 10_000)
    assert result.absolute_uplift == pytest.approx(0.0072, abs=1e-15)
    assert result.relative_uplift == pytest.approx(0.15, abs=1e-12)
    assert result.p_value == pytest.approx(0.02136760560131747, abs=1e-12)
    assert result.absolute_ci[0] > 0  # significant at 95 %


def test_zero_control_conversions_leave_relative_uplift_undefined():
    result = proportion_uplift(0, 500, 4, 500)
    assert result.relative_uplift is None
    assert result.relative_ci is None
    assert result.absolute_uplift == 0.008
    _z, p = proportions_ztest([4, 0], [500, 500])
    assert result.p_value == pytest.approx(p, abs=TOLERANCE)


def test_nobody_converting_anywhere_gives_p_one():
    result = proportion_uplift(0, 500, 0, 400)
    assert result.z_statistic == 0.0
    assert result.p_value == 1.0
    assert result.absolute_ci == (0.0, 0.0)


@pytest.mark.parametrize(
    ("_case", "arguments", "message"),
    [
        ("empty control", (0, 0, 1, 10), "control_n must be positive"),
        ("too many conversions", (11, 10, 1, 10), r"control_conversions must be in \[0"),
        ("negative conversions", (1, 10, -1, 10), r"treatment_conversions must be in \[0"),
    ],
)
def test_proportion_uplift_rejects_bad_counts(_case, arguments, message):
    with pytest.raises(ValueError, match=message):
        proportion_uplift(*arguments)


def test_proportion_uplift_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence"):
        proportion_uplift(1, 10, 2, 10, confidence=1.0)


def revenue_sample(rng, n, conversion, scale):
    buys = rng.random(n) < conversion
    return np.where(buys, rng.lognormal(mean=np.log(scale), sigma=0.8, size=n), 0.0)


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_mean_uplift_matches_scipy_welch(confidence):
    rng = np.random.default_rng(7)
    control = revenue_sample(rng, 3_000, 0.05, 60.0)
    treatment = revenue_sample(rng, 2_500, 0.06, 55.0)

    result = mean_uplift(control, treatment, confidence=confidence)
    reference = sps.ttest_ind(treatment, control, equal_var=False)
    low, high = reference.confidence_interval(confidence_level=confidence)
    assert result.t_statistic == pytest.approx(reference.statistic, abs=TOLERANCE)
    assert result.p_value == pytest.approx(reference.pvalue, abs=TOLERANCE)
    assert result.degrees_of_freedom == pytest.approx(reference.df, abs=1e-6)
    assert result.absolute_ci == pytest.approx((low, high), abs=TOLERANCE)
    assert result.absolute_uplift == pytest.approx(treatment.mean() - control.mean(), abs=1e-12)
    assert result.relative_uplift == pytest.approx(treatment.mean() / control.mean() - 1, abs=1e-12)


def test_mean_uplift_from_summary_matches_scipy_from_stats():
    control = SampleSummary(n=4_000, mean=2.31, variance=190.5)
    treatment = SampleSummary(n=3_900, mean=2.95, variance=240.1)
    result = mean_uplift_from_summary(control, treatment)
    reference = sps.ttest_ind_from_stats(
        2.95, math.sqrt(240.1), 3_900, 2.31, math.sqrt(190.5), 4_000, equal_var=False
    )
    assert result.t_statistic == pytest.approx(reference.statistic, abs=TOLERANCE)
    assert result.p_value == pytest.approx(reference.pvalue, abs=TOLERANCE)


def test_summary_from_sums_equals_numpy():
    values = np.array([0.0, 0.0, 12.5, 40.0, 0.0, 7.25])
    summary = summary_from_sums(values.size, float(values.sum()), float((values**2).sum()))
    assert summary.n == 6
    assert summary.mean == pytest.approx(values.mean(), abs=1e-12)
    assert summary.variance == pytest.approx(values.var(ddof=1), abs=1e-12)


def test_constant_revenue_in_both_arms_is_a_degenerate_but_defined_test():
    same = mean_uplift([0.0, 0.0, 0.0], [0.0, 0.0])
    assert (same.p_value, same.t_statistic, same.relative_uplift) == (1.0, 0.0, None)
    different = mean_uplift([1.0, 1.0], [2.0, 2.0])
    assert different.p_value == 0.0
    assert different.t_statistic == math.inf
    assert different.absolute_ci == (1.0, 1.0)


@pytest.mark.parametrize(
    ("_case", "control", "treatment", "message"),
    [
        ("one value", [1.0], [1.0, 2.0], "control_values needs at least 2"),
        ("nan", [1.0, 2.0], [1.0, math.nan], "treatment_values must be finite"),
        ("matrix", [[1.0, 2.0]], [1.0, 2.0], "one-dimensional"),
    ],
)
def test_mean_uplift_rejects_bad_values(_case, control, treatment, message):
    with pytest.raises(ValueError, match=message):
        mean_uplift(control, treatment)


def correlated_arms(rng, n, effect, rho=0.8):
    x = rng.normal(50.0, 10.0, size=2 * n)
    noise = rng.normal(0.0, 10.0 * math.sqrt(1 - rho**2), size=2 * n)
    y = 20.0 + rho * (x - 50.0) + noise
    y[n:] += effect
    return y[:n], x[:n], y[n:], x[n:]


def test_cuped_theta_is_the_ols_slope_and_removes_rho_squared_of_the_variance():
    rng = np.random.default_rng(11)
    control_y, control_x, treatment_y, treatment_x = correlated_arms(rng, 20_000, 1.0)
    y = np.concatenate([control_y, treatment_y])
    x = np.concatenate([control_x, treatment_x])
    result = cuped(y, x)
    slope = np.polyfit(x, y, 1)[0]
    assert result.theta == pytest.approx(slope, abs=1e-9)
    assert result.x_mean == pytest.approx(x.mean(), abs=1e-12)
    assert result.adjusted == pytest.approx(y - slope * (x - x.mean()), abs=1e-8)
    assert result.variance_reduction == pytest.approx(np.corrcoef(y, x)[0, 1] ** 2, abs=1e-9)
    assert 0.6 < result.variance_reduction < 0.68  # rho = 0.8
    assert result.adjusted.mean() == pytest.approx(y.mean(), abs=1e-9)


def test_cuped_narrows_the_interval_of_the_uplift():
    rng = np.random.default_rng(12)
    control_y, control_x, treatment_y, treatment_x = correlated_arms(rng, 5_000, 0.5)
    raw = mean_uplift(control_y, treatment_y)
    adjusted = cuped_mean_uplift(control_y, control_x, treatment_y, treatment_x)
    raw_width = raw.absolute_ci[1] - raw.absolute_ci[0]
    adjusted_width = adjusted.uplift.absolute_ci[1] - adjusted.uplift.absolute_ci[0]
    assert adjusted_width / raw_width == pytest.approx(0.6, abs=0.03)  # sqrt(1 - 0.64)
    assert adjusted.uplift.p_value < raw.p_value


def test_cuped_estimate_is_unbiased_and_less_variable_over_replications():
    rng = np.random.default_rng(2024)
    effect = 0.7
    raw_estimates, cuped_estimates = [], []
    for _ in range(400):
        control_y, control_x, treatment_y, treatment_x = correlated_arms(rng, 300, effect)
        raw_estimates.append(treatment_y.mean() - control_y.mean())
        cuped_estimates.append(
            cuped_mean_uplift(control_y, control_x, treatment_y, treatment_x).uplift.absolute_uplift
        )
    cuped_estimates = np.array(cuped_estimates)
    standard_error = cuped_estimates.std(ddof=1) / math.sqrt(cuped_estimates.size)
    assert abs(cuped_estimates.mean() - effect) < 3 * standard_error
    assert cuped_estimates.var() / np.var(raw_estimates) == pytest.approx(0.36, abs=0.08)


def test_cuped_with_constant_covariate_changes_nothing():
    result = cuped([1.0, 2.0, 4.0], [3.0, 3.0, 3.0])
    assert result.theta == 0.0
    assert result.adjusted.tolist() == [1.0, 2.0, 4.0]
    assert result.variance_reduction == 0.0


def test_cuped_rejects_arrays_of_different_length():
    with pytest.raises(ValueError, match="same length"):
        cuped([1.0, 2.0, 3.0], [1.0, 2.0])


def monte_carlo_probability(control, treatment, prior=(1.0, 1.0), draws=4_000_000):
    rng = np.random.default_rng(99)
    (x_c, n_c), (x_t, n_t) = control, treatment
    a, b = prior
    control_draws = rng.beta(a + x_c, b + n_c - x_c, size=draws)
    treatment_draws = rng.beta(a + x_t, b + n_t - x_t, size=draws)
    return float((treatment_draws > control_draws).mean())


@pytest.mark.parametrize(
    ("_case", "control", "treatment", "prior"),
    [
        ("large equal arms", (480, 10_000), (552, 10_000), (1.0, 1.0)),
        ("small arms", (3, 20), (7, 25), (1.0, 1.0)),
        ("jeffreys prior uses quadrature", (30, 400), (24, 410), (0.5, 0.5)),
        ("many conversions use quadrature", (4_500, 30_000), (4_600, 30_000), (1.0, 1.0)),
    ],
)
def test_probability_to_beat_control_agrees_with_monte_carlo(_case, control, treatment, prior):
    exact = probability_to_beat_control(*control, *treatment, prior=prior)
    assert exact == pytest.approx(monte_carlo_probability(control, treatment, prior), abs=0.005)


def test_probability_to_beat_control_hand_computed():
    # A ~ Beta(1, 2), B ~ Beta(2, 1): ∫ 2x · (2x - x²) dx over [0, 1] = 4/3 - 1/2 = 5/6
    assert probability_to_beat_control(0, 1, 1, 1) == pytest.approx(5 / 6, abs=1e-15)
    assert probability_to_beat_control(40, 1_000, 40, 1_000) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize(
    ("control", "treatment", "prior"),
    [
        ((480, 10_000), (552, 10_000), (1.0, 1.0)),
        ((3, 20), (7, 25), (2.0, 5.0)),
        ((30, 400), (24, 410), (0.5, 0.5)),
        ((4_500, 30_000), (4_600, 30_000), (1.0, 1.0)),
    ],
)
def test_probability_to_beat_control_is_symmetric(control, treatment, prior):
    forward = probability_to_beat_control(*control, *treatment, prior=prior)
    backward = probability_to_beat_control(*treatment, *control, prior=prior)
    assert forward + backward == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    "parameters",
    [(11, 91, 6, 96), (5, 3, 2, 9), (501, 9_501, 451, 9_551), (3, 1_000_000, 1, 1_000_000)],
)
def test_closed_form_and_quadrature_agree(parameters):
    assert _beta_beats_closed_form(*parameters) == pytest.approx(
        _beta_beats_quadrature(*parameters), abs=1e-9
    )


def test_probability_to_beat_control_rejects_a_bad_prior():
    with pytest.raises(ValueError, match="prior parameters must be positive"):
        probability_to_beat_control(1, 10, 2, 10, prior=(0.0, 1.0))


@pytest.mark.parametrize(
    ("_case", "arguments", "expected"),
    [
        ("both large", {"control_n": 100, "treatment_n": 150}, True),
        ("one arm small", {"control_n": 99, "treatment_n": 5_000}, False),
        (
            "few conversions",
            {
                "control_n": 500,
                "treatment_n": 500,
                "control_conversions": 9,
                "treatment_conversions": 30,
            },
            False,
        ),
        (
            "few non-conversions",
            {
                "control_n": 500,
                "treatment_n": 500,
                "control_conversions": 12,
                "treatment_conversions": 495,
            },
            False,
        ),
        (
            "enough conversions",
            {
                "control_n": 500,
                "treatment_n": 500,
                "control_conversions": 10,
                "treatment_conversions": 12,
            },
            True,
        ),
    ],
)
def test_has_enough_data(_case, arguments, expected):
    assert has_enough_data(**arguments) is expected


def normal_power(baseline, mde, n, alpha=0.05):
    p1, p2 = baseline, baseline + mde
    p_bar = (p1 + p2) / 2
    se_null = math.sqrt(2 * p_bar * (1 - p_bar) / n)
    se_alternative = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n)
    return sps.norm.sf((sps.norm.isf(alpha / 2) * se_null - abs(mde)) / se_alternative)


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power", "expected"),
    [
        (0.10, 0.02, 0.05, 0.8, 3_841),
        (0.05, -0.01, 0.05, 0.8, 6_745),
        (0.50, 0.05, 0.01, 0.9, 2_966),
    ],
)
def test_required_sample_size_is_the_smallest_n_reaching_the_power(
    baseline, mde, alpha, power, expected
):
    n = required_sample_size(baseline, mde, alpha=alpha, power=power)
    assert n == expected
    assert normal_power(baseline, mde, n, alpha) >= power
    assert normal_power(baseline, mde, n - 1, alpha) < power


@pytest.mark.parametrize(("baseline", "mde"), [(0.0, 0.01), (0.5, 0.0), (0.95, 0.1)])
def test_required_sample_size_rejects_impossible_rates(baseline, mde):
    with pytest.raises(ValueError, match="baseline_rate"):
        required_sample_size(baseline, mde)


def test_experiment_report_compares_each_arm_with_the_holdout():
    arms = [
        ArmStats(key="holdout", n=2_000, conversions=80, revenue_mean=2.0, revenue_variance=150.0),
        ArmStats(key="a", n=9_000, conversions=450, revenue_mean=2.6, revenue_variance=170.0),
        ArmStats(key="b", n=9_000, conversions=405),
    ]
    report = experiment_report(
        arms, control_key="holdout", expected_shares={"holdout": 0.1, "a": 0.45, "b": 0.45}
    )
    assert report.control.key == "holdout"
    assert [item.key for item in report.comparisons] == ["a", "b"]
    first, second = report.comparisons
    assert first.conversion == proportion_uplift(80, 2_000, 450, 9_000)
    assert first.probability_to_beat_control == probability_to_beat_control(80, 2_000, 450, 9_000)
    assert first.revenue == mean_uplift_from_summary(
        SampleSummary(n=2_000, mean=2.0, variance=150.0),
        SampleSummary(n=9_000, mean=2.6, variance=170.0),
    )
    assert second.revenue is None
    assert report.has_enough_data
    assert report.srm is not None
    assert not report.srm.has_sample_ratio_mismatch


def test_experiment_report_says_not_enough_data_yet():
    arms = [
        ArmStats(key="holdout", n=60, conversions=2),
        ArmStats(key="a", n=500, conversions=30),
    ]
    report = experiment_report(arms, control_key="holdout")
    assert not report.has_enough_data
    assert not report.comparisons[0].has_enough_data
    assert report.srm is None


def test_experiment_report_without_other_arms_has_not_enough_data():
    report = experiment_report(
        [ArmStats(key="holdout", n=500, conversions=30)], control_key="holdout"
    )
    assert report.comparisons == ()
    assert not report.has_enough_data


@pytest.mark.parametrize(
    ("_case", "arms", "message"),
    [
        ("no control", [ArmStats(key="a", n=10, conversions=1)], "control arm 'holdout' not"),
        ("repeated key", [ArmStats(key="a", n=10, conversions=1)] * 2, "must be unique"),
    ],
)
def test_experiment_report_rejects_bad_arms(_case, arms, message):
    with pytest.raises(ValueError, match=message):
        experiment_report(arms, control_key="holdout")


@pytest.mark.parametrize(
    ("_case", "control", "message"),
    [
        ("one value", SampleSummary(n=1, mean=1.0, variance=0.0), "control needs at least 2"),
        ("negative variance", SampleSummary(n=5, mean=1.0, variance=-1.0), "non-negative"),
        ("nan mean", SampleSummary(n=5, mean=math.nan, variance=1.0), "finite mean"),
    ],
)
def test_mean_uplift_from_summary_rejects_bad_summaries(_case, control, message):
    treatment = SampleSummary(n=5, mean=1.0, variance=1.0)
    with pytest.raises(ValueError, match=message):
        mean_uplift_from_summary(control, treatment)
