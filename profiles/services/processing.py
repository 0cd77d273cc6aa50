"""Profiles services: process stored events in micro-batches — normalise traits, resolve
identity, record provenance and golden traits, orders and consent — and the sweeper that
re-kicks events a lost broker message left pending."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from cdp.core import jobs
from consent import public as consent_public
from profiles.compute.messages import message_identifiers, message_traits
from profiles.compute.normalise import NormalisationError, normalise_field
from profiles.models import Event, Profile, Source
from profiles.selectors import events_pending_ids, identifier_owners

from .bulk_sql import rows_update
from .computed_traits import computed_traits_after_batch
from .identity import MERGE_ON_TYPES as _MERGE_ON
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
        # Plain events of known people (behaviour only) are stored in bulk first, against the
        # identity as it stands; the rest then go one by one in order. A merge later in the
        # batch moves the bulk ones like any event the absorbed profile already had.
        done, bulk_ids = _process_plain([event for event in events if _is_plain(event)])
        touched.update(done)
        processed += len(bulk_ids)
        one_by_one = [event for event in events if event.pk not in bulk_ids]
        for event in one_by_one:
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


_PLAIN_TYPES = frozenset({Event.Type.TRACK, Event.Type.PAGE, Event.Type.SCREEN})


def _is_plain(event: Event) -> bool:
    """Behaviour only: no traits, no consent choices or GPC signal, not an order event."""
    if event.type not in _PLAIN_TYPES or event.event in ORDER_EVENTS:
        return False
    payload = event.payload
    context = payload.get("context")
    if isinstance(context, dict) and context.get("consent") is not None:
        return False
    return not consent_public.has_gpc(payload) and not message_traits(payload)


def _process_plain(events: list[Event]) -> tuple[set[int], set[int]]:
    """Process plain events whose identifiers all belong to one existing profile in a few
    statements for the whole batch (one identifier lookup, one restriction check per source,
    one event update, one last-seen update) instead of ~7 per event. Returns the profiles
    touched and the ids of the events done; the others (unknown or contested identifiers, a
    consent policy other than keep, a restriction) are left for the one-by-one path, which
    also takes them all should the bulk step fail."""
    if not events:
        return set(), set()
    pairs_of = {
        event.pk: message_identifiers(
            event.payload,
            default_region=event.source.default_phone_region or settings.CDP_DEFAULT_PHONE_REGION,
        )
        for event in events
    }
    owners = identifier_owners(list({pair for pairs in pairs_of.values() for pair in pairs}))
    owner_of: dict[int, int] = {}
    for event in events:
        pairs = pairs_of[event.pk]
        candidates = {owners.get(pair) for pair in pairs if pair[0] in _MERGE_ON}
        if pairs and all(pair in owners for pair in pairs) and len(candidates) == 1:
            owner_of[event.pk] = next(iter(candidates))  # type: ignore[arg-type]
    by_source: dict[int, list[Event]] = {}
    for event in events:
        if event.pk in owner_of:
            by_source.setdefault(event.source_id, []).append(event)
    bulk: list[Event] = []
    for group in by_source.values():
        keepers = consent_public.consent_plain_event_keepers(
            profile_ids={owner_of[event.pk] for event in group},
            source_settings=group[0].source.settings,
        )
        bulk.extend(event for event in group if owner_of[event.pk] in keepers)
    if not bulk:
        return set(), set()
    try:
        with transaction.atomic():
            _bulk_mark_processed(bulk, owner_of)
    except (OperationalError, InterfaceError):
        raise
    except Exception:  # fall back to the one-by-one path, which records per-event failures
        logger.exception("plain_events_bulk_failed", extra={"events": len(bulk)})
        return set(), set()
    done = {event.pk for event in bulk}
    return {owner_of[pk] for pk in done}, done


def _bulk_mark_processed(events: list[Event], owner_of: dict[int, int]) -> None:
    now = timezone.now()
    for event in events:
        event.status = Event.Status.PROCESSED
        event.profile_id = event.origin_profile_id = owner_of[event.pk]
        event.processed_at = now
        event.error = ""
    rows_update(Event, events, ["status", "profile", "origin_profile", "processed_at", "error"])
    latest: dict[int, datetime] = {}
    for event in events:
        profile_id = owner_of[event.pk]
        if profile_id not in latest or latest[profile_id] < event.timestamp:
            latest[profile_id] = event.timestamp
    _last_seen_raise(latest)


def _last_seen_raise(latest: dict[int, datetime]) -> None:
    """last_seen_at = the given time where that is later (or it was unset): one statement on
    PostgreSQL, one prepared statement on SQLite; never moves it backwards under concurrency."""
    table = connection.ops.quote_name(Profile._meta.db_table)
    ids = sorted(latest)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS p SET last_seen_at = v.ts "  # noqa: S608 - model metadata
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, ts) "
                "WHERE p.id = v.id AND (p.last_seen_at IS NULL OR p.last_seen_at < v.ts)",
                [ids, [latest[profile_id] for profile_id in ids]],
            )
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"UPDATE {table} SET last_seen_at = %s "  # noqa: S608 - model metadata
            "WHERE id = %s AND (last_seen_at IS NULL OR last_seen_at < %s)",
            [(adapt(latest[i]), i, adapt(latest[i])) for i in ids],
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
