"""Campaigns compute layer: experiment statistics (uplift, significance, CUPED, Bayes, power)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, special
from scipy import stats as sps

from campaigns.compute.assignment import SrmResult, srm_check

# Above this many terms the closed-form sum loses digits (betaln of large arguments);
# adaptive quadrature then keeps about 1e-10.
_CLOSED_FORM_MAX_TERMS = 1_000
# Tail mass of the treatment posterior left out of the integration range (per side).
_QUAD_TAIL = 1e-15


@dataclass(frozen=True, kw_only=True)
class ProportionResult:
    """Conversion rate of treatment vs control: uplift, its intervals and the z-test p-value.

    absolute_ci is the unpooled Wald interval of treatment_rate - control_rate. relative_ci is
    the Katz log interval of the rate ratio minus one (exp(log RR ± z·se), se² = 1/x_t - 1/n_t
    + 1/x_c - 1/n_c); relative values are None when a rate is zero and the ratio is undefined.
    p_value is two-sided, from the pooled two-proportion z-test.
    """

    control_rate: float
    treatment_rate: float
    absolute_uplift: float
    absolute_ci: tuple[float, float]
    relative_uplift: float | None
    relative_ci: tuple[float, float] | None
    z_statistic: float
    p_value: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class SampleSummary:
    """n, mean and sample variance (ddof=1) of one arm's metric, e.g. aggregated in SQL."""

    n: int
    mean: float
    variance: float


@dataclass(frozen=True, kw_only=True)
class MeanResult:
    """Welch's t-test of treatment mean - control mean with its Welch–Satterthwaite interval."""

    control_mean: float
    treatment_mean: float
    absolute_uplift: float
    absolute_ci: tuple[float, float]
    relative_uplift: float | None
    t_statistic: float
    degrees_of_freedom: float
    p_value: float
    confidence: float


@dataclass(frozen=True, kw_only=True, eq=False)
class CupedResult:
    """CUPED adjustment: y - theta·(x - mean(x)), and the share of variance it removed."""

    theta: float
    x_mean: float
    adjusted: np.ndarray
    variance_reduction: float


@dataclass(frozen=True, kw_only=True)
class CupedUplift:
    """Welch comparison of CUPED-adjusted means, with the pooled theta used."""

    uplift: MeanResult
    theta: float
    variance_reduction: float


@dataclass(frozen=True, kw_only=True)
class ArmStats:
    """Aggregates of one arm: recipients, converters, and optionally revenue per recipient."""

    key: str
    n: int
    conversions: int
    revenue_mean: float | None = None
    revenue_variance: float | None = None


@dataclass(frozen=True, kw_only=True)
class ArmComparison:
    """One arm compared with the control arm."""

    key: str
    n: int
    conversions: int
    conversion: ProportionResult
    probability_to_beat_control: float
    revenue: MeanResult | None
    has_enough_data: bool


@dataclass(frozen=True, kw_only=True)
class ExperimentReport:
    """Every non-control arm against the control; has_enough_data is False until all have it."""

    control_key: str
    control: ArmStats
    comparisons: tuple[ArmComparison, ...]
    has_enough_data: bool
    srm: SrmResult | None


def _check_counts(conversions: int, n: int, arm: str) -> None:
    if n <= 0:
        raise ValueError(f"{arm}_n must be positive, got {n}")
    if not 0 <= conversions <= n:
        raise ValueError(f"{arm}_conversions must be in [0, {arm}_n], got {conversions}")


def _z_for(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(sps.norm.isf((1.0 - confidence) / 2.0))


def _relative_log_ci(
    control_conversions: int,
    control_n: int,
    treatment_conversions: int,
    treatment_n: int,
    z: float,
) -> tuple[float, float] | None:
    if control_conversions == 0 or treatment_conversions == 0:
        return None
    ratio = (treatment_conversions / treatment_n) / (control_conversions / control_n)
    se = math.sqrt(
        1 / treatment_conversions - 1 / treatment_n + 1 / control_conversions - 1 / control_n
    )
    return (math.exp(math.log(ratio) - z * se) - 1.0, math.exp(math.log(ratio) + z * se) - 1.0)


def proportion_uplift(
    control_conversions: int,
    control_n: int,
    treatment_conversions: int,
    treatment_n: int,
    *,
    confidence: float = 0.95,
) -> ProportionResult:
    """Compare two conversion rates (see ProportionResult for the methods).

    When both arms convert all or nobody the pooled variance is zero: z is 0 and p is 1.
    Raises ValueError for n <= 0, conversions outside [0, n] or confidence outside (0, 1).
    """
    _check_counts(control_conversions, control_n, "control")
    _check_counts(treatment_conversions, treatment_n, "treatment")
    z = _z_for(confidence)
    p_c = control_conversions / control_n
    p_t = treatment_conversions / treatment_n
    diff = p_t - p_c
    half_width = z * math.sqrt(p_c * (1 - p_c) / control_n + p_t * (1 - p_t) / treatment_n)
    pooled = (control_conversions + treatment_conversions) / (control_n + treatment_n)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / control_n + 1 / treatment_n))
    z_statistic = diff / pooled_se if pooled_se > 0 else 0.0
    return ProportionResult(
        control_rate=p_c,
        treatment_rate=p_t,
        absolute_uplift=diff,
        absolute_ci=(diff - half_width, diff + half_width),
        relative_uplift=diff / p_c if p_c > 0 else None,
        relative_ci=_relative_log_ci(
            control_conversions, control_n, treatment_conversions, treatment_n, z
        ),
        z_statistic=z_statistic,
        p_value=float(2.0 * sps.norm.sf(abs(z_statistic))),
        confidence=confidence,
    )


