"""Compute layer: customer lifetime value with BG/NBD (how many) and Gamma-Gamma (how much).

Units: time is in DAYS. Orders are bucketed into UTC calendar days, so several orders on one
day are one transaction (the usual convention of the BG/NBD literature and of ``lifetimes``).
Per customer, with completed orders placed strictly before ``as_of``:

- ``frequency``: repeat purchases = number of distinct purchase days - 1;
- ``recency``: days from the first to the last purchase day (0 when frequency is 0);
- ``T``: days from the first purchase day to the day of ``as_of`` (age; T >= recency);
- ``monetary_value``: mean daily total over the repeat purchase days (0 when frequency is 0).

References: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative
to the Pareto/NBD model", Marketing Science 24(2); Fader & Hardie (2013), "The Gamma-Gamma model
of monetary value".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from cdp.core.frames import require_columns
from segments.compute.rfm import (
    ORDER_COLUMNS,
    PLACED_AT,
    PROFILE_ID,
    TOTAL,
    as_utc_timestamp,
    completed_orders,
)

FREQUENCY = "frequency"
RECENCY = "recency"
AGE = "T"
MONETARY_VALUE = "monetary_value"
SUMMARY_COLUMNS = (PROFILE_ID, FREQUENCY, RECENCY, AGE, MONETARY_VALUE)
PREDICTED_CLV = "predicted_clv"
DAYS_PER_MONTH = 365.25 / 12
LOG_PARAM_BOUNDS = (-15.0, 15.0)
A_ONE_GAP = 1e-6

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True, kw_only=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ~ Gamma(r, alpha) (alpha in days), dropout ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True, kw_only=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: spend per transaction ~ Gamma(p, nu), nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float


def summary_from_orders(orders: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Frequency/recency/T/monetary_value per customer (see the module docstring), in days.

    One row per customer with a completed order before `as_of`, sorted by profile_id.
    Raises MissingColumnsError, or ValueError for naive timestamps.
    """
    require_columns(orders, ORDER_COLUMNS)
    as_of = as_utc_timestamp(as_of)
    completed = completed_orders(orders)
    completed = completed.loc[completed[PLACED_AT] < as_of]
    days = completed.assign(day=completed[PLACED_AT].dt.floor("D"))
    daily = days.groupby([PROFILE_ID, "day"], sort=True)[TOTAL].sum().reset_index()
    grouped = daily.groupby(PROFILE_ID, sort=True)
    first_day = grouped["day"].min()
    last_day = grouped["day"].max()
    frequency = grouped["day"].size().astype("int64") - 1
    repeat_spend = grouped[TOTAL].sum() - grouped[TOTAL].first()
    monetary = (repeat_spend / frequency.where(frequency > 0)).fillna(0.0)
    day = pd.Timedelta(days=1)
    summary = pd.DataFrame(
        {
            FREQUENCY: frequency,
            RECENCY: (last_day - first_day) / day,
            AGE: (as_of.floor("D") - first_day) / day,
            MONETARY_VALUE: monetary.astype("float64"),
        }
    )
    summary.index.name = PROFILE_ID
    summary = summary.reset_index()
    summary[PROFILE_ID] = summary[PROFILE_ID].astype("int64")
    return summary[list(SUMMARY_COLUMNS)]


def _summary_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    require_columns(summary, (FREQUENCY, RECENCY, AGE))
    x = summary[FREQUENCY].to_numpy(dtype=np.float64)
    t_x = summary[RECENCY].to_numpy(dtype=np.float64)
    age = summary[AGE].to_numpy(dtype=np.float64)
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > age):
        raise ValueError("need frequency >= 0 and 0 <= recency <= T")
    return x, t_x, age


