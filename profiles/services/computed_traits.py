"""Profiles services: computed traits — incremental refresh of a set of profiles by SQL
aggregates, the full recompute in chunks, custom traits, and writing batch scores (RFM,
lifecycle) that the segments app computes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

import pandas as pd

from profiles.compute import computed_traits as spec
from profiles.models import ComputedTraits, Event, Profile

from .catalogue import catalogue_observe
from .computed_sql import (
    cart_abandonments,
    custom_aggregates,
    favourite_categories,
    order_aggregates,
    session_aggregates,
)

logger = logging.getLogger(__name__)

EMAIL_DELIVERED = ("Email Delivered", "Email Sent")
EMAIL_OPENED = ("Email Opened",)
EMAIL_CLICKED = ("Email Clicked", "Email Link Clicked")
PAGE_TYPES = ("page", "screen")
_REFRESHED_FIELDS = [
    "computed_at",
    "first_seen_at",
    "last_seen_at",
    "first_order_at",
    "last_order_at",
    "orders_count",
    "lifetime_value",
    "average_order_value",
    "orders_30d",
    "orders_90d",
    "orders_365d",
    "revenue_30d",
    "revenue_90d",
    "revenue_365d",
    "purchase_velocity",
    "favourite_category",
    "sessions_30d",
    "avg_session_seconds",
    "pages_per_session",
    "cart_abandonments_30d",
    "email_opens_90d",
    "email_clicks_90d",
    "email_open_rate",
    "email_click_rate",
    "engagement_score",
]
SCORE_FIELDS = ("lifecycle_stage", "r_score", "f_score", "m_score", "rfm_segment")


@dataclass(frozen=True, kw_only=True)
class CustomTraitSpec:
    """A custom computed trait: `aggregate` (count, sum, avg, min, max, distinct) of the
    event property `property` of events named `event` in the last `window_days` (None: all)."""

    key: str
    event: str
    property: str
    aggregate: str
    window_days: int | None


def _event_aggregates(scope: Q, now: datetime) -> pd.DataFrame:
    since_30 = now - timedelta(days=spec.SESSION_WINDOW_DAYS)
    since_90 = now - timedelta(days=spec.EMAIL_WINDOW_DAYS)
    rows = (
        Event.objects.filter(scope, status=Event.Status.PROCESSED)
        .values("profile_id")
        .annotate(
            first_seen_at=Min("timestamp"),
            last_seen_at=Max("timestamp"),
            page_views_30d=Count("pk", filter=Q(type__in=PAGE_TYPES, timestamp__gte=since_30)),
            email_delivered_90d=Count(
                "pk", filter=Q(event__in=EMAIL_DELIVERED, timestamp__gte=since_90)
            ),
            email_opens_90d=Count("pk", filter=Q(event__in=EMAIL_OPENED, timestamp__gte=since_90)),
            email_clicks_90d=Count(
                "pk", filter=Q(event__in=EMAIL_CLICKED, timestamp__gte=since_90)
            ),
        )
        .order_by()
    )
    columns = [
        "profile_id",
        "first_seen_at",
        "last_seen_at",
        "page_views_30d",
        "email_delivered_90d",
        "email_opens_90d",
        "email_clicks_90d",
    ]
    return pd.DataFrame.from_records(list(rows.values_list(*columns)), columns=columns)


def _aggregates(scope: Q, profile_ids: Sequence[int], now: datetime) -> pd.DataFrame:
    """One row per profile of `profile_ids` with every aggregate (zeros where none)."""
    frame = pd.DataFrame({"profile_id": pd.Series(list(profile_ids), dtype="int64")})
    for part in (
        _event_aggregates(scope, now),
        order_aggregates(scope, now),
        session_aggregates(scope, now),
        cart_abandonments(scope, now),
        favourite_categories(scope),
    ):
        if len(part):
            part["profile_id"] = part["profile_id"].astype("int64")
            frame = frame.merge(part, on="profile_id", how="left")
        else:
            frame = frame.reindex(columns=[*frame.columns, *part.columns[1:]])
    counts = [
        "orders_count",
        "orders_30d",
        "orders_90d",
        "orders_365d",
        "sessions_30d",
        "page_views_30d",
        "cart_abandonments_30d",
        "email_delivered_90d",
        "email_opens_90d",
        "email_clicks_90d",
    ]
    money = ["lifetime_value", "revenue_30d", "revenue_90d", "revenue_365d"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame[money] = frame[money].astype("float64").fillna(0.0).round(2)
    for column in ("first_seen_at", "last_seen_at", "first_order_at", "last_order_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["favourite_category"] = frame["favourite_category"].astype(object).fillna("").astype(str)
    return frame


def _none(value: Any) -> Any:
    return None if pd.isna(value) else value


def _rows(frame: pd.DataFrame, now: datetime) -> list[ComputedTraits]:
    derived = spec.derive_traits(frame, as_of=pd.Timestamp(now))
    frame = frame.assign(**{column: derived[column] for column in derived.columns[1:]})
    rows = []
    for record in frame.to_dict("records"):
        values = {name: _none(record.get(name)) for name in _REFRESHED_FIELDS if name in record}
        for name in ("first_seen_at", "last_seen_at", "first_order_at", "last_order_at"):
            values[name] = values[name].to_pydatetime() if values[name] is not None else None
        values["engagement_score"] = values["engagement_score"] or 0.0
        values["favourite_category"] = values["favourite_category"] or ""
        rows.append(ComputedTraits(profile_id=int(record["profile_id"]), computed_at=now, **values))
    return rows


def _upsert(rows: list[ComputedTraits]) -> None:
    ComputedTraits.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["profile"],
        update_fields=_REFRESHED_FIELDS,
    )


def computed_traits_refresh(*, profile_ids: Iterable[int], now: datetime | None = None) -> int:
    """Recompute the built-in computed traits of `profile_ids` (active or not) from their
    events and orders; scores and custom traits are kept. Returns the number of rows written.

    Idempotent: the same data gives the same row. A handful of SQL aggregates whatever the
    number of profiles.
    """
    ids = sorted(set(profile_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    existing = list(Profile.objects.filter(pk__in=ids).values_list("pk", flat=True))
    frame = _aggregates(Q(profile_id__in=existing), existing, now)
    _upsert(_rows(frame, now))
    return len(existing)


def computed_traits_recompute_all(
    *,
    chunk_size: int = 5_000,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute every active profile's built-in computed traits, chunk by chunk of profile
    ids (one transaction per chunk, so readers never wait long). Returns profiles written.

    Idempotent; safe beside real-time refreshes (each upsert writes a consistent row).
    """
    now = now or timezone.now()
    active = Profile.objects.filter(merged_into__isnull=True)
    total = active.count()
    done = 0
    last_id = 0
    while True:
        ids = list(
            active.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            break
        scope = Q(profile_id__gte=ids[0], profile_id__lte=ids[-1])
        frame = _aggregates(scope, ids, now)
        with transaction.atomic():
            _upsert(_rows(frame, now))
        done += len(ids)
        last_id = ids[-1]
        if progress is not None:
            progress(done, total)
    logger.info("computed_traits_recomputed", extra={"profiles": done})
    return done


def custom_traits_refresh(
    *,
    traits: Sequence[CustomTraitSpec],
    profile_ids: Iterable[int] | None = None,
    drop_others: bool = False,
) -> int:
    """Recompute custom computed traits into ComputedTraits.custom for `profile_ids` (None:
    every profile that has a computed-traits row). One aggregate query per trait and chunk of
    5,000 profiles; with `drop_others` (`traits` is then every definition) keys of deleted
    definitions are removed. Returns the number of rows written. Idempotent."""
    now = timezone.now()
    rows = ComputedTraits.objects.all()
    if profile_ids is not None:
        rows = rows.filter(profile_id__in=list(profile_ids))
    if not traits:  # nothing to compute: at most clear keys of deleted definitions (one UPDATE)
        return rows.exclude(custom={}).update(custom={}) if drop_others else 0
    keys = {trait.key for trait in traits}
    written = 0
    last_id = 0
    while True:
        chunk = list(rows.filter(profile_id__gt=last_id).order_by("profile_id")[:5_000])
        if not chunk:
            return written
        last_id = chunk[-1].profile_id
        scope = Q(profile_id__gte=chunk[0].profile_id, profile_id__lte=last_id)
        values = {trait.key: custom_aggregates(scope, trait, now) for trait in traits}
        empty = {
            trait.key: 0 if trait.aggregate in ("count", "distinct") else None for trait in traits
        }
        for row in chunk:
            row.custom = {
                **{
                    key: value
                    for key, value in row.custom.items()
                    if key in keys or not drop_others
                },
                **{key: found.get(row.profile_id, empty[key]) for key, found in values.items()},
            }
        ComputedTraits.objects.bulk_update(chunk, ["custom"], batch_size=1_000)
        written += len(chunk)


def computed_scores_write(*, scores: pd.DataFrame, scored_at: datetime) -> int:
    """Write batch scores: `scores` has profile_id and any of SCORE_FIELDS (NaN/None clears).

    Active profiles without a computed-traits row get an empty one first. One UPDATE … FROM
    (VALUES …) per 4,000 profiles, on PostgreSQL and SQLite alike. Idempotent. Returns the
    number of profiles given.
    """
    fields = [name for name in SCORE_FIELDS if name in scores.columns]
    if scores.empty or not fields:
        return 0
    given = scores["profile_id"].astype("int64").tolist()
    computed_traits_ensure_rows(profile_ids=given if len(given) <= 10_000 else None)
    table = ComputedTraits._meta.db_table
    assignments = ", ".join(
        f"{name} = CAST(v.{name} AS INTEGER)" if name.endswith("_score") else f"{name} = v.{name}"
        for name in fields
    )
    columns = ", ".join(["pid", *fields])
    records = [
        [int(row[0]), *(_none(value) for value in row[1:])]
        for row in scores[["profile_id", *fields]].itertuples(index=False, name=None)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(records), 4_000):
            batch = records[start : start + 4_000]
            row_sql = "(" + ", ".join(["%s"] * len(batch[0])) + ")"
            sql = (
                f"WITH v ({columns}) AS (VALUES {', '.join([row_sql] * len(batch))}) "  # noqa: S608
                f"UPDATE {table} SET {assignments}, scored_at = %s "
                f"FROM v WHERE {table}.profile_id = v.pid"
            )
            cursor.execute(sql, [value for record in batch for value in record] + [scored_at])
    return len(records)


def computed_traits_ensure_rows(*, profile_ids: Sequence[int] | None = None) -> int:
    """Create an empty computed-traits row for every active profile (of `profile_ids`, or
    all) that has none (one anti-join to find them, then bulk inserts). Returns the number
    created. Idempotent."""
    missing = Profile.objects.filter(merged_into__isnull=True, computed__isnull=True)
    if profile_ids is not None:
        missing = missing.filter(pk__in=list(profile_ids))
    ids = list(missing.values_list("pk", flat=True))
    now = timezone.now()
    ComputedTraits.objects.bulk_create(
        [ComputedTraits(profile_id=pk, computed_at=now) for pk in ids],
        batch_size=2_000,
        ignore_conflicts=True,
    )
    return len(ids)


def computed_traits_after_batch(*, profile_ids: Sequence[int], events: Sequence[Event]) -> None:
    """Called by event processing before PROFILES_CHANGED: refresh the touched profiles'
    computed traits and note new names in the catalogue, in a savepoint.

    Never fails the batch for a bug here (logged; the nightly recompute repairs the rows);
    a lost database connection is raised so the batch is retried as a whole.
    """
    if not profile_ids:
        return
    try:
        with transaction.atomic():
            computed_traits_refresh(profile_ids=profile_ids)
            catalogue_observe(events=events, profile_ids=profile_ids)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("computed_traits_refresh_failed", extra={"profiles": len(profile_ids)})
