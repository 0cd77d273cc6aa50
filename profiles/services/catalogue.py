"""Profiles services: the catalogue of trait, event and property names seen (with value types),
kept up to date per processed micro-batch and rebuilt by sampling after bulk loads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Max

from profiles.models import CatalogueEntry, Event, Profile

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_MAX_NAME = 200
SAMPLE_EVENTS_PER_NAME = 500
SAMPLE_PROFILES = 5_000


def value_type(value: Any) -> str | None:
    """The catalogue type of a JSON value: boolean, number, date, string; None for others."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "date" if _DATE.match(value) else "string"
    return None


def _typed_names(values: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in values.items():
        kind = value_type(value)
        if kind is not None and isinstance(name, str) and 0 < len(name) <= _MAX_NAME:
            found[name] = kind
    return found


def _entries_from(
    events: Iterable[tuple[str, Any]], traits: Iterable[Mapping[str, Any]]
) -> dict[tuple[str, str, str], str]:
    entries: dict[tuple[str, str, str], str] = {}
    for name, payload in events:
        if not name:
            continue
        entries.setdefault((CatalogueEntry.Kind.EVENT, "", name[:_MAX_NAME]), "")
        properties = payload.get("properties") if isinstance(payload, dict) else None
        if isinstance(properties, dict):
            for prop, kind in _typed_names(properties).items():
                entries.setdefault((CatalogueEntry.Kind.PROPERTY, name[:_MAX_NAME], prop), kind)
    for values in traits:
        for name, kind in _typed_names(values).items():
            entries.setdefault((CatalogueEntry.Kind.TRAIT, "", name), kind)
    return entries


def _store(entries: dict[tuple[str, str, str], str]) -> int:
    if not entries:
        return 0
    names = {name for _, _, name in entries}
    known = set(CatalogueEntry.objects.filter(name__in=names).values_list("kind", "event", "name"))
    new = [
        CatalogueEntry(kind=kind, event=event, name=name, value_type=value_type)
        for (kind, event, name), value_type in sorted(entries.items())
        if (kind, event, name) not in known
    ]
    CatalogueEntry.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def catalogue_observe(*, events: Iterable[Event], profile_ids: Iterable[int]) -> int:
    """Add the event names, property names and golden trait names of a processed micro-batch
    that the catalogue does not know yet (the first type seen is kept). Two small queries when
    nothing is new. Idempotent. Returns the number of entries added."""
    tracked = [(event.event, event.payload) for event in events if event.type == "track"]
    traits = Profile.objects.filter(pk__in=list(profile_ids)).values_list("traits", flat=True)
    return _store(_entries_from(tracked, traits))


def catalogue_rebuild() -> int:
    """Fill the catalogue from the data itself (after a bulk load that bypassed processing):
    every distinct event name, the properties of the latest events of each name, and the
    trait names of a sample of profiles. Idempotent; returns entries added."""
    names = (
        Event.objects.filter(status=Event.Status.PROCESSED)
        .exclude(event="")
        .values("event")
        .annotate(latest=Max("timestamp"))
        .order_by()
        .values_list("event", flat=True)
    )
    events: list[tuple[str, Any]] = []
    for name in names:
        latest = Event.objects.filter(status=Event.Status.PROCESSED, event=name).order_by(
            "-timestamp"
        )
        events.extend(latest.values_list("event", "payload")[:SAMPLE_EVENTS_PER_NAME])
    traits = (
        Profile.objects.filter(merged_into__isnull=True)
        .order_by("-pk")
        .values_list("traits", flat=True)[:SAMPLE_PROFILES]
    )
    return _store(_entries_from(events, traits))
