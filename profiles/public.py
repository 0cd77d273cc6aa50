"""Profiles public surface: the only profiles module other apps import.

Reads return QuerySets, dataclasses or DataFrames; writes go through the services named here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

import pandas as pd

from profiles.compute.computed_traits import (
    BATCH_TRAITS,
    DERIVED_TRAITS,
    STORED_TRAITS,
    builtin_trait_types,
)
from profiles.models import (
    CatalogueEntry,
    ComputedTraits,
    Event,
    Identifier,
    Order,
    Profile,
    ProfileTrait,
)
from profiles.models.computed import JsonNumber
from profiles.selectors import (
    PII_TRAITS,
    mask_identifier,
    mask_trait,
    profile_detail,
    profiles_active_qs,
    profiles_by_identifiers,
)
from profiles.services.catalogue import catalogue_rebuild
from profiles.services.computed_traits import (
    SCORE_FIELDS,
    CustomTraitSpec,
    computed_scores_write,
    computed_traits_ensure_rows,
    computed_traits_recompute_all,
    computed_traits_refresh,
    custom_traits_refresh,
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


# --- computed traits and the catalogue (segments issue 4) ------------------------------------
IDENTIFIER_TYPES = tuple(Identifier.Type.values)


@dataclass(frozen=True, kw_only=True)
class Catalogue:
    """Names seen in the data, for the rule builder's dropdowns and its validator."""

    traits: dict[str, str]  # golden trait -> type
    events: list[str]
    properties: dict[str, dict[str, str]]  # event -> {property: type}


def catalogue() -> Catalogue:
    """The catalogue of names seen (one small query over the catalogue table)."""
    traits: dict[str, str] = {}
    events: list[str] = []
    properties: dict[str, dict[str, str]] = {}
    rows = CatalogueEntry.objects.order_by("kind", "event", "name").values_list(
        "kind", "event", "name", "value_type"
    )
    for kind, event, name, value_type in rows:
        if kind == CatalogueEntry.Kind.TRAIT:
            traits[name] = value_type
        elif kind == CatalogueEntry.Kind.EVENT:
            events.append(name)
        else:
            properties.setdefault(event, {})[name] = value_type
    return Catalogue(traits=traits, events=events, properties=properties)


def computed_traits_qs() -> QuerySet[ComputedTraits]:
    """Computed traits rows (one per profile that has been computed); `profile_id` joins."""
    return ComputedTraits.objects.all()


def computed_traits_of(profile_id: int) -> dict[str, object] | None:
    """Every computed trait of one profile (built-in columns and custom ones), or None."""
    row = ComputedTraits.objects.filter(profile_id=profile_id).values().first()
    if row is None:
        return None
    row.pop("profile_id", None)
    return row


def computed_traits_erase(profile_ids: Iterable[int]) -> int:
    """Delete the computed traits of these profiles (for erasure handlers). Returns rows."""
    deleted, _ = ComputedTraits.objects.filter(profile_id__in=list(profile_ids)).delete()
    return deleted


__all__ += [
    "BATCH_TRAITS",
    "DERIVED_TRAITS",
    "IDENTIFIER_TYPES",
    "SCORE_FIELDS",
    "STORED_TRAITS",
    "Catalogue",
    "CustomTraitSpec",
    "JsonNumber",
    "builtin_trait_types",
    "catalogue",
    "catalogue_rebuild",
    "computed_scores_write",
    "computed_traits_ensure_rows",
    "computed_traits_erase",
    "computed_traits_of",
    "computed_traits_qs",
    "computed_traits_recompute_all",
    "computed_traits_refresh",
    "custom_traits_refresh",
]