def _bgnbd_terms(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three log-terms of FHL (2005) eq. 6: ll = a1 + logsumexp(a2, a3), a3 = -inf if x=0."""
    r, alpha, a, b = params
    has_repeat = x > 0
    x_repeat = np.where(has_repeat, x, 1.0)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + age)
    a3 = betaln(a + 1, b + x_repeat - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    return a1, a2, np.where(has_repeat, a3, -np.inf)


def bgnbd_log_likelihood(
    params: BgNbdParams | tuple[float, float, float, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,  # noqa: N803 - the model's own name for a customer's age
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood ln L(r, alpha, a, b | x, t_x, T)."""
    values = _bgnbd_tuple(params)
    x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    a1, a2, a3 = _bgnbd_terms(values, x, t_x, age)
    return np.asarray(a1 + np.logaddexp(a2, a3))


def _bgnbd_tuple(
    params: BgNbdParams | tuple[float, float, float, float],
) -> tuple[float, float, float, float]:
    if isinstance(params, BgNbdParams):
        return (params.r, params.alpha, params.a, params.b)
    r, alpha, a, b = params
    return (float(r), float(alpha), float(a), float(b))


def _bgnbd_objective(
    x: np.ndarray, t_x: np.ndarray, age: np.ndarray, weight: np.ndarray
) -> Objective:
    """Negative mean log-likelihood over log-parameters, with its analytic gradient."""
    total = weight.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        a1, a2, a3 = _bgnbd_terms((r, alpha, a, b), x, t_x, age)
        mix = np.logaddexp(a2, a3)
        w2, w3 = np.exp(a2 - mix), np.exp(a3 - mix)
        x_repeat = np.where(x > 0, x, 1.0)
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + x)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha)
        d_r = d_r - w2 * np.log(alpha + age) - w3 * np.log(alpha + t_x)
        d_alpha = r / alpha - w2 * (r + x) / (alpha + age) - w3 * (r + x) / (alpha + t_x)
        d_a = w2 * (psi_ab - psi_abx) + w3 * (digamma(a + 1) - digamma(a) + psi_ab - psi_abx)
        d_b = psi_ab - psi_abx - digamma(b)
        d_b = d_b + w2 * digamma(b + x) + w3 * digamma(b + x_repeat - 1)
        grads = np.array([d_r, d_alpha, d_a, d_b]) @ weight
        value = float((a1 + mix) @ weight)
        return -value / total, -grads * np.array([r, alpha, a, b]) / total

    return objective


def _minimise(objective: Objective, start: np.ndarray) -> np.ndarray:
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[LOG_PARAM_BOUNDS] * len(start),
        options={"maxiter": 2000},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ValueError(f"maximum likelihood did not converge: {result.message}")
    return np.asarray(result.x)


def fit_bgnbd(summary: pd.DataFrame) -> BgNbdParams:
    """Maximum-likelihood BG/NBD fit (L-BFGS-B on log-parameters, analytic gradient).

    Identical (frequency, recency, T) rows are collapsed with a weight, and times are rescaled
    to max(T) = 10 while fitting (alpha is scaled back), for speed and numerical stability.
    log_likelihood is the total over customers in the original units.
    Raises MissingColumnsError, or ValueError without any repeat purchase or on a failed fit.
    """
    x, t_x, age = _summary_arrays(summary)
    if not np.any(x > 0):
        raise ValueError("BG/NBD needs at least one customer with a repeat purchase")
    counts = pd.DataFrame({"x": x, "t_x": t_x, "age": age}).value_counts(sort=False)
    keys = counts.index.to_frame(index=False)
    ux, ut, ua = (keys[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "age"))
    weight = counts.to_numpy(dtype=np.float64)
    scale = 10.0 / max(float(age.max()), 1e-9)
    objective = _bgnbd_objective(ux, ut * scale, ua * scale, weight)
    r, alpha, a, b = np.exp(_minimise(objective, np.zeros(4)))
    alpha = alpha / scale
    log_likelihood = float(bgnbd_log_likelihood((r, alpha, a, b), ux, ut, ua) @ weight)
    return BgNbdParams(
        r=float(r), alpha=float(alpha), a=float(a), b=float(b), log_likelihood=log_likelihood
    )


def probability_alive(
    params: BgNbdParams,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> np.ndarray:
    """P(still active at T | x, t_x, T) (FHL 2005 eq. 13); 1 for customers without a repeat."""
    x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    x_repeat = np.where(x > 0, x, 1.0)
    r, alpha, a, b = _bgnbd_tuple(params)
    log_odds_dead = (
        np.log(a) - np.log(b + x_repeat - 1) + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
    )
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def _conditional_expectation(
    params: tuple[float, float, float, float],
    t: float,
    x: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """E[purchases in (T, T + t] | alive at T], the bracket of FHL eq. 10 times its head."""
    r, alpha, a, b = params
    z = t / (alpha + age + t)
    head = (a + b + x - 1) / (a - 1)
    decay = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t)))
    return np.asarray(head * (1.0 - decay * hyp2f1(r + x, b + x, a + b + x - 1, z)))


