"""Test data for segments: profiles, events, orders, consent and identifiers written straight
to the tables (fast), plus the catalogue and computed traits the compiler reads."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cdp.core.actor import Actor
from consent.public import ConsentChoice, consent_record
from profiles.models import Event, Identifier, Order, Profile, Source
from profiles.services.catalogue import catalogue_rebuild
from profiles.services.computed_traits import computed_traits_refresh
from profiles.services.sources import source_create

NOW = datetime(2025, 6, 15, 12, 0, 30, tzinfo=UTC)
_counter = itertools.count(1)


def source() -> Source:
    existing = Source.objects.filter(name="test-source").first()
    if existing is not None:
        return existing
    created, _ = source_create(name="test-source", actor=Actor(user_id=None, label="test"))
    return created


def profile(traits: dict[str, Any] | None = None) -> Profile:
    return Profile.objects.create(traits=traits or {})


def event(
    who: Profile,
    name: str,
    at: datetime,
    properties: dict[str, Any] | None = None,
    *,
    kind: str = "track",
) -> Event:
    number = next(_counter)
    payload = {"type": kind, "event": name, "properties": properties or {}}
    return Event.objects.create(
        source=source(),
        message_id=f"m-{number}",
        type=kind,
        event=name if kind == "track" else "",
        user_id=f"u{who.pk}",
        timestamp=at,
        received_at=at,
        payload=payload,
        status=Event.Status.PROCESSED,
        processed_at=at,
        profile=who,
        origin_profile=who,
    )


def order(
    who: Profile,
    at: datetime,
    total: float,
    *,
    status: str = "completed",
    category: str = "",
) -> Order:
    number = next(_counter)
    amount = Decimal(str(total)).quantize(Decimal("0.01"))
    return Order.objects.create(
        order_id=f"o-{number}",
        profile=who,
        origin_profile=who,
        source=source(),
        placed_at=at,
        status=status,
        currency="EUR",
        total=amount,
        total_base=amount,
        category=category,
    )


def consent(who: Profile, purpose: str, granted: bool = True, at: datetime = NOW) -> None:
    consent_record(
        profile_id=who.pk,
        choices=[ConsentChoice(purpose_key=purpose, is_granted=granted)],
        source="test",
        recorded_at=at,
    )


def identifier(who: Profile, kind: str, value: str) -> Identifier:
    return Identifier.objects.create(
        type=kind, value=value, value_hash=f"h-{kind}-{value}", profile=who, origin_profile=who
    )


def finish(now: datetime = NOW) -> None:
    """Fill the catalogue and every profile's computed traits, as processing would."""
    catalogue_rebuild()
    computed_traits_refresh(profile_ids=Profile.objects.values_list("pk", flat=True), now=now)
