"""Compute layer: RFM (recency, frequency, monetary) per customer, quantile scores and segments.

Orders frame (``ORDER_COLUMNS``): one row per order with ``profile_id`` (int64), ``placed_at``
(tz-aware UTC datetime64), ``total`` (float, base currency) and ``status``; only rows whose
status is ``"completed"`` count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

PROFILE_ID = "profile_id"
PLACED_AT = "placed_at"
TOTAL = "total"
STATUS = "status"
COMPLETED = "completed"
ORDER_COLUMNS = (PROFILE_ID, PLACED_AT, TOTAL, STATUS)

RECENCY_DAYS = "recency_days"
FREQUENCY = "frequency"
MONETARY = "monetary"
FIRST_ORDER_AT = "first_order_at"
LAST_ORDER_AT = "last_order_at"
AOV = "aov"
RFM_COLUMNS = (PROFILE_ID, RECENCY_DAYS, FREQUENCY, MONETARY, FIRST_ORDER_AT, LAST_ORDER_AT, AOV)

R_SCORE = "r_score"
F_SCORE = "f_score"
M_SCORE = "m_score"
RFM_CELL = "rfm_cell"
SCORE_COLUMNS = (PROFILE_ID, R_SCORE, F_SCORE, M_SCORE, RFM_CELL)
RFM_SEGMENT = "rfm_segment"

SECONDS_PER_DAY = 86_400.0

CHAMPIONS = "Champions"
LOYAL = "Loyal"
POTENTIAL_LOYALISTS = "Potential loyalists"
NEW = "New"
PROMISING = "Promising"
NEED_ATTENTION = "Need attention"
ABOUT_TO_SLEEP = "About to sleep"
AT_RISK = "At risk"
CANT_LOSE_THEM = "Can't lose them"
HIBERNATING = "Hibernating"
LOST = "Lost"
SEGMENT_NAMES = (
    CHAMPIONS,
    LOYAL,
    POTENTIAL_LOYALISTS,
    NEW,
    PROMISING,
    NEED_ATTENTION,
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANT_LOSE_THEM,
    HIBERNATING,
    LOST,
)

# The R×F grid: row = r_score 1..5, column = f_score 1..5. M does not pick the segment.
#            F=1             F=2                  F=3                  F=4        F=5
SEGMENT_GRID = (
    (LOST, LOST, AT_RISK, AT_RISK, CANT_LOSE_THEM),  # R=1
    (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE_THEM),  # R=2
    (ABOUT_TO_SLEEP, ABOUT_TO_SLEEP, NEED_ATTENTION, LOYAL, LOYAL),  # R=3
    (PROMISING, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, LOYAL, LOYAL),  # R=4
    (NEW, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, CHAMPIONS, CHAMPIONS),  # R=5
)


def as_utc_timestamp(value: pd.Timestamp | str, *, name: str = "as_of") -> pd.Timestamp:
    """Return `value` as a UTC Timestamp; raise ValueError when it is naive (no time zone)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise ValueError(f"{name} must be time-zone aware")
    return stamp.tz_convert("UTC")


def check_utc_column(frame: pd.DataFrame, column: str) -> None:
    """Raise ValueError unless `frame[column]` is a tz-aware datetime64 column."""
    dtype = frame[column].dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        raise ValueError(f"{column} must be a tz-aware datetime64 column, got {dtype}")


def completed_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Return the completed orders only (a new frame with the ORDER_COLUMNS)."""
    require_columns(orders, ORDER_COLUMNS)
    check_utc_column(orders, PLACED_AT)
    return orders.loc[orders[STATUS] == COMPLETED, list(ORDER_COLUMNS)]


def rfm_from_completed(completed: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """RFM of already-filtered completed orders, measured at `as_of` (no time filtering here)."""
    require_columns(completed, (PROFILE_ID, PLACED_AT, TOTAL))
    grouped = completed.groupby(PROFILE_ID, sort=True)
    result = pd.DataFrame(
        {
            FREQUENCY: grouped[PLACED_AT].size().astype("int64"),
            MONETARY: grouped[TOTAL].sum().astype("float64"),
            FIRST_ORDER_AT: grouped[PLACED_AT].min(),
            LAST_ORDER_AT: grouped[PLACED_AT].max(),
        }
    )
    result[RECENCY_DAYS] = (as_of - result[LAST_ORDER_AT]).dt.total_seconds() / SECONDS_PER_DAY
    result[AOV] = result[MONETARY] / result[FREQUENCY]
    result.index.name = PROFILE_ID
    result = result.reset_index()
    result[PROFILE_ID] = result[PROFILE_ID].astype("int64")
    return result[list(RFM_COLUMNS)]


def customer_rfm(orders: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per customer with a completed order placed strictly before `as_of`.

    Columns RFM_COLUMNS: ``recency_days`` = days (fractional) from the last order to `as_of`;
    ``frequency`` = number of completed orders; ``monetary`` = their summed ``total``;
    ``first_order_at`` / ``last_order_at``; ``aov`` = monetary / frequency. Sorted by profile_id.
    Customers without a completed order are absent (see lifecycle for prospects).
    Raises MissingColumnsError or ValueError (naive `as_of` or ``placed_at``).
    """
    require_columns(orders, ORDER_COLUMNS)
    as_of = as_utc_timestamp(as_of)
    completed = completed_orders(orders)
    completed = completed.loc[completed[PLACED_AT] < as_of]
    return rfm_from_completed(completed, as_of=as_of)


