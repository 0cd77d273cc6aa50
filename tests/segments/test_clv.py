"""Tests for segments.compute.clv: BG/NBD and Gamma-Gamma against independent formulas and
data simulated from each model's generative process."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from segments.compute.clv import (
    DAYS_PER_MONTH,
    BgNbdParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    predicted_clv,
    probability_alive,
    summary_from_orders,
)

TRUE_BG = BgNbdParams(r=0.25, alpha=10.0, a=1.5, b=4.0, log_likelihood=float("nan"))
TRUE_GG = GammaGammaParams(p=6.0, q=4.0, v=15.0)
HOLDOUT_DAYS = 90.0


def _reference_bgnbd_ll(r, alpha, a, b, x, t_x, age):
    """FHL (2005) eq. 6 for one customer, in linear space: L = A1 * A2 * (A3 + delta * A4)."""
    a1 = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    a2 = math.exp(math.lgamma(a + b) + math.lgamma(b + x) - math.lgamma(b) - math.lgamma(a + b + x))
    a3 = (1.0 / (alpha + age)) ** (r + x)
    a4 = (a / (b + x - 1)) * (1.0 / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return math.log(a1 * a2 * (a3 + a4))


def _reference_gamma_gamma_ll(p, q, v, x, m):
    """Beta-prime form: with z = x m / (v + x m), f(m) = z^(px) (1 - z)^q / (B(px, q) m)."""
    log_beta = math.lgamma(p * x) + math.lgamma(q) - math.lgamma(p * x + q)
    z = x * m / (v + x * m)
    return p * x * math.log(z) + q * math.log(1.0 - z) - log_beta - math.log(m)


def _simulate_bgnbd(n, params, seed):
    """Customers from the BG/NBD process: first purchase at 0, observed to T ~ U(30, 365) days;
    returns the calibration summary, who is alive at T, and repeat purchases in (T, T + 90]."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    age = rng.uniform(30.0, 365.0, n)
    t, x, t_x, holdout = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    alive, alive_at_age = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    while alive.any():
        t = np.where(alive, t + rng.exponential(1.0 / rate), t)
        alive_at_age |= alive & (t > age)
        in_calibration = alive & (t <= age)
        in_holdout = alive & (t > age) & (t <= age + HOLDOUT_DAYS)
        x[in_calibration] += 1
        t_x[in_calibration] = t[in_calibration]
        holdout[in_holdout] += 1
        alive = (in_calibration | in_holdout) & (rng.random(n) >= dropout)  # dies after a buy
    summary = pd.DataFrame({"frequency": x, "recency": t_x, "T": age})
    return summary, alive_at_age, holdout


def _simulate_gamma_gamma(n, params, seed):
    rng = np.random.default_rng(seed)
    nu = rng.gamma(params.q, 1.0 / params.v, n)
    x = rng.integers(1, 10, n)
    mean_spend = rng.gamma(params.p * x, 1.0 / (x * nu))  # mean of x Gamma(p, nu) draws
    return pd.DataFrame({"frequency": x, "monetary_value": mean_spend})


@pytest.fixture(scope="module")
def simulated():
    return _simulate_bgnbd(20_000, TRUE_BG, seed=11)


def test_summary_counts_repeat_days_in_days_before_as_of():
    rows = [
        (1, "2024-01-01T09:00:00Z", 10.0, "completed"),
        (1, "2024-01-01T18:00:00Z", 5.0, "completed"),  # same day: one transaction
        (1, "2024-01-15T10:00:00Z", 20.0, "completed"),
        (1, "2024-02-01T10:00:00Z", 30.0, "completed"),
        (1, "2024-02-01T11:00:00Z", 100.0, "cancelled"),
        (1, "2024-03-10T13:00:00Z", 70.0, "completed"),  # after as_of
        (2, "2024-03-10T08:00:00Z", 12.0, "completed"),
        (3, "2024-02-28T23:30:00Z", 3.0, "completed"),
        (3, "2024-02-29T00:30:00Z", 7.0, "completed"),
    ]
    orders = pd.DataFrame(rows, columns=["profile_id", "placed_at", "total", "status"])
    orders["placed_at"] = pd.to_datetime(orders["placed_at"], utc=True)

    summary = summary_from_orders(orders, as_of=pd.Timestamp("2024-03-10T12:00:00Z"))

    assert summary.columns.tolist() == ["profile_id", "frequency", "recency", "T", "monetary_value"]
    assert summary["profile_id"].tolist() == [1, 2, 3]
    assert summary["frequency"].tolist() == [2, 0, 1]
    assert summary["recency"].tolist() == [31.0, 0.0, 1.0]
    assert summary["T"].tolist() == [69.0, 0.0, 11.0]
    assert summary["monetary_value"].tolist() == [25.0, 0.0, 7.0]


