"""Campaigns services: fire triggers into the outbox — behavioural events (with property
filters and a delay) from processed micro-batches, and the sweeper that catches events whose
notification was lost."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.compute.offers import OfferRule, condition_holds, validate_rules
from campaigns.models import Campaign, TriggerCursor
from campaigns.selectors.audience import audience_members
from campaigns.selectors.campaigns import campaigns_live
from profiles import public as profiles_public

from .outbox import Occurrence, sends_enqueue

logger = logging.getLogger(__name__)

EVENTS_CURSOR = "event_triggers"
# The sweeper re-reads this far behind its cursor: micro-batches commit out of order.
SWEEP_OVERLAP = timedelta(minutes=5)
SWEEP_LIMIT = 10_000


@dataclass(frozen=True, kw_only=True)
class TriggerEvent:
    id: int
    name: str
    profile_id: int
    timestamp: datetime
    properties: dict[str, Any]


def filters_validate(filters: Any) -> None:
    """Raise ValueError unless `filters` is a list of (property, operator, value) triples."""
    if not isinstance(filters, list):
        raise ValueError("filters must be a list of [property, operator, value] triples")
    validate_rules([OfferRule(block_key="filter", priority=0, conditions=filters)])


def filters_hold(campaign: Campaign, properties: dict[str, Any]) -> bool:
    """Whether every trigger filter of the campaign holds for an event's properties."""
    return all(
        condition_holds(properties, tuple(condition))  # type: ignore[arg-type]
        for condition in campaign.trigger_filters
    )


def _trigger_events(event_ids: Sequence[int], names: set[str]) -> list[TriggerEvent]:
    rows = (
        profiles_public.events_qs()
        .filter(pk__in=list(event_ids), event__in=names)
        .values_list("pk", "event", "profile_id", "timestamp", "payload")
    )
    return [
        TriggerEvent(
            id=pk,
            name=name,
            profile_id=profile_id,
            timestamp=timestamp,
            properties=(payload or {}).get("properties") or {},
        )
        for pk, name, profile_id, timestamp, payload in rows
    ]


def _matching(
    campaign: Campaign, events: Iterable[TriggerEvent], now: datetime
) -> list[TriggerEvent]:
    oldest = now - timedelta(seconds=settings.CDP_TRIGGER_MAX_AGE_SECONDS)
    launched = campaign.launched_at or now
    return [
        event
        for event in events
        if event.name == campaign.trigger_event
        and event.timestamp >= max(oldest, launched - timedelta(seconds=1))
        and filters_hold(campaign, event.properties)
    ]


def event_triggers_fire(*, event_ids: Sequence[int]) -> int:
    """Queue a send for each processed event that triggers a live event campaign: due at the
    event time plus the campaign's delay, keyed "event:<id>" (exactly once per event).

    Events older than CDP_TRIGGER_MAX_AGE_SECONDS or before the launch do not fire.
    Idempotent. Returns the number of occurrences offered to the outbox.
    """
    now = timezone.now()
    campaigns = campaigns_live(now=now, triggers=[Campaign.Trigger.EVENT])
    campaigns = [campaign for campaign in campaigns if campaign.trigger_event]
    if not campaigns or not event_ids:
        return 0
    events = _trigger_events(event_ids, {campaign.trigger_event for campaign in campaigns})
    queued = 0
    for campaign in campaigns:
        matched = _matching(campaign, events, now)
        if campaign.segment_id is not None and matched:
            members = audience_members(campaign, [event.profile_id for event in matched])
            matched = [event for event in matched if event.profile_id in members]
        delay = timedelta(seconds=campaign.delay_seconds)
        queued += sends_enqueue(
            campaign=campaign,
            occurrences=[
                Occurrence(
                    profile_id=event.profile_id,
                    key=f"event:{event.id}",
                    triggered_at=event.timestamp,
                    due_at=event.timestamp + delay,
                    trigger_event_id=event.id,
                )
                for event in matched
            ],
        )
    return queued


def event_triggers_sweep(*, now: datetime | None = None) -> int:
    """Beat: re-fire triggers for events processed since the cursor (minus an overlap), so a
    lost PROFILES_CHANGED message delays a trigger instead of losing it. Idempotent."""
    now = now or timezone.now()
    campaigns = campaigns_live(now=now, triggers=[Campaign.Trigger.EVENT])
    names = {campaign.trigger_event for campaign in campaigns if campaign.trigger_event}
    with transaction.atomic():
        cursor, _ = TriggerCursor.objects.select_for_update().get_or_create(
            name=EVENTS_CURSOR, defaults={"position": now - SWEEP_OVERLAP}
        )
        if not names:
            cursor.position = now - SWEEP_OVERLAP
            cursor.save(update_fields=["position"])
            return 0
        rows = list(
            profiles_public.events_qs()
            .filter(event__in=names, processed_at__gte=cursor.position - SWEEP_OVERLAP)
            .order_by("processed_at")
            .values_list("pk", "processed_at")[:SWEEP_LIMIT]
        )
        ids = [pk for pk, _ in rows]
        if rows:
            cursor.position = max(cursor.position, rows[-1][1])
            cursor.save(update_fields=["position"])
    fired = event_triggers_fire(event_ids=ids) if ids else 0
    if fired:
        logger.info("event_triggers_swept", extra={"events": len(ids)})
    return fired
