"""Profiles selectors: reads of sources, profiles, identifiers, timelines; locks; PII masking."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet

from cdp.core.write_keys import write_key_matches, write_key_prefix
from profiles.compute.normalise import NormalisationError, normalise_email, normalise_phone

from .models import (
    Event,
    Identifier,
    Profile,
    ProfileMerge,
    ProfileTrait,
    Source,
    TrackingPlan,
    WriteKey,
)

_SOURCE_FIELDS = ("id", "name", "kind", "trust", "default_phone_region", "is_active")


def write_key_authenticate(plain: str) -> Source | None:
    """The active source owning an active key `plain`, or None.

    Runs on every tracking request: one indexed query in plain SQL (the ORM's query building
    cost more than the query itself), then a constant-time digest comparison. The same round
    trip reads the source's active tracking-plan stamp into `source.tracking_plan_stamp`
    (None: no active plan), which ingestion would otherwise query per batch.
    """
    prefix = write_key_prefix(plain)
    if prefix is None:
        return None
    columns = ", ".join(f"s.{connection.ops.quote_name(name)}" for name in _SOURCE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT k.digest, (SELECT p.updated_at FROM {TrackingPlan._meta.db_table} p "  # noqa: S608
            "WHERE p.source_id = s.id AND p.is_active), "
            f"{columns} FROM {WriteKey._meta.db_table} k "
            f"JOIN {Source._meta.db_table} s ON s.id = k.source_id "
            "WHERE k.prefix = %s AND k.revoked_at IS NULL AND s.is_active",
            [prefix],
        )
        row = cursor.fetchone()
    if row is None or not write_key_matches(plain, row[0]):
        return None
    source = Source.from_db(connection.alias, list(_SOURCE_FIELDS), list(row[2:]))
    source.tracking_plan_stamp = _as_datetime(row[1])
    return source


def _as_datetime(value: Any) -> datetime | None:
    """A timestamp column read by raw SQL: PostgreSQL gives a datetime, SQLite a string."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def source_get_by_name(name: str) -> Source | None:
    return Source.objects.filter(name=name).first()


def profiles_active_qs() -> QuerySet[Profile]:
    """Profiles that are people now (not folded into another by a merge)."""
    return Profile.objects.filter(merged_into__isnull=True)


def profile_get(*, profile_id: int) -> Profile | None:
    return Profile.objects.filter(pk=profile_id).first()


def profile_canonical(profile: Profile) -> Profile:
    """Follow merged_into to the profile that stands for the person now."""
    seen = {profile.pk}
    while profile.merged_into_id is not None:
        profile = Profile.objects.get(pk=profile.merged_into_id)
        if profile.pk in seen:  # defensive: merges form a forest, never a cycle
            break
        seen.add(profile.pk)
    return profile


def profiles_by_identifiers(pairs: Iterable[tuple[str, str]]) -> QuerySet[Profile]:
    """Active profiles owning any of the (type, normalised value) pairs."""
    condition = Q(pk__in=[])
    for kind, value in pairs:
        condition |= Q(type=kind, value=value)
    profile_ids = Identifier.objects.filter(condition).values("profile_id")
    return profiles_active_qs().filter(pk__in=profile_ids)


