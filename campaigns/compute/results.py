"""Campaigns compute layer: a campaign's results from one row per assigned person — per-arm
reach, conversion and revenue, comparisons with the control (z-test, Welch, CUPED, Bayes),
the SRM check, and cumulative conversion series for charts. JSON-ready output."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from campaigns.compute.assignment import HOLDOUT
from campaigns.compute.stats import (
    ArmStats,
    cuped_mean_uplift,
    experiment_report,
    summary_from_sums,
)
from cdp.core.frames import require_columns

ARM = "arm"
CONVERTED = "converted"
REVENUE = "revenue"
PRE_REVENUE = "pre_revenue"
PRE_ORDERS = "pre_orders"
ASSIGNED_AT = "assigned_at"
CONVERTED_AT = "converted_at"
RESULT_COLUMNS = (ARM, CONVERTED, REVENUE, PRE_REVENUE, PRE_ORDERS, ASSIGNED_AT, CONVERTED_AT)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return None  # arrays (e.g. CUPED-adjusted values) stay out of reports
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def control_arm(arms: Sequence[str]) -> str:
    """The holdout when there is one, else the first variant in key order."""
    return HOLDOUT if HOLDOUT in arms else sorted(arms)[0]


def _arm_stats(frame: pd.DataFrame, arms: Sequence[str]) -> list[ArmStats]:
    stats = []
    for arm in arms:
        rows = frame[frame[ARM] == arm]
        n = len(rows)
        revenue = rows[REVENUE].to_numpy(dtype=np.float64)
        mean = variance = None
        if n >= 2:
            summary = summary_from_sums(n, float(revenue.sum()), float((revenue**2).sum()))
            mean, variance = summary.mean, summary.variance
        stats.append(
            ArmStats(
                key=arm,
                n=n,
                conversions=int(rows[CONVERTED].sum()),
                revenue_mean=mean,
                revenue_variance=variance,
            )
        )
    return stats


def _cuped(frame: pd.DataFrame, control: str, arm: str) -> dict[str, Any] | None:
    base = frame[frame[ARM] == control]
    treated = frame[frame[ARM] == arm]
    if len(base) < 2 or len(treated) < 2:
        return None
    found: dict[str, Any] = {}
    for metric, covariate in ((CONVERTED, PRE_ORDERS), (REVENUE, PRE_REVENUE)):
        result = cuped_mean_uplift(
            base[metric].to_numpy(dtype=np.float64),
            base[covariate].to_numpy(dtype=np.float64),
            treated[metric].to_numpy(dtype=np.float64),
            treated[covariate].to_numpy(dtype=np.float64),
        )
        found[metric] = _jsonable(result)
    return found


def _series(frame: pd.DataFrame, arms: Sequence[str]) -> dict[str, Any]:
    """Cumulative conversion rate per arm by day of assignment/conversion."""
    if frame.empty:
        return {"days": [], "arms": {arm: [] for arm in arms}}
    assigned_day = pd.to_datetime(frame[ASSIGNED_AT], utc=True).dt.floor("D")
    converted_day = pd.to_datetime(frame[CONVERTED_AT], utc=True).dt.floor("D")
    last = max(
        assigned_day.max(),
        converted_day.max() if converted_day.notna().any() else assigned_day.max(),
    )
    days = pd.date_range(assigned_day.min(), last, freq="D")
    series: dict[str, list[float | None]] = {}
    for arm in arms:
        mask = frame[ARM] == arm
        reached = assigned_day[mask].value_counts().reindex(days, fill_value=0).cumsum()
        converted = converted_day[mask].dropna().value_counts().reindex(days, fill_value=0).cumsum()
        rates = np.where(reached > 0, converted / reached.where(reached > 0, 1), np.nan)
        series[arm] = [None if math.isnan(rate) else round(float(rate), 6) for rate in rates]
    return {"days": [day.date().isoformat() for day in days], "arms": series}


def campaign_results(
    frame: pd.DataFrame,
    *,
    arms: Sequence[str],
    expected_shares: Mapping[str, float],
    min_per_arm: int,
    min_conversions: int = 10,
) -> dict[str, Any]:
    """Results of one campaign as a JSON-ready dict (see docs/campaigns.md).

    `frame` has one row per assigned person (RESULT_COLUMNS; converted is 0/1, money in
    the base currency, converted_at NaT when not converted). Statistics appear once every
    arm has at least 2 people; `has_enough_data` stays False until each arm reaches
    `min_per_arm` people and `min_conversions` converters and non-converters.
    """
    require_columns(frame, set(RESULT_COLUMNS))
    control = control_arm(arms)
    stats = _arm_stats(frame, arms)
    by_arm = {item.key: item for item in stats}
    report: dict[str, Any] = {
        "control": control,
        "arms": [_jsonable(item) for item in stats],
        "total": len(frame),
        "series": _series(frame, arms),
        "comparisons": [],
        "srm": None,
        "has_enough_data": False,
    }
    if len(arms) < 2 or any(by_arm[arm].n < 2 for arm in arms):
        return report
    full = experiment_report(
        stats,
        control_key=control,
        min_per_arm=min_per_arm,
        min_conversions=min_conversions,
        expected_shares=dict(expected_shares),
    )
    report["has_enough_data"] = full.has_enough_data
    report["srm"] = _jsonable(full.srm)
    report["comparisons"] = [
        {**_jsonable(item), "cuped": _cuped(frame, control, item.key)} for item in full.comparisons
    ]
    return report