def expected_purchases(
    params: BgNbdParams,
    t: float,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> np.ndarray:
    """E[repeat purchases in (T, T + t] | x, t_x, T], t in days (FHL 2005 eq. 10).

    Valid for any a > 0: the closed form divides by a - 1, a removable singularity, so for
    |a - 1| < A_ONE_GAP it averages the values at 1 - A_ONE_GAP and 1 + A_ONE_GAP.
    """
    x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    r, alpha, a, b = _bgnbd_tuple(params)
    if abs(a - 1.0) < A_ONE_GAP:
        below = _conditional_expectation((r, alpha, 1.0 - A_ONE_GAP, b), t, x, age)
        above = _conditional_expectation((r, alpha, 1.0 + A_ONE_GAP, b), t, x, age)
        expected = (below + above) / 2
    else:
        expected = _conditional_expectation((r, alpha, a, b), t, x, age)
    return np.asarray(expected * probability_alive(params, x, t_x, age))


def _gamma_gamma_terms(
    params: tuple[float, float, float], x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    p, q, v = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )


def gamma_gamma_log_likelihood(
    params: GammaGammaParams | tuple[float, float, float],
    frequency: np.ndarray,
    monetary_value: np.ndarray,
) -> np.ndarray:
    """Per-customer Gamma-Gamma log-density of the mean spend m_x given x > 0 transactions."""
    if isinstance(params, GammaGammaParams):
        values = (params.p, params.q, params.v)
    else:
        values = (float(params[0]), float(params[1]), float(params[2]))
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    return np.asarray(_gamma_gamma_terms(values, x, m))


def _gamma_gamma_objective(x: np.ndarray, m: np.ndarray) -> Objective:
    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(log_params)
        value = _gamma_gamma_terms((p, q, v), x, m).sum()
        psi = digamma(p * x + q)
        d_p = x * (psi - digamma(p * x) + np.log(m) + np.log(x) - np.log(v + x * m))
        d_q = psi - digamma(q) + np.log(v) - np.log(v + x * m)
        d_v = q / v - (p * x + q) / (v + x * m)
        grads = np.array([d_p.sum(), d_q.sum(), d_v.sum()]) * np.array([p, q, v])
        return -float(value) / len(x), -grads / len(x)

    return objective


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on customers with frequency > 0 and spend > 0.

    Spend is rescaled to mean 1 while fitting (v is scaled back).
    Raises MissingColumnsError, or ValueError when fewer than 2 customers qualify.
    """
    require_columns(summary, (FREQUENCY, MONETARY_VALUE))
    x = summary[FREQUENCY].to_numpy(dtype=np.float64)
    m = summary[MONETARY_VALUE].to_numpy(dtype=np.float64)
    keep = (x > 0) & (m > 0)
    if keep.sum() < 2:
        raise ValueError("Gamma-Gamma needs at least two customers with repeat spend")
    x, m = x[keep], m[keep]
    scale = 1.0 / float(m.mean())
    p, q, v = np.exp(_minimise(_gamma_gamma_objective(x, m * scale), np.zeros(3)))
    return GammaGammaParams(p=float(p), q=float(q), v=float(v / scale))


def expected_average_value(
    params: GammaGammaParams, frequency: np.ndarray, monetary_value: np.ndarray
) -> np.ndarray:
    """E[spend per transaction | x, m_x] = p (v + x m_x) / (p x + q - 1); x = 0 gives p v/(q-1).

    Raises ValueError when q <= 1 (the population mean is infinite).
    """
    if params.q <= 1:
        raise ValueError("expected_average_value needs q > 1")
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    p, q, v = params.p, params.q, params.v
    return np.asarray(p * (v + x * m) / (p * x + q - 1))


def predicted_clv(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    summary: pd.DataFrame,
    *,
    months: int = 12,
    discount_rate_monthly: float = 0.01,
) -> pd.Series:
    """Discounted expected spend over the next `months` (a month = 365.25/12 days).

    CLV = sum over month i of (E[purchases by end of i] - E[by end of i-1]) * E[spend] /
    (1 + discount_rate_monthly) ** i. Same index as `summary`, name ``predicted_clv``.
    Raises MissingColumnsError, or ValueError for months < 1 or a negative discount rate.
    """
    require_columns(summary, (FREQUENCY, RECENCY, AGE, MONETARY_VALUE))
    if months < 1 or discount_rate_monthly < 0:
        raise ValueError("need months >= 1 and discount_rate_monthly >= 0")
    x, t_x, age = _summary_arrays(summary)
    spend = expected_average_value(gg, x, summary[MONETARY_VALUE].to_numpy(dtype=np.float64))
    value = np.zeros(len(x))
    previous = np.zeros(len(x))
    for month in range(1, months + 1):
        cumulative = expected_purchases(bg, month * DAYS_PER_MONTH, x, t_x, age)
        value += (cumulative - previous) / (1.0 + discount_rate_monthly) ** month
        previous = cumulative
    return pd.Series(value * spend, index=summary.index, name=PREDICTED_CLV)
