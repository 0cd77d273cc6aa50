"""Segments services (ML): predicted customer lifetime value — BG/NBD (how many repeat purchases,
probability of being alive) and Gamma-Gamma (how much per purchase), fitted by maximum
likelihood on every customer's purchase summary, checked on a held-out period, and written to
the profiles as a 12-month CLV score."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.utils import timezone

import numpy as np
import pandas as pd
import sklearn

from cdp.core.errors import InvalidInputError
from segments.compute import clv
from segments.compute.rfm import COMPLETED, PLACED_AT, PROFILE_ID, STATUS
from segments.models import ModelRun, PredictiveModel
from segments.selectors.ml_features import midnight_before, orders_frame, profile_id_ranges

from .runs import RunProgress
from .scores import scores_write

HOLDOUT_DAYS = 180
DAYS_PER_YEAR = 365.25


def _holdout_purchases(orders: pd.DataFrame, *, start: datetime, end: datetime) -> pd.Series:
    """Distinct purchase days per profile in [start, end) (BG/NBD counts days)."""
    placed = orders[PLACED_AT]
    window = orders.loc[
        (orders[STATUS] == COMPLETED)
        & (placed >= pd.Timestamp(start))
        & (placed < pd.Timestamp(end))
    ]
    days = window.assign(day=window[PLACED_AT].dt.floor("D"))
    return days.groupby(PROFILE_ID)["day"].nunique().astype("float64")


def read_summaries(
    *, now: datetime, report: Any
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, datetime]:
    """(summary at now, summary at the holdout cutoff, actual purchase days after the cutoff,
    the cutoff), built profile range by profile range from completed orders."""
    cutoff = midnight_before(now, days_back=HOLDOUT_DAYS)
    now_parts: list[pd.DataFrame] = []
    past_parts: list[pd.DataFrame] = []
    actual_parts: list[pd.Series] = []
    ranges = list(profile_id_ranges())
    stamp = pd.Timestamp(now)
    for number, (low, high) in enumerate(ranges, start=1):
        orders = orders_frame(low=low, high=high, until=now)
        now_parts.append(clv.summary_from_orders(orders, as_of=stamp))
        past_parts.append(clv.summary_from_orders(orders, as_of=pd.Timestamp(cutoff)))
        actual_parts.append(_holdout_purchases(orders, start=cutoff, end=now))
        report(f"reading orders ({number}/{len(ranges)})", number / len(ranges))
    if not now_parts:
        raise InvalidInputError("There are no customers yet.")
    return (
        pd.concat(now_parts, ignore_index=True),
        pd.concat(past_parts, ignore_index=True),
        pd.concat(actual_parts) if actual_parts else pd.Series(dtype="float64"),
        cutoff,
    )


def holdout_metrics(
    past: pd.DataFrame, actual: pd.Series, *, days: int = HOLDOUT_DAYS
) -> dict[str, float]:
    """Fit BG/NBD on the summary at the cutoff and compare its expected purchases in the next
    `days` with what each customer then did: MAE, RMSE, correlation, totals."""
    params = clv.fit_bgnbd(past)
    expected = clv.expected_purchases(
        params, days, past[clv.FREQUENCY], past[clv.RECENCY], past[clv.AGE]
    )
    observed = actual.reindex(past[PROFILE_ID]).fillna(0.0).to_numpy()
    error = expected - observed
    correlation = (
        float(np.corrcoef(expected, observed)[0, 1])
        if len(observed) > 1 and observed.std() > 0 and expected.std() > 0
        else 0.0
    )
    return {
        "holdout_days": float(days),
        "holdout_customers": float(len(observed)),
        "holdout_mae": float(np.abs(error).mean()),
        "holdout_rmse": float(np.sqrt((error**2).mean())),
        "holdout_correlation": correlation,
        "holdout_expected_total": float(expected.sum()),
        "holdout_actual_total": float(observed.sum()),
    }


def clv_run_execute(*, run: ModelRun, progress: RunProgress) -> None:
    """Fit BG/NBD and Gamma-Gamma on all customers, check them on the held-out period, and
    write each customer's discounted CLV over `clv_months`, P(alive) and expected purchases.

    Raises InvalidInputError without customers, ValueError when a fit cannot converge or the
    data has no repeat purchases (the caller records it on the run).
    """
    model = PredictiveModel.objects.get(pk=run.predictive_model_id)
    now = timezone.now()
    summary, past, actual, cutoff = read_summaries(now=now, report=progress.span(0.0, 0.4))
    progress("fitting BG/NBD and Gamma-Gamma (maximum likelihood)", 0.45)
    bg = clv.fit_bgnbd(summary)
    gg = clv.fit_gamma_gamma(summary)
    progress("checking on the held-out period", 0.6)
    metrics = holdout_metrics(past, actual) if (past[clv.FREQUENCY] > 0).any() else {}
    months = model.clv_months
    values = clv.predicted_clv(
        bg, gg, summary, months=months, discount_rate_monthly=model.clv_discount_monthly
    )
    frequency, recency, age = (summary[c] for c in (clv.FREQUENCY, clv.RECENCY, clv.AGE))
    alive = clv.probability_alive(bg, frequency, recency, age)
    horizon = months * DAYS_PER_YEAR / 12
    expected = clv.expected_purchases(bg, horizon, frequency, recency, age)
    run.spec = {
        "target": model.target,
        "months": months,
        "discount_rate_monthly": model.clv_discount_monthly,
        "holdout_cutoff": cutoff.isoformat(),
    }
    run.params = {"bgnbd": asdict(bg), "gamma_gamma": asdict(gg)}
    run.metrics = {
        **metrics,
        "customers": float(len(summary)),
        "repeat_customers": float((summary[clv.FREQUENCY] > 0).sum()),
        "mean_predicted_clv": float(values.mean()),
        "mean_probability_alive": float(alive.mean()),
    }
    run.diagnostics = {"clv_deciles": _decile_means(values.to_numpy())}
    run.sklearn_version = sklearn.__version__
    run.n_rows = len(summary)
    run.previous_run = model.active_run
    run.save()
    progress("writing predicted CLV to the profiles", 0.8)
    scores_write(
        model_id=model.pk,
        run_id=run.pk,
        profile_ids=summary[PROFILE_ID].to_numpy(),
        scores=values.to_numpy(),
        probability_alive=np.asarray(alive),
        expected_purchases=np.asarray(expected),
        now=now,
    )
    PredictiveModel.objects.filter(pk=model.pk).update(active_run=run, updated_at=now)


def _decile_means(values: np.ndarray) -> list[float]:
    """Mean predicted CLV per decile (1 = highest), for the run page."""
    if not len(values):
        return []
    ordered = np.sort(values)[::-1]
    return [float(part.mean()) for part in np.array_split(ordered, 10) if len(part)]