@pytest.mark.parametrize(
    "point",
    [(0.25, 10.0, 1.5, 4.0), (1.0, 1.0, 1.0, 1.0), (3.2, 80.0, 0.4, 12.0), (0.05, 0.5, 7.0, 0.8)],
)
def test_bgnbd_likelihood_equals_an_independent_per_customer_formula(point):
    customers = [(0, 0.0, 40.0), (0, 0.0, 0.0), (1, 5.0, 40.0), (3, 38.5, 40.0), (12, 100.0, 300.0)]
    frequency, recency, age = (np.array(c, dtype=float) for c in zip(*customers, strict=True))

    ll = bgnbd_log_likelihood(point, frequency, recency, age)

    expected = [_reference_bgnbd_ll(*point, *c) for c in customers]
    np.testing.assert_allclose(ll, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("point", [(6.0, 4.0, 15.0), (1.0, 1.0, 1.0), (0.5, 9.0, 300.0)])
def test_gamma_gamma_likelihood_equals_the_beta_prime_form(point):
    customers = [(1, 12.0), (2, 40.5), (7, 3.25), (30, 99.0)]
    frequency, spend = (np.array(c, dtype=float) for c in zip(*customers, strict=True))

    ll = gamma_gamma_log_likelihood(point, frequency, spend)

    expected = [_reference_gamma_gamma_ll(*point, *c) for c in customers]
    np.testing.assert_allclose(ll, expected, rtol=1e-10, atol=1e-12)


def test_bgnbd_mle_recovers_the_simulated_parameters(simulated):
    summary, _, _ = simulated

    fitted = fit_bgnbd(summary)

    # 20,000 customers: r and alpha within ~3 standard errors; a and b are less well identified
    assert fitted.r == pytest.approx(TRUE_BG.r, rel=0.10)
    assert fitted.alpha == pytest.approx(TRUE_BG.alpha, rel=0.15)
    assert fitted.a == pytest.approx(TRUE_BG.a, rel=0.20)
    assert fitted.b == pytest.approx(TRUE_BG.b, rel=0.25)
    reference_total = sum(
        _reference_bgnbd_ll(fitted.r, fitted.alpha, fitted.a, fitted.b, *row)
        for row in summary[["frequency", "recency", "T"]].itertuples(index=False)
    )
    assert fitted.log_likelihood == pytest.approx(reference_total, rel=1e-9)


def test_bgnbd_fit_is_a_maximum_and_units_are_days(simulated):
    summary, _, _ = simulated
    fitted = fit_bgnbd(summary)
    best = (fitted.r, fitted.alpha, fitted.a, fitted.b)
    x, t_x, age = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))

    at_best = bgnbd_log_likelihood(best, x, t_x, age).sum()

    for i in range(4):
        for factor in (0.97, 1.03):
            moved = list(best)
            moved[i] *= factor
            assert bgnbd_log_likelihood(tuple(moved), x, t_x, age).sum() < at_best
    in_weeks = summary.assign(recency=summary["recency"] / 7, T=summary["T"] / 7)
    assert fit_bgnbd(in_weeks).alpha == pytest.approx(fitted.alpha / 7, rel=1e-3)


def test_probability_alive_is_a_probability_that_falls_with_the_recency_gap():
    recency = np.linspace(100.0, 0.0, 21)  # the gap T - recency grows from 0 to 100 days

    alive = probability_alive(TRUE_BG, np.full(21, 3.0), recency, np.full(21, 100.0))

    assert np.all((alive > 0) & (alive < 1))
    assert np.all(np.diff(alive) < 0)
    assert probability_alive(TRUE_BG, np.array([0.0]), np.array([0.0]), np.array([50.0])) == [1.0]
    # x = 3, no gap: 1 / (1 + a / (b + x - 1)) = 1 / (1 + 1.5 / 6)
    assert alive[0] == pytest.approx(0.8)


def test_probability_alive_matches_the_simulated_share_alive(simulated):
    summary, alive_at_age, _ = simulated
    repeaters = summary["frequency"].to_numpy() > 0

    alive = probability_alive(TRUE_BG, summary["frequency"], summary["recency"], summary["T"])

    assert alive[~repeaters].tolist() == [1.0] * int((~repeaters).sum())
    assert alive_at_age[~repeaters].all()
    assert alive[repeaters].mean() == pytest.approx(alive_at_age[repeaters].mean(), abs=0.02)


def test_expected_purchases_match_simulated_holdout_purchases(simulated):
    summary, _, holdout = simulated
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]

    expected = expected_purchases(TRUE_BG, HOLDOUT_DAYS, x, t_x, age)

    assert expected.sum() == pytest.approx(holdout.sum(), rel=0.05)
    for group in (x == 0, (x >= 1) & (x <= 2), x >= 3):
        mask = group.to_numpy()
        assert expected[mask].sum() == pytest.approx(holdout[mask].sum(), rel=0.10)
    assert expected_purchases(TRUE_BG, 0.0, x[:5], t_x[:5], age[:5]).tolist() == [0.0] * 5
    longer = expected_purchases(TRUE_BG, 2 * HOLDOUT_DAYS, x, t_x, age)
    assert np.all(longer > expected)


