"""Profiles public surface: the only profiles module other apps import.

Reads return QuerySets, dataclasses or DataFrames; writes go through the services named here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

import pandas as pd

from profiles.models import Event, Identifier, Order, Profile, ProfileTrait
from profiles.selectors import (
    PII_TRAITS,
    mask_identifier,
    mask_trait,
    profile_detail,
    profiles_active_qs,
    profiles_by_identifiers,
)

ORDER_FRAME_COLUMNS = ("profile_id", "placed_at", "total", "status", "category", "items")


def profiles_qs() -> QuerySet[Profile]:
    """Active profiles (people now). Filter with Q objects on `traits__<name>`, `pk`, …"""
    return profiles_active_qs()


def events_qs() -> QuerySet[Event]:
    """Processed events of active profiles; join condition for EXISTS subqueries is
    `profile_id=OuterRef("pk")` against profiles_qs()."""
    return Event.objects.filter(status=Event.Status.PROCESSED, profile__isnull=False)


def orders_qs() -> QuerySet[Order]:
    return Order.objects.filter(profile__isnull=False)


def identifiers_qs() -> QuerySet[Identifier]:
    return Identifier.objects.all()


def golden_traits_qs() -> QuerySet[ProfileTrait]:
    return ProfileTrait.objects.all()


def profile_traits(profile_ids: Iterable[int]) -> dict[int, dict[str, object]]:
    """Golden traits of each profile (one query)."""
    return dict(Profile.objects.filter(pk__in=list(profile_ids)).values_list("pk", "traits"))


def order_frames(
    *,
    columns: tuple[str, ...] = ORDER_FRAME_COLUMNS,
    chunk_size: int = 200_000,
    profile_ids: Iterable[int] | None = None,
) -> Iterator[pd.DataFrame]:
    """Orders of active profiles as DataFrames of at most `chunk_size` rows, in profile order
    (all orders of a profile fall in one chunk, so per-customer aggregates can be computed
    chunk by chunk). `total` is in the base currency; `placed_at` is tz-aware UTC."""
    orders = orders_qs().filter(profile__merged_into__isnull=True)
    if profile_ids is not None:
        orders = orders.filter(profile_id__in=list(profile_ids))
    fields = [{"total": "total_base"}.get(column, column) for column in columns]
    rows: list[tuple[object, ...]] = []
    last_profile = None
    for row in (
        orders.order_by("profile_id", "placed_at").values_list(*fields).iterator(chunk_size=20_000)
    ):
        if len(rows) >= chunk_size and row[0] != last_profile:
            yield _order_frame(rows, columns)
            rows = []
        rows.append(row)
        last_profile = row[0]
    if rows:
        yield _order_frame(rows, columns)


def _order_frame(rows: list[tuple[object, ...]], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    if "total" in frame:
        frame["total"] = frame["total"].astype("float64")
    if "placed_at" in frame:
        frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True)
    return frame


__all__ = [
    "ORDER_FRAME_COLUMNS",
    "PII_TRAITS",
    "events_qs",
    "golden_traits_qs",
    "identifiers_qs",
    "mask_identifier",
    "mask_trait",
    "order_frames",
    "orders_qs",
    "profile_detail",
    "profile_traits",
    "profiles_by_identifiers",
    "profiles_qs",
]
