"""Profiles services: process stored events in micro-batches — normalise traits, resolve
identity, record provenance and golden traits, orders and consent — and the sweeper that
re-kicks events a lost broker message left pending."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cdp.core import jobs
from consent import public as consent_public
from profiles.compute.messages import message_identifiers, message_traits
from profiles.compute.normalise import NormalisationError, normalise_field
from profiles.models import Event, Profile, Source
from profiles.selectors import events_pending_ids, identifier_owners

from .computed_traits import computed_traits_after_batch
from .identity import profile_resolve
from .orders import ORDER_EVENTS, order_record_from_event
from .resolution_runs import resolution_arrivals_enqueue
from .traits import golden_traits_recompute, trait_values_observe

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Traits that are identifiers or bookkeeping, not profile attributes.
_NON_TRAITS = frozenset({"crm_id"})


@dataclass(frozen=True, kw_only=True)
class ProcessOutcome:
    processed: int
    failed: int
    skipped: int
    profile_ids: list[int]


def events_process(*, event_ids: Sequence[int]) -> ProcessOutcome:
    """Process pending events among `event_ids`, oldest first, one savepoint per event.

    Idempotent: events no longer pending (done by another worker, or a duplicate delivery) are
    skipped; rows locked by another worker are skipped too (skip_locked) and left for it.
    """
    processed = failed = 0
    touched: set[int] = set()
    with transaction.atomic():
        events = list(
            # of=("self",): lock the events only. Locking the joined source row too made a
            # concurrent batch of the same source skip its own events until the sweeper.
            Event.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(event_ids), status=Event.Status.PENDING)
            .select_related("source")
            .order_by("timestamp", "pk")
        )
        for event in events:
            try:
                with transaction.atomic():
                    profile_id = _process_one(event)
            except Exception as exc:  # a bad event must not block the batch: record and go on
                logger.exception("event_processing_failed", extra={"event_id": event.pk})
                _record_failure(event, exc)
                failed += 1
                continue
            touched.add(profile_id)
            processed += 1
        if touched:
            computed_traits_after_batch(profile_ids=sorted(touched), events=events)
            resolution_arrivals_enqueue(profile_ids=sorted(touched))  # match on arrival
            jobs.publish_on_commit(
                jobs.PROFILES_CHANGED,
                profile_ids=sorted(touched),
                event_ids=[event.pk for event in events],
            )
    return ProcessOutcome(
        processed=processed,
        failed=failed,
        skipped=len(set(event_ids)) - len(events),
        profile_ids=sorted(touched),
    )


def _record_failure(event: Event, exc: Exception) -> None:
    event.attempts += 1
    event.error = f"{type(exc).__name__}: {exc}"[:300]
    if event.attempts >= MAX_ATTEMPTS:
        event.status = Event.Status.FAILED
    Event.objects.filter(pk=event.pk).update(
        attempts=event.attempts, error=event.error, status=event.status
    )


def _process_one(event: Event) -> int:
    source: Source = event.source
    region = source.default_phone_region or settings.CDP_DEFAULT_PHONE_REGION
    identifiers = message_identifiers(event.payload, default_region=region)
    if event.type == Event.Type.ALIAS and event.payload.get("previousId"):
        previous = str(event.payload["previousId"]).strip()
        identifiers.append((_previous_id_type(previous), previous))
    resolution = profile_resolve(identifiers=identifiers, source=source, seen_at=event.timestamp)
    profile_id = resolution.profile_id
    _record_consent(event, profile_id)
    decision = consent_public.consent_ingest_event(
        profile_id=profile_id,
        payload=event.payload,
        event_id=event.pk,
        message_id=event.message_id,
        source_id=source.pk,
        source_settings=source.settings,
        recorded_at=event.timestamp,
    )
    if decision.action != "keep":
        return _keep_out(event, decision, profile_id)
    traits = _normalised_traits(message_traits(event.payload), region)
    if traits:
        changed = trait_values_observe(
            profile_id=profile_id,
            source=source,
            traits=traits,
            observed_at=event.timestamp,
            event=event,
            record_ref=event.message_id,
        )
        if changed:
            golden_traits_recompute(profile_id=profile_id, names=changed)
    if event.type == Event.Type.TRACK and event.event in ORDER_EVENTS:
        order_record_from_event(event=event, profile_id=profile_id)
    now = timezone.now()
    Event.objects.filter(pk=event.pk).update(
        status=Event.Status.PROCESSED,
        profile_id=profile_id,
        origin_profile_id=profile_id,
        processed_at=now,
        error="",
    )
    Profile.objects.filter(pk=profile_id, last_seen_at__lt=event.timestamp).update(
        last_seen_at=event.timestamp
    )
    Profile.objects.filter(pk=profile_id, last_seen_at__isnull=True).update(
        last_seen_at=event.timestamp
    )
    return profile_id


def _keep_out(event: Event, decision: consent_public.IngestionDecision, profile_id: int) -> int:
    """Consent policy said strip (keep an anonymous form) or drop (keep a tombstone for dedup):
    the row no longer names or points at the person, and feeds no trait or order."""
    event.payload = decision.payload
    event.status = Event.Status.PROCESSED if decision.action == "strip" else Event.Status.DROPPED
    event.profile_id = event.origin_profile_id = None
    event.user_id = event.anonymous_id = ""
    event.event = event.event if decision.action == "strip" else ""
    Event.objects.filter(pk=event.pk).update(
        payload=event.payload,
        status=event.status,
        profile_id=None,
        origin_profile_id=None,
        user_id="",
        anonymous_id="",
        event=event.event,
        processed_at=timezone.now(),
    )
    return profile_id


def _previous_id_type(previous_id: str) -> str:
    """alias previousId is an earlier user id when one is known as such, else an anonymous id."""
    return "user_id" if identifier_owners([("user_id", previous_id)]) else "anonymous_id"


def _normalised_traits(traits: dict[str, Any], region: str) -> dict[str, Any]:
    """Normalise known traits; a value that fails normalisation is left out (not guessed)."""
    country = traits.get("country")
    context = {"country": None, "default_region": region}
    if isinstance(country, str):
        with contextlib.suppress(NormalisationError):
            context["country"] = normalise_field("country", country, context={})
    clean: dict[str, Any] = {}
    for name, raw in traits.items():
        if name in _NON_TRAITS or raw is None or not isinstance(name, str):
            continue
        if isinstance(raw, dict | list):
            clean[name] = raw
            continue
        try:
            value = normalise_field(name, raw, context=context)
        except NormalisationError:
            continue
        if value is not None:
            clean[name] = value if isinstance(value, str | int | float | bool) else str(value)
    return clean


def _record_consent(event: Event, profile_id: int) -> None:
    context = event.payload.get("context") or {}
    consent = context.get("consent") if isinstance(context, dict) else None
    preferences = consent.get("categoryPreferences") if isinstance(consent, dict) else None
    if not isinstance(preferences, dict) or not preferences:
        return
    consent_public.consent_record_from_categories(
        profile_id=profile_id,
        preferences=preferences,
        source=event.source.name,
        recorded_at=event.timestamp,
        evidence={
            "event_id": event.pk,
            "message_id": event.message_id,
            "ip": context.get("ip", ""),
            "user_agent": context.get("userAgent", ""),
        },
    )


def events_sweep(*, lease_seconds: int | None = None, limit: int = 50_000) -> int:
    """Re-enqueue events still pending after their lease. Returns how many were re-kicked.

    Safe to run any time: processing skips events that are no longer pending.
    """
    lease = lease_seconds if lease_seconds is not None else settings.CDP_PENDING_LEASE_SECONDS
    ids = events_pending_ids(received_before=timezone.now() - timedelta(seconds=lease), limit=limit)
    batch = settings.CDP_PROCESS_BATCH_SIZE
    for start in range(0, len(ids), batch):
        jobs.publish_on_commit(jobs.EVENTS_RECEIVED, event_ids=ids[start : start + batch])
    if ids:
        logger.info("events_swept", extra={"count": len(ids)})
    return len(ids)