def test_expected_purchases_hold_for_a_below_one_and_at_one():
    low_a = BgNbdParams(r=0.25, alpha=10.0, a=0.8, b=2.5, log_likelihood=float("nan"))
    summary, _, holdout = _simulate_bgnbd(20_000, low_a, seed=5)
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]

    expected = expected_purchases(low_a, HOLDOUT_DAYS, x, t_x, age)

    assert expected.sum() == pytest.approx(holdout.sum(), rel=0.05)
    at_one = dataclasses.replace(low_a, a=1.0)
    near_one = [dataclasses.replace(low_a, a=1.0 + d) for d in (-1e-4, 1e-4)]
    values = [expected_purchases(p, HOLDOUT_DAYS, x, t_x, age) for p in (at_one, *near_one)]
    assert np.all(np.isfinite(values[0]))
    np.testing.assert_allclose(values[0], (values[1] + values[2]) / 2, rtol=1e-6)


def test_gamma_gamma_mle_recovers_the_simulated_parameters():
    summary = _simulate_gamma_gamma(20_000, TRUE_GG, seed=3)
    zero_rows = pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]})

    fitted = fit_gamma_gamma(pd.concat([summary, zero_rows], ignore_index=True))

    # p and v trade off against each other (the mean spend is p v / (q - 1)); q is sharp
    assert fitted.p == pytest.approx(TRUE_GG.p, rel=0.20)
    assert fitted.q == pytest.approx(TRUE_GG.q, rel=0.05)
    assert fitted.v == pytest.approx(TRUE_GG.v, rel=0.20)
    assert fitted.p * fitted.v / (fitted.q - 1) == pytest.approx(30.0, rel=0.03)
    assert fitted == fit_gamma_gamma(summary)  # customers without repeat spend are ignored


def test_expected_average_value_shrinks_towards_the_population_mean():
    values = expected_average_value(TRUE_GG, np.array([0, 2, 1000]), np.array([0.0, 40.0, 40.0]))

    # x = 0: p v / (q - 1) = 30; x = 2: 6 (15 + 80) / (12 + 4 - 1) = 38
    assert values[:2].tolist() == pytest.approx([30.0, 38.0])
    assert values[2] == pytest.approx(40.0, rel=1e-3)
    with pytest.raises(ValueError, match="q > 1"):
        expected_average_value(GammaGammaParams(p=1.0, q=1.0, v=1.0), np.ones(1), np.ones(1))


def test_predicted_clv_discounts_monthly_increments():
    summary = pd.DataFrame(
        {
            "frequency": [0.0, 2.0, 8.0],
            "recency": [0.0, 50.0, 170.0],
            "T": [60.0, 90.0, 180.0],
            "monetary_value": [0.0, 40.0, 25.0],
        },
        index=[10, 11, 12],
    )
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]
    spend = expected_average_value(TRUE_GG, x, summary["monetary_value"])
    by_month = [expected_purchases(TRUE_BG, m * DAYS_PER_MONTH, x, t_x, age) for m in (1, 2, 3)]

    one_month = predicted_clv(TRUE_BG, TRUE_GG, summary, months=1, discount_rate_monthly=0.0)
    three_months = predicted_clv(TRUE_BG, TRUE_GG, summary, months=3, discount_rate_monthly=0.02)

    assert one_month.index.tolist() == [10, 11, 12]
    assert one_month.name == "predicted_clv"
    np.testing.assert_allclose(one_month, by_month[0] * spend, rtol=1e-12)
    increments = [by_month[0], by_month[1] - by_month[0], by_month[2] - by_month[1]]
    discounted = sum(inc / 1.02 ** (i + 1) for i, inc in enumerate(increments))
    np.testing.assert_allclose(three_months, discounted * spend, rtol=1e-12)
    twelve = predicted_clv(TRUE_BG, TRUE_GG, summary)
    assert np.all(twelve > three_months)


def test_fits_reject_data_without_repeat_purchases():
    summary = pd.DataFrame(
        {"frequency": [0, 0], "recency": [0.0, 0.0], "T": [5.0, 9.0], "monetary_value": [0.0, 0.0]}
    )
    with pytest.raises(ValueError, match="repeat purchase"):
        fit_bgnbd(summary)
    with pytest.raises(ValueError, match="repeat spend"):
        fit_gamma_gamma(summary)
    with pytest.raises(ValueError, match="recency <= T"):
        fit_bgnbd(summary.assign(frequency=[1, 1], recency=[6.0, 1.0]))
