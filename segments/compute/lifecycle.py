"""Compute layer: lifecycle stage (prospect/new/active/loyal/at_risk/lapsed) per customer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns
from segments.compute.rfm import (
    FIRST_ORDER_AT,
    FREQUENCY,
    LAST_ORDER_AT,
    PROFILE_ID,
    as_utc_timestamp,
    check_utc_column,
)

PROSPECT = "prospect"
NEW = "new"
ACTIVE = "active"
LOYAL = "loyal"
AT_RISK = "at_risk"
LAPSED = "lapsed"
STAGES = (PROSPECT, NEW, ACTIVE, LOYAL, AT_RISK, LAPSED)
LIFECYCLE_STAGE = "lifecycle_stage"
LIFECYCLE_COLUMNS = (PROFILE_ID, FREQUENCY, FIRST_ORDER_AT, LAST_ORDER_AT)


@dataclass(frozen=True, kw_only=True)
class LifecycleThresholds:
    """Day and order-count boundaries of the lifecycle stages (see lifecycle_stages)."""

    new_days: int = 30
    active_days: int = 90
    lapsed_days: int = 180
    loyal_min_orders: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.new_days <= self.active_days < self.lapsed_days:
            raise ValueError("need 0 < new_days <= active_days < lapsed_days")
        if self.loyal_min_orders < 2:
            raise ValueError("loyal_min_orders must be at least 2")


def lifecycle_stages(
    rfm_frame: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    thresholds: LifecycleThresholds | None = None,
) -> pd.Series:
    """Lifecycle stage of each row of a customer_rfm-shaped frame; same index, name
    ``lifecycle_stage``.

    To include prospects, left-join every profile onto the RFM frame: a row whose frequency is
    0 or missing, or whose last_order_at is NaT, is a prospect. With
    ``since_first = as_of - first_order_at`` and ``since_last = as_of - last_order_at`` as exact
    time spans, the first matching rule wins:

    1. ``prospect``: no completed order.
    2. ``lapsed``:   since_last >  lapsed_days.
    3. ``at_risk``:  since_last >  active_days (and <= lapsed_days).
    4. ``new``:      since_first <= new_days (first order recent; beats loyal).
    5. ``loyal``:    frequency >= loyal_min_orders (and since_last <= active_days).
    6. ``active``:   everything else (an order within active_days).

    Raises MissingColumnsError, or ValueError for a naive `as_of` or an order after `as_of`.
    """
    require_columns(rfm_frame, LIFECYCLE_COLUMNS)
    as_of = as_utc_timestamp(as_of)
    limits = thresholds or LifecycleThresholds()
    for column in (FIRST_ORDER_AT, LAST_ORDER_AT):
        check_utc_column(rfm_frame, column)
    first = rfm_frame[FIRST_ORDER_AT]
    last = rfm_frame[LAST_ORDER_AT]
    if bool((last > as_of).any()) or bool((first > as_of).any()):
        raise ValueError("rfm_frame has orders after as_of")
    frequency = rfm_frame[FREQUENCY].fillna(0).to_numpy(dtype=np.float64)
    since_first = as_of - first
    since_last = as_of - last
    is_prospect = (frequency <= 0) | last.isna().to_numpy()
    day = pd.Timedelta(days=1)
    conditions = [
        is_prospect,
        (since_last > limits.lapsed_days * day).to_numpy(dtype=bool, na_value=False),
        (since_last > limits.active_days * day).to_numpy(dtype=bool, na_value=False),
        (since_first <= limits.new_days * day).to_numpy(dtype=bool, na_value=False),
        frequency >= limits.loyal_min_orders,
    ]
    stages = np.select(conditions, [PROSPECT, LAPSED, AT_RISK, NEW, LOYAL], default=ACTIVE)
    return pd.Series(stages, index=rfm_frame.index, name=LIFECYCLE_STAGE, dtype="str")