def quantile_scores(values: np.ndarray, tie_break: np.ndarray, *, bins: int) -> np.ndarray:
    """Scores 1..bins from ranks: the k-th smallest of n (ties ordered by `tie_break`) gets
    ceil(k * bins / n), i.e. the bin of its rank percentile k/n in ((s-1)/bins, s/bins].
    """
    n = len(values)
    order = np.lexsort((tie_break, values))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(1, n + 1, dtype=np.int64)
    return (ranks * bins + n - 1) // n


def rfm_scores(rfm: pd.DataFrame, *, bins: int = 5) -> pd.DataFrame:
    """Quantile scores 1..`bins` for R, F and M (higher = better), and ``rfm_cell`` like "545".

    Ranked first, then binned: customers are ordered by the value (recency_days descending, so
    the most recent gets the highest r_score; frequency and monetary ascending), ties broken by
    ascending profile_id, and the k-th of n gets ceil(k * bins / n). With n >= bins every score
    is therefore used and bins differ in size by at most one customer, whatever the ties or the
    number of distinct values — at the price that equal values on a bin edge can get adjacent scores
    (deterministically, by profile_id). Rows keep the input order and index.
    Raises MissingColumnsError, or ValueError when bins is not in 1..9.
    """
    require_columns(rfm, (PROFILE_ID, RECENCY_DAYS, FREQUENCY, MONETARY))
    if not 1 <= bins <= 9:
        raise ValueError("bins must be between 1 and 9")
    profile_ids = rfm[PROFILE_ID].to_numpy(dtype=np.int64)
    if len(rfm) == 0:
        scores = np.empty(0, dtype=np.int64)
        r = f = m = scores
    else:
        recency = rfm[RECENCY_DAYS].to_numpy(dtype=np.float64)
        r = quantile_scores(-recency, profile_ids, bins=bins)
        f = quantile_scores(rfm[FREQUENCY].to_numpy(dtype=np.float64), profile_ids, bins=bins)
        m = quantile_scores(rfm[MONETARY].to_numpy(dtype=np.float64), profile_ids, bins=bins)
    cell = r * 100 + f * 10 + m
    return pd.DataFrame(
        {
            PROFILE_ID: profile_ids,
            R_SCORE: r,
            F_SCORE: f,
            M_SCORE: m,
            RFM_CELL: cell.astype(str),
        },
        index=rfm.index,
    )


def rfm_segment(r: int, f: int, m: int) -> str:
    """Segment name of one (r, f, m) cell of 1..5 scores, from SEGMENT_GRID (R×F; m unused).

    R=5: F1 New, F2-3 Potential loyalists, F4-5 Champions.
    R=4: F1 Promising, F2-3 Potential loyalists, F4-5 Loyal.
    R=3: F1-2 About to sleep, F3 Need attention, F4-5 Loyal.
    R=2: F1-2 Hibernating, F3-4 At risk, F5 Can't lose them.
    R=1: F1-2 Lost, F3-4 At risk, F5 Can't lose them.
    Raises ValueError for a score outside 1..5.
    """
    for name, value in (("r", r), ("f", f), ("m", m)):
        if not 1 <= value <= 5:
            raise ValueError(f"{name} score must be between 1 and 5, got {value}")
    return SEGMENT_GRID[r - 1][f - 1]


def rfm_segments(scores: pd.DataFrame) -> pd.Series:
    """Vectorised rfm_segment over an rfm_scores frame (scored with bins=5); same index.

    Raises MissingColumnsError, or ValueError when a score is outside 1..5.
    """
    require_columns(scores, (R_SCORE, F_SCORE, M_SCORE))
    r = scores[R_SCORE].to_numpy(dtype=np.int64)
    f = scores[F_SCORE].to_numpy(dtype=np.int64)
    m = scores[M_SCORE].to_numpy(dtype=np.int64)
    for name, values in (("r", r), ("f", f), ("m", m)):
        if len(values) and (values.min() < 1 or values.max() > 5):
            raise ValueError(f"{name} scores must be between 1 and 5")
    grid = np.array(SEGMENT_GRID, dtype=object)
    names = grid[r - 1, f - 1] if len(r) else np.empty(0, dtype=object)
    return pd.Series(names, index=scores.index, name=RFM_SEGMENT, dtype="str")