def identifier_owners(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(type, value) -> current profile id, for the pairs that exist (one query)."""
    if not pairs:
        return {}
    values = {value for _, value in pairs}
    types = {kind for kind, _ in pairs}
    wanted = set(pairs)
    # type__in too, so the (type, value) unique index serves it (value alone scans the table).
    rows = Identifier.objects.filter(type__in=types, value__in=values).values_list(
        "type", "value", "profile_id"
    )
    return {
        (kind, value): profile_id for kind, value, profile_id in rows if (kind, value) in wanted
    }


def profile_user_ids(profile_ids: Iterable[int]) -> dict[int, set[str]]:
    """user_id identifiers per profile (to refuse merging two different signed-up users)."""
    found: dict[int, set[str]] = {}
    rows = Identifier.objects.filter(
        profile_id__in=list(profile_ids), type=Identifier.Type.USER_ID
    ).values_list("profile_id", "value")
    for profile_id, value in rows:
        found.setdefault(profile_id, set()).add(value)
    return found


def profiles_lock_in_pk_order(*profile_ids: int) -> list[Profile]:
    """Lock profiles FOR UPDATE in primary-key order (no deadlocks between two merges)."""
    locked = {
        profile.pk: profile
        for profile in Profile.objects.select_for_update().filter(pk__in=profile_ids).order_by("pk")
    }
    return [locked[pk] for pk in profile_ids if pk in locked]


def profile_timeline_qs(*, profile_id: int) -> QuerySet[Event]:
    """The events of a profile, newest first (uses profiles_event_timeline)."""
    return (
        Event.objects.filter(profile_id=profile_id)
        .select_related("source")
        .order_by("-timestamp", "-pk")
    )


def events_pending_ids(*, received_before: datetime, limit: int = 50_000) -> list[int]:
    """Ids of events still pending that arrived before `received_before`, oldest first."""
    events = Event.objects.filter(status=Event.Status.PENDING, received_at__lt=received_before)
    return list(events.order_by("received_at").values_list("pk", flat=True)[:limit])


def mask_identifier(kind: str, value: str) -> str:
    """A masked identifier for roles without PII access: shape kept, content hidden."""
    if kind == Identifier.Type.EMAIL and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    if kind == Identifier.Type.PHONE and len(value) > 4:
        return f"{value[:3]}{'*' * (len(value) - 5)}{value[-2:]}"
    if len(value) <= 4:
        return "****"
    return f"{value[:2]}***{value[-2:]}"


# Traits that identify a person; shown masked to roles without PII access.
PII_TRAITS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "name",
        "street",
        "address",
        "birth_date",
        "postal_code",
        "loyalty_id",
        "crm_id",
        "ip",
    }
)


@dataclass(frozen=True, kw_only=True)
class TraitWithProvenance:
    name: str
    value: Any
    rule: str
    source: str
    observed_at: datetime
    record_ref: str
    event_id: int | None


@dataclass(frozen=True, kw_only=True)
class ProfileDetail:
    profile: Profile
    identifiers: list[tuple[str, str, str]]  # (type, value or masked value, source name)
    traits: list[TraitWithProvenance]
    merged_into_id: int | None
    is_masked: bool


def mask_trait(name: str, value: Any) -> Any:
    if name not in PII_TRAITS or value in (None, ""):
        return value
    if name == "email":
        return mask_identifier("email", str(value))
    if name == "phone":
        return mask_identifier("phone", str(value))
    text = str(value)
    return f"{text[:1]}***" if text else text


def profile_detail(*, profile_id: int, can_view_pii: bool) -> ProfileDetail | None:
    """A profile with identifiers and golden traits with provenance; PII masked unless allowed.

    Three queries whatever the number of traits.
    """
    profile = Profile.objects.filter(pk=profile_id).first()
    if profile is None:
        return None
    identifiers = [
        (kind, value if can_view_pii else mask_identifier(kind, value), source or "")
        for kind, value, source in Identifier.objects.filter(profile_id=profile_id)
        .order_by("type", "value")
        .values_list("type", "value", "source__name")
    ]
    traits = [
        TraitWithProvenance(
            name=row.name,
            value=row.value if can_view_pii else mask_trait(row.name, row.value),
            rule=row.rule,
            source=row.chosen.source.name,
            observed_at=row.chosen.observed_at,
            record_ref=row.chosen.record_ref,
            event_id=row.chosen.event_id,
        )
        for row in ProfileTrait.objects.filter(profile_id=profile_id)
        .select_related("chosen__source")
        .order_by("name")
    ]
    return ProfileDetail(
        profile=profile,
        identifiers=identifiers,
        traits=traits,
        merged_into_id=profile.merged_into_id,
        is_masked=not can_view_pii,
    )


def profile_list_by_identifier(*, kind: str, value: str) -> QuerySet[Profile]:
    """Profiles (active, or the survivor of a merged one) owning identifier (kind, value)."""
    return profiles_by_identifiers([(kind, value)]).order_by("pk")


def profile_merges_qs(*, profile_id: int) -> QuerySet[ProfileMerge]:
    return ProfileMerge.objects.filter(Q(survivor_id=profile_id) | Q(absorbed_id=profile_id))


def profiles_search(term: str) -> QuerySet[Profile]:
    """Active profiles whose identifier equals `term` once normalised as an email, a phone or
    as typed (user id, anonymous id, loyalty or CRM id); a number also matches a profile id.
    Exact, indexed lookups: never a scan of identifier values."""
    term = term.strip()
    candidates = {term}
    for normalise in (normalise_email, _phone_default_region):
        with contextlib.suppress(NormalisationError):
            candidates.add(normalise(term) or term)
    matches = Identifier.objects.filter(value__in=candidates).values("profile_id")
    by_identifier = Q(pk__in=matches)
    if term.isdigit():
        by_identifier |= Q(pk=int(term))
    return profiles_active_qs().filter(by_identifier)


def _phone_default_region(term: str) -> str | None:
    return normalise_phone(term, default_region=settings.CDP_DEFAULT_PHONE_REGION)
