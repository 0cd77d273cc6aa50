"""Profiles services: the SQL aggregates behind computed traits (orders, sessions, cart
abandonment, favourite category, custom traits), each one statement over a profile scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Max,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.fields.json import KT

import pandas as pd

from profiles.compute import computed_traits as spec
from profiles.models import Event, Order
from profiles.models.computed import JsonNumber

if TYPE_CHECKING:
    from .computed_traits import CustomTraitSpec

CHECKOUT_STARTED = "Checkout Started"
ORDER_COMPLETED = "Order Completed"


def _processed(scope: Q) -> Any:
    return Event.objects.filter(scope, status=Event.Status.PROCESSED)


def order_aggregates(scope: Q, now: datetime) -> pd.DataFrame:
    """Completed orders per profile: count, value, first/last, and per window."""
    windows: dict[str, Any] = {}
    for days in spec.ORDER_WINDOWS:
        since = now - timedelta(days=days)
        windows[f"orders_{days}d"] = Count("pk", filter=Q(placed_at__gte=since))
        windows[f"revenue_{days}d"] = Sum("total_base", filter=Q(placed_at__gte=since))
    rows = (
        Order.objects.filter(scope, status=Order.Status.COMPLETED)
        .values("profile_id")
        .annotate(
            orders_count=Count("pk"),
            lifetime_value=Sum("total_base"),
            first_order_at=Min("placed_at"),
            last_order_at=Max("placed_at"),
            **windows,
        )
        .order_by()
    )
    columns = [
        "profile_id",
        "orders_count",
        "lifetime_value",
        "first_order_at",
        "last_order_at",
        *windows,
    ]
    return pd.DataFrame.from_records(list(rows.values_list(*columns)), columns=columns)


def _epoch(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


def session_aggregates(scope: Q, now: datetime) -> pd.DataFrame:
    """Sessions of the last 30 days per profile: page/screen views with gaps of at most 30
    minutes form one session; its duration is last view minus first view. Window functions
    (LAG, running SUM) on PostgreSQL and SQLite alike."""
    views = _processed(scope).filter(
        type__in=("page", "screen"),
        timestamp__gte=now - timedelta(days=spec.SESSION_WINDOW_DAYS),
    )
    inner, params = views.values("profile_id", "timestamp").order_by().query.sql_with_params()
    gap = spec.SESSION_GAP_SECONDS
    sql = f"""
        SELECT profile_id, COUNT(*) AS sessions, AVG(duration) AS average_seconds FROM (
          SELECT profile_id, session_no, MAX(epoch) - MIN(epoch) AS duration FROM (
            SELECT profile_id, epoch, SUM(is_start) OVER (
              PARTITION BY profile_id ORDER BY epoch ROWS UNBOUNDED PRECEDING) AS session_no
            FROM (
              SELECT profile_id, epoch, CASE WHEN epoch - LAG(epoch) OVER (
                PARTITION BY profile_id ORDER BY epoch) <= {gap} THEN 0 ELSE 1 END AS is_start
              FROM (SELECT profile_id, {_epoch("timestamp")} AS epoch FROM ({inner}) v) e
            ) s
          ) n GROUP BY profile_id, session_no
        ) d GROUP BY profile_id
    """  # noqa: S608 (the only inputs are the ORM's SQL and constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(
        rows, columns=["profile_id", "sessions_30d", "avg_session_seconds"]
    )
    frame["avg_session_seconds"] = frame["avg_session_seconds"].astype("float64").round(1)
    return frame


def cart_abandonments(scope: Q, now: datetime) -> pd.DataFrame:
    """Checkouts started in the last 30 days (and over an hour ago) not followed by an order
    within the hour, per profile."""
    grace = timedelta(seconds=spec.CART_GRACE_SECONDS)
    completed_after = Event.objects.filter(
        status=Event.Status.PROCESSED,
        profile_id=OuterRef("profile_id"),
        event=ORDER_COMPLETED,
        timestamp__gte=OuterRef("timestamp"),
        timestamp__lte=ExpressionWrapper(
            OuterRef("timestamp") + grace, output_field=DateTimeField()
        ),
    )
    rows = (
        _processed(scope)
        .filter(
            event=CHECKOUT_STARTED,
            timestamp__gte=now - timedelta(days=spec.CART_WINDOW_DAYS),
            timestamp__lte=now - grace,
        )
        .filter(~Exists(completed_after))
        .values("profile_id")
        .annotate(cart_abandonments_30d=Count("pk"))
        .order_by()
        .values_list("profile_id", "cart_abandonments_30d")
    )
    return pd.DataFrame.from_records(list(rows), columns=["profile_id", "cart_abandonments_30d"])


def favourite_categories(scope: Q) -> pd.DataFrame:
    """The category of most completed orders per profile (ties: alphabetical first)."""
    rows = (
        Order.objects.filter(scope, status=Order.Status.COMPLETED)
        .exclude(category="")
        .values("profile_id", "category")
        .annotate(orders=Count("pk"))
        .order_by()
        .values_list("profile_id", "category", "orders")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["profile_id", "category", "orders"])
    if frame.empty:
        return pd.DataFrame(columns=["profile_id", "favourite_category"])
    frame = frame.sort_values(["profile_id", "orders", "category"], ascending=[True, False, True])
    first = frame.drop_duplicates("profile_id")
    return first.rename(columns={"category": "favourite_category"})[
        ["profile_id", "favourite_category"]
    ]


_AGGREGATES = {"sum": Sum, "avg": Avg, "min": Min, "max": Max}


def custom_aggregates(scope: Q, trait: CustomTraitSpec, now: datetime) -> dict[int, Any]:
    """{profile_id: value} of one custom trait over the profiles in `scope` that have events."""
    events = _processed(scope).filter(event=trait.event)
    if trait.window_days:
        events = events.filter(timestamp__gte=now - timedelta(days=trait.window_days))
    if trait.aggregate == "count":
        measure: Any = Count("pk")
    elif trait.aggregate == "distinct":
        measure = Count(KT(f"payload__properties__{trait.property}"), distinct=True)
    else:
        measure = _AGGREGATES[trait.aggregate](JsonNumber("payload", "properties", trait.property))
    rows = events.values("profile_id").annotate(value=measure).order_by()
    found = {}
    for profile_id, value in rows.values_list("profile_id", "value"):
        found[profile_id] = round(float(value), 4) if value is not None else None
    return found
