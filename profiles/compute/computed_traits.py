"""Compute layer: the built-in computed traits — names, types, meaning — and the per-profile
arithmetic on SQL aggregates (rates, velocity, engagement score), vectorised with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

STRING, NUMBER, DATE = "string", "number", "date"

# name -> (type, what it is). Stored columns of profiles.ComputedTraits.
STORED_TRAITS: dict[str, tuple[str, str]] = {
    "first_seen_at": (DATE, "First event"),
    "last_seen_at": (DATE, "Latest event"),
    "first_order_at": (DATE, "First completed order"),
    "last_order_at": (DATE, "Latest completed order"),
    "orders_count": (NUMBER, "Completed orders, all time (frequency)"),
    "lifetime_value": (NUMBER, "Revenue of completed orders, all time (base currency)"),
    "average_order_value": (NUMBER, "Lifetime value / orders"),
    "orders_30d": (NUMBER, "Completed orders, last 30 days"),
    "orders_90d": (NUMBER, "Completed orders, last 90 days"),
    "orders_365d": (NUMBER, "Completed orders, last 365 days"),
    "revenue_30d": (NUMBER, "Revenue, last 30 days (monetary)"),
    "revenue_90d": (NUMBER, "Revenue, last 90 days (monetary)"),
    "revenue_365d": (NUMBER, "Revenue, last 365 days (monetary)"),
    "purchase_velocity": (NUMBER, "Orders per 30 days since the first order"),
    "favourite_category": (STRING, "Most ordered category"),
    "sessions_30d": (NUMBER, "Web sessions, last 30 days"),
    "avg_session_seconds": (NUMBER, "Average session duration (s), last 30 days"),
    "pages_per_session": (NUMBER, "Pages per visit, last 30 days"),
    "cart_abandonments_30d": (NUMBER, "Checkouts started without an order within an hour"),
    "email_opens_90d": (NUMBER, "Emails opened, last 90 days"),
    "email_clicks_90d": (NUMBER, "Email clicks, last 90 days"),
    "email_open_rate": (NUMBER, "Opens / deliveries, last 90 days"),
    "email_click_rate": (NUMBER, "Clicks / opens (click-to-open), last 90 days"),
    "engagement_score": (NUMBER, "0–100 blend of visit recency, sessions, orders and email"),
    "lifecycle_stage": (STRING, "prospect, new, active, loyal, at_risk, lapsed"),
    "r_score": (NUMBER, "RFM recency score 1–5 (quantile)"),
    "f_score": (NUMBER, "RFM frequency score 1–5 (quantile)"),
    "m_score": (NUMBER, "RFM monetary score 1–5 (quantile)"),
    "rfm_segment": (STRING, "RFM segment (Champions, Loyal, …)"),
}
# name -> (stored date column, what it is): days from that column to now, computed in SQL at
# evaluation time so they never go stale.
DERIVED_TRAITS: dict[str, tuple[str, str]] = {
    "recency_days": ("last_order_at", "Days since the latest completed order"),
    "days_since_last_seen": ("last_seen_at", "Days since the latest event"),
}
# Ranked against every profile by a nightly job: not real-time.
BATCH_TRAITS = frozenset({"r_score", "f_score", "m_score", "rfm_segment"})
ORDER_WINDOWS = (30, 90, 365)
SESSION_GAP_SECONDS = 30 * 60
SESSION_WINDOW_DAYS = 30
EMAIL_WINDOW_DAYS = 90
CART_WINDOW_DAYS = 30
CART_GRACE_SECONDS = 3_600

AGGREGATE_COLUMNS = (
    "profile_id",
    "last_seen_at",
    "orders_count",
    "lifetime_value",
    "first_order_at",
    "orders_90d",
    "sessions_30d",
    "page_views_30d",
    "email_delivered_90d",
    "email_opens_90d",
    "email_clicks_90d",
)
_WEIGHTS = {"visit": 0.3, "sessions": 0.25, "orders": 0.25, "email": 0.2}
_CAPS = {"sessions": 8.0, "orders": 3.0, "email_clicks": 4.0}
_VISIT_HALF_LIFE_DAYS = 14.0


def builtin_trait_types() -> dict[str, str]:
    """Every built-in computed trait (stored and derived) with its type."""
    types = {name: kind for name, (kind, _) in STORED_TRAITS.items()}
    types.update(dict.fromkeys(DERIVED_TRAITS, NUMBER))
    return types


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    return (num / den.where(den > 0)).astype("float64")


def derive_traits(aggregates: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Rates, averages, velocity and the engagement score from per-profile SQL aggregates.

    `aggregates` has AGGREGATE_COLUMNS (counts may be 0; dates NaT when absent). Returns a new
    frame with profile_id, average_order_value, purchase_velocity, pages_per_session,
    email_open_rate, email_click_rate and engagement_score; NaN where a ratio is undefined.
    Engagement (0–100) = 30 × visit recency (halving every 14 days) + 25 × sessions (capped at
    8) + 25 × orders in 90 days (capped at 3) + 20 × email clicks (capped at 4), each scaled 0–1.
    """
    require_columns(aggregates, AGGREGATE_COLUMNS)
    frame = aggregates
    out = pd.DataFrame({"profile_id": frame["profile_id"].astype("int64")}, index=frame.index)
    out["average_order_value"] = _ratio(frame["lifetime_value"], frame["orders_count"]).round(2)
    first = pd.to_datetime(frame["first_order_at"], utc=True)
    months = ((as_of - first).dt.total_seconds() / (30 * 86_400)).clip(lower=1.0)
    out["purchase_velocity"] = (frame["orders_count"].astype("float64") / months).where(
        frame["orders_count"] > 0
    )
    out["pages_per_session"] = _ratio(frame["page_views_30d"], frame["sessions_30d"])
    out["email_open_rate"] = _ratio(frame["email_opens_90d"], frame["email_delivered_90d"]).clip(
        upper=1.0
    )
    out["email_click_rate"] = _ratio(frame["email_clicks_90d"], frame["email_opens_90d"]).clip(
        upper=1.0
    )
    last_seen = pd.to_datetime(frame["last_seen_at"], utc=True)
    idle_days = ((as_of - last_seen).dt.total_seconds() / 86_400).clip(lower=0.0)
    visit = np.power(0.5, idle_days / _VISIT_HALF_LIFE_DAYS).fillna(0.0)
    sessions = (frame["sessions_30d"].astype("float64") / _CAPS["sessions"]).clip(upper=1.0)
    orders = (frame["orders_90d"].astype("float64") / _CAPS["orders"]).clip(upper=1.0)
    email = (frame["email_clicks_90d"].astype("float64") / _CAPS["email_clicks"]).clip(upper=1.0)
    score = 100 * (
        _WEIGHTS["visit"] * visit
        + _WEIGHTS["sessions"] * sessions
        + _WEIGHTS["orders"] * orders
        + _WEIGHTS["email"] * email
    )
    out["engagement_score"] = score.round(2).astype("float64")
    return out