def summary_from_sums(n: int, total: float, total_of_squares: float) -> SampleSummary:
    """SampleSummary from COUNT, SUM(x) and SUM(x*x), as SQLite can aggregate them.

    The textbook formula loses digits when the mean dwarfs the spread; for amounts of money
    per recipient that is far below the precision reported. Raises ValueError for n < 2.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    mean = total / n
    variance = max((total_of_squares - n * mean * mean) / (n - 1), 0.0)
    return SampleSummary(n=n, mean=mean, variance=variance)


def mean_uplift_from_summary(
    control: SampleSummary, treatment: SampleSummary, *, confidence: float = 0.95
) -> MeanResult:
    """Welch's t-test and Welch–Satterthwaite interval from per-arm n, mean and variance.

    If both variances are zero the test is degenerate: p is 1 when the means are equal and 0
    otherwise, and the interval collapses to the difference.
    Raises ValueError for n < 2, a negative variance or confidence outside (0, 1).
    """
    _z_for(confidence)
    for name, arm in (("control", control), ("treatment", treatment)):
        if arm.n < 2:
            raise ValueError(f"{name} needs at least 2 values, got {arm.n}")
        if not (arm.variance >= 0 and math.isfinite(arm.variance) and math.isfinite(arm.mean)):
            raise ValueError(
                f"{name} needs a finite mean and a finite non-negative variance, "
                f"got {arm.mean}, {arm.variance}"
            )
    diff = treatment.mean - control.mean
    share_c = control.variance / control.n
    share_t = treatment.variance / treatment.n
    se = math.sqrt(share_c + share_t)
    if se > 0:
        df = (share_c + share_t) ** 2 / (
            share_c**2 / (control.n - 1) + share_t**2 / (treatment.n - 1)
        )
        t_statistic = diff / se
        p_value = float(2.0 * sps.t.sf(abs(t_statistic), df))
        half_width = float(sps.t.isf((1.0 - confidence) / 2.0, df)) * se
    else:
        df = float(control.n + treatment.n - 2)
        t_statistic = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        p_value = 1.0 if diff == 0 else 0.0
        half_width = 0.0
    return MeanResult(
        control_mean=control.mean,
        treatment_mean=treatment.mean,
        absolute_uplift=diff,
        absolute_ci=(diff - half_width, diff + half_width),
        relative_uplift=diff / control.mean if control.mean != 0 else None,
        t_statistic=t_statistic,
        degrees_of_freedom=df,
        p_value=p_value,
        confidence=confidence,
    )


def _summary(values: ArrayLike, name: str) -> SampleSummary:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite numbers")
    if array.size < 2:
        raise ValueError(f"{name} needs at least 2 values, got {array.size}")
    return SampleSummary(
        n=int(array.size), mean=float(array.mean()), variance=float(array.var(ddof=1))
    )


def mean_uplift(
    control_values: ArrayLike, treatment_values: ArrayLike, *, confidence: float = 0.95
) -> MeanResult:
    """Welch's t-test of the mean per recipient (e.g. revenue, zeros included).

    Raises ValueError for fewer than 2 values per arm or non-finite values.
    """
    return mean_uplift_from_summary(
        _summary(control_values, "control_values"),
        _summary(treatment_values, "treatment_values"),
        confidence=confidence,
    )


def cuped(y: ArrayLike, x_pre: ArrayLike) -> CupedResult:
    """CUPED: theta = cov(y, x)/var(x) over all arms pooled, adjusted y = y - theta·(x - x̄).

    Pass every arm's values together so one theta serves all arms (the adjustment then
    leaves the difference of means unbiased under randomisation). A constant x gives theta 0.
    Raises ValueError for arrays of different length, under 2 values or non-finite values.
    """
    outcome = np.asarray(y, dtype=np.float64)
    covariate = np.asarray(x_pre, dtype=np.float64)
    if outcome.shape != covariate.shape or outcome.ndim != 1:
        raise ValueError("y and x_pre must be one-dimensional and of the same length")
    if outcome.size < 2:
        raise ValueError("cuped needs at least 2 values")
    if not (np.isfinite(outcome).all() and np.isfinite(covariate).all()):
        raise ValueError("y and x_pre must be finite numbers")
    x_mean = float(covariate.mean())
    x_variance = float(covariate.var(ddof=1))
    theta = float(np.cov(outcome, covariate, ddof=1)[0, 1]) / x_variance if x_variance > 0 else 0.0
    adjusted = outcome - theta * (covariate - x_mean)
    y_variance = float(outcome.var(ddof=1))
    reduction = 1.0 - float(adjusted.var(ddof=1)) / y_variance if y_variance > 0 else 0.0
    return CupedResult(theta=theta, x_mean=x_mean, adjusted=adjusted, variance_reduction=reduction)


def cuped_mean_uplift(
    control_y: ArrayLike,
    control_x: ArrayLike,
    treatment_y: ArrayLike,
    treatment_x: ArrayLike,
    *,
    confidence: float = 0.95,
) -> CupedUplift:
    """Welch's t-test on CUPED-adjusted values, theta pooled over both arms.

    Raises ValueError like cuped() and mean_uplift().
    """
    control_size = np.asarray(control_y).size
    if np.asarray(control_x).size != control_size:
        raise ValueError("control_y and control_x must be of the same length")
    pooled = cuped(
        np.concatenate([np.asarray(control_y, dtype=np.float64), np.asarray(treatment_y)]),
        np.concatenate([np.asarray(control_x, dtype=np.float64), np.asarray(treatment_x)]),
    )
    uplift = mean_uplift(
        pooled.adjusted[:control_size], pooled.adjusted[control_size:], confidence=confidence
    )
    return CupedUplift(
        uplift=uplift, theta=pooled.theta, variance_reduction=pooled.variance_reduction
    )


def _beta_beats_closed_form(a_b: float, b_b: float, a_a: float, b_a: float) -> float:
    """P(X_B > X_A) for X ~ Beta with integer a_b (Evan Miller's sum, in log space)."""
    i = np.arange(int(a_b), dtype=np.float64)
    log_terms = (
        special.betaln(a_a + i, b_a + b_b)
        - np.log(b_b + i)
        - special.betaln(1.0 + i, b_b)
        - special.betaln(a_a, b_a)
    )
    return float(np.exp(special.logsumexp(log_terms)))


def _beta_beats_quadrature(a_b: float, b_b: float, a_a: float, b_a: float) -> float:
    """P(X_B > X_A) = ∫ pdf_B(x)·cdf_A(x) dx over the range holding all but 2e-15 of B."""
    low = float(sps.beta.ppf(_QUAD_TAIL, a_b, b_b))
    high = float(sps.beta.isf(_QUAD_TAIL, a_b, b_b))
    points = [float(sps.beta.mean(a_b, b_b)), float(sps.beta.mean(a_a, b_a))]
    points = [point for point in points if low < point < high]
    value, _ = integrate.quad(
        lambda x: sps.beta.pdf(x, a_b, b_b) * sps.beta.cdf(x, a_a, b_a),
        low,
        high,
        points=points or None,
        limit=200,
        epsabs=1e-12,
        epsrel=1e-10,
    )
    return float(value)


def _beta_beats(a_b: float, b_b: float, a_a: float, b_a: float) -> float:
    integer = all(float(value).is_integer() for value in (a_b, b_b, a_a, b_a))
    if integer and min(a_a, a_b) <= _CLOSED_FORM_MAX_TERMS:
        if a_b <= a_a:
            value = _beta_beats_closed_form(a_b, b_b, a_a, b_a)
        else:  # fewer terms the other way round; P(A = B) = 0 for continuous posteriors
            value = 1.0 - _beta_beats_closed_form(a_a, b_a, a_b, b_b)
    else:
        value = _beta_beats_quadrature(a_b, b_b, a_a, b_a)
    return min(max(value, 0.0), 1.0)


def probability_to_beat_control(
    control_conversions: int,
    control_n: int,
    treatment_conversions: int,
    treatment_n: int,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
) -> float:
    """P(treatment rate > control rate) under independent Beta(prior) posteriors.

    Exact: the closed-form sum for integer posterior parameters, otherwise adaptive
    quadrature of pdf_treatment·cdf_control (no Monte Carlo). Raises ValueError for invalid
    counts or a non-positive prior.
    """
    _check_counts(control_conversions, control_n, "control")
    _check_counts(treatment_conversions, treatment_n, "treatment")
    alpha, beta = prior
    if not (alpha > 0 and beta > 0 and math.isfinite(alpha) and math.isfinite(beta)):
        raise ValueError(f"prior parameters must be positive and finite, got {prior}")
    return _beta_beats(
        alpha + treatment_conversions,
        beta + treatment_n - treatment_conversions,
        alpha + control_conversions,
        beta + control_n - control_conversions,
    )


def has_enough_data(
    control_n: int,
    treatment_n: int,
    *,
    control_conversions: int | None = None,
    treatment_conversions: int | None = None,
    min_per_arm: int = 100,
    min_conversions: int = 10,
) -> bool:
    """True when each arm has min_per_arm subjects and, where conversions are given, at least
    min_conversions converters and non-converters (a stricter np ≥ 5 rule for the z-test)."""
    if min(control_n, treatment_n) < min_per_arm:
        return False
    for conversions, n in ((control_conversions, control_n), (treatment_conversions, treatment_n)):
        if conversions is not None and min(conversions, n - conversions) < min_conversions:
            return False
    return True


def required_sample_size(
    baseline_rate: float, mde: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Subjects per arm for a two-sided two-proportion z-test to detect an absolute change
    `mde` from `baseline_rate` (normal approximation, pooled variance under H0).

    n = (z₁₋α/₂·√(2·p̄q̄) + z_power·√(p₁q₁ + p₂q₂))² / mde², rounded up.
    Raises ValueError unless 0 < baseline < 1, 0 < baseline + mde < 1, mde ≠ 0 and alpha,
    power in (0, 1).
    """
    p1 = baseline_rate
    p2 = baseline_rate + mde
    if not (0.0 < p1 < 1.0 and 0.0 < p2 < 1.0) or mde == 0:
        raise ValueError(
            f"need 0 < baseline_rate < 1, 0 < baseline_rate + mde < 1 and mde != 0, "
            f"got baseline_rate={baseline_rate}, mde={mde}"
        )
    if not (0.0 < alpha < 1.0 and 0.0 < power < 1.0):
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha}, {power}")
    p_bar = (p1 + p2) / 2.0
    z_alpha = float(sps.norm.isf(alpha / 2.0))
    z_power = float(sps.norm.ppf(power))
    root = z_alpha * math.sqrt(2.0 * p_bar * (1.0 - p_bar)) + z_power * math.sqrt(
        p1 * (1.0 - p1) + p2 * (1.0 - p2)
    )
    return math.ceil(root**2 / mde**2)


def _revenue(control: ArmStats, arm: ArmStats, confidence: float) -> MeanResult | None:
    summaries = []
    for stats_of in (control, arm):
        if stats_of.revenue_mean is None or stats_of.revenue_variance is None or stats_of.n < 2:
            return None
        summaries.append(
            SampleSummary(
                n=stats_of.n, mean=stats_of.revenue_mean, variance=stats_of.revenue_variance
            )
        )
    return mean_uplift_from_summary(summaries[0], summaries[1], confidence=confidence)


def experiment_report(
    arms: Sequence[ArmStats],
    *,
    control_key: str,
    confidence: float = 0.95,
    min_per_arm: int = 100,
    min_conversions: int = 10,
    expected_shares: Mapping[str, float] | None = None,
) -> ExperimentReport:
    """Compare every arm with the control arm (usually the holdout) on conversion and revenue.

    With expected_shares (e.g. assignment.planned_shares) the report carries an SRM check.
    Raises ValueError when control_key is not among the arms, keys repeat, or counts are invalid.
    """
    keys = [arm.key for arm in arms]
    if len(set(keys)) != len(keys):
        raise ValueError(f"arm keys must be unique, got {keys}")
    by_key = {arm.key: arm for arm in arms}
    if control_key not in by_key:
        raise ValueError(f"control arm {control_key!r} not among arms {keys}")
    control = by_key[control_key]
    comparisons = tuple(
        ArmComparison(
            key=arm.key,
            n=arm.n,
            conversions=arm.conversions,
            conversion=proportion_uplift(
                control.conversions, control.n, arm.conversions, arm.n, confidence=confidence
            ),
            probability_to_beat_control=probability_to_beat_control(
                control.conversions, control.n, arm.conversions, arm.n
            ),
            revenue=_revenue(control, arm, confidence),
            has_enough_data=has_enough_data(
                control.n,
                arm.n,
                control_conversions=control.conversions,
                treatment_conversions=arm.conversions,
                min_per_arm=min_per_arm,
                min_conversions=min_conversions,
            ),
        )
        for arm in arms
        if arm.key != control_key
    )
    srm = None
    if expected_shares is not None:
        srm = srm_check({arm.key: arm.n for arm in arms}, expected_shares)
    return ExperimentReport(
        control_key=control_key,
        control=control,
        comparisons=comparisons,
        has_enough_data=bool(comparisons) and all(item.has_enough_data for item in comparisons),
        srm=srm,
    )
