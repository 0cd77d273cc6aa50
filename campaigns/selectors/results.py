"""Campaigns selectors: per-person outcome rows of a campaign (conversion, revenue in the
attribution window, pre-period behaviour) computed in SQL, send counts, and snapshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate

import pandas as pd

from campaigns.compute.results import RESULT_COLUMNS
from campaigns.models import Assignment, Campaign, ResultSnapshot, Send
from profiles import public as profiles_public

PRE_PERIOD = timedelta(days=30)
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _shifted(reference: str, delta: timedelta) -> ExpressionWrapper:
    return ExpressionWrapper(OuterRef(reference) + Value(delta), output_field=DateTimeField())


def _orders_sum(start: Any, end: Any, *, count: bool = False) -> Coalesce:
    orders = (
        profiles_public.orders_qs()
        .filter(profile_id=OuterRef("profile_id"), status="completed")
        .filter(placed_at__gte=start, placed_at__lt=end)
        .order_by()
        .values("profile_id")
    )
    if count:
        total = orders.annotate(value=Count("pk")).values("value")
        return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))
    total = orders.annotate(value=Sum("total_base")).values("value")
    return Coalesce(Subquery(total, output_field=_MONEY), Value(0), output_field=_MONEY)


def outcome_rows_qs(campaign: Campaign) -> QuerySet[Assignment]:
    """One row per assigned (not erased) person: arm, assigned_at, first goal event in the
    window (time and id), revenue in the window and in the 30 days before assignment."""
    window = timedelta(hours=campaign.attribution_window_hours)
    goal = (
        profiles_public.events_qs()
        .filter(
            profile_id=OuterRef("profile_id"),
            event=campaign.goal_event,
            timestamp__gte=OuterRef("assigned_at"),
            timestamp__lt=_shifted("assigned_at", window),
        )
        .order_by("timestamp", "pk")
    )
    return (
        Assignment.objects.filter(campaign=campaign, profile_id__isnull=False)
        .annotate(
            converted_at=Subquery(goal.values("timestamp")[:1]),
            goal_event_id=Subquery(goal.values("pk")[:1]),
            revenue=_orders_sum(OuterRef("assigned_at"), _shifted("assigned_at", window)),
            pre_revenue=_orders_sum(_shifted("assigned_at", -PRE_PERIOD), OuterRef("assigned_at")),
            pre_orders=_orders_sum(
                _shifted("assigned_at", -PRE_PERIOD), OuterRef("assigned_at"), count=True
            ),
        )
        .order_by("pk")
    )


def outcome_frame(campaign: Campaign) -> tuple[pd.DataFrame, list[tuple[int, str, Any, int]]]:
    """The outcome rows as a DataFrame (campaigns.compute.results columns), and the
    (profile, arm, converted_at, event id) of converters."""
    records = []
    converters = []
    rows = outcome_rows_qs(campaign).values_list(
        "profile_id",
        "arm",
        "assigned_at",
        "converted_at",
        "goal_event_id",
        "revenue",
        "pre_revenue",
        "pre_orders",
    )
    for profile_id, arm, assigned_at, converted_at, event_id, revenue, pre, orders in rows.iterator(
        chunk_size=20_000
    ):
        records.append(
            (
                arm,
                int(converted_at is not None),
                float(revenue or 0),
                float(pre or 0),
                int(orders or 0),
                assigned_at,
                converted_at,
            )
        )
        if converted_at is not None:
            converters.append((profile_id, arm, converted_at, event_id))
    frame = pd.DataFrame.from_records(records, columns=list(RESULT_COLUMNS))
    return frame, converters


def send_counts(campaign: Campaign) -> dict[str, dict[str, int]]:
    """Per arm: rows by status, and skips by reason ("skipped:<reason>")."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        Send.objects.filter(campaign=campaign)
        .values("arm", "status", "reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        arm = counts.setdefault(row["arm"], {})
        arm[row["status"]] = arm.get(row["status"], 0) + row["n"]
        if row["status"] == Send.Status.SKIPPED:
            key = f"skipped:{row['reason']}"
            arm[key] = arm.get(key, 0) + row["n"]
    return counts


def sends_by_day(campaign: Campaign) -> dict[str, Any]:
    """Sent messages per day (for the bar chart)."""
    rows = (
        Send.objects.filter(campaign=campaign, status=Send.Status.SENT)
        .annotate(day=TruncDate("sent_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    return {
        "days": [row["day"].isoformat() for row in rows],
        "sent": [row["n"] for row in rows],
    }


def snapshot_latest(*, campaign_id: int) -> ResultSnapshot | None:
    return ResultSnapshot.objects.filter(campaign_id=campaign_id).order_by("-computed_at").first()


def snapshots_qs(*, campaign_id: int) -> QuerySet[ResultSnapshot]:
    return ResultSnapshot.objects.filter(campaign_id=campaign_id).order_by("computed_at")
