"""Profiles services: tracking plans per source (create, change, remove), screening of incoming
messages against them on the ingestion path (validators compiled once per source, cached by the
plan's updated_at), and the violations inbox counts."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from profiles.compute.messages import MessageError, ValidMessage
from profiles.compute.tracking import (
    TRACKING_PLAN_VIOLATION,
    CompiledPlan,
    PlanError,
    Violation,
    check_message,
    compile_plan,
)
from profiles.models import Source, TrackingPlan, TrackingViolation

_compiled: dict[int, tuple[datetime, CompiledPlan, str]] = {}
_lock = threading.Lock()
# A caller that has not read the source's plan stamp (see `write_key_authenticate`).
PLAN_UNKNOWN: Any = object()


@dataclass(frozen=True, kw_only=True)
class Screening:
    """What a tracking plan did to a batch: the messages kept, the errors of the others (to
    quarantine, or only to report when the plan blocks), and violation counts."""

    kept: list[ValidMessage]
    quarantined: list[MessageError] = field(default_factory=list)
    blocked: list[MessageError] = field(default_factory=list)
    violations: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    last_message_ids: dict[tuple[str, str, str], str] = field(default_factory=dict)

    @property
    def errors(self) -> list[MessageError]:
        return sorted(self.quarantined + self.blocked, key=lambda error: error.index)


def tracking_plan_set(
    *,
    source_id: int,
    actor: Actor,
    events: Mapping[str, Any] | None = None,
    traits_schema: Mapping[str, Any] | None = None,
    mode: str = TrackingPlan.Mode.QUARANTINE,
    allow_unplanned_events: bool = True,
    is_active: bool = True,
) -> TrackingPlan:
    """Create or replace a source's plan. Idempotent. Raises NotFoundError for an unknown
    source, InvalidInputError for an unknown mode or a schema that is not JSON Schema."""
    if not Source.objects.filter(pk=source_id).exists():
        raise NotFoundError(f"No source with id {source_id}.")
    if mode not in TrackingPlan.Mode.values:
        raise InvalidInputError(f"Unknown mode {mode!r}; use quarantine or block.")
    events, traits_schema = dict(events or {}), dict(traits_schema or {})
    try:
        compile_plan(events=events, traits_schema=traits_schema, allow_unplanned_events=True)
    except PlanError as exc:
        raise InvalidInputError(str(exc), details={"field": "events"}) from exc
    with transaction.atomic():
        plan, created = TrackingPlan.objects.update_or_create(
            source_id=source_id,
            defaults={
                "events": events,
                "traits_schema": traits_schema,
                "mode": mode,
                "allow_unplanned_events": allow_unplanned_events,
                "is_active": is_active,
            },
        )
        audit_record(
            actor=actor,
            action="profiles.tracking_plan.set",
            target=plan,
            details={"source_id": source_id, "created": created, "events": sorted(events)},
        )
    return plan


def tracking_plan_delete(*, source_id: int, actor: Actor) -> bool:
    """Remove a source's plan (everything is accepted again). Idempotent: False when none."""
    with transaction.atomic():
        plan = TrackingPlan.objects.filter(source_id=source_id).first()
        if plan is None:
            return False
        audit_record(
            actor=actor,
            action="profiles.tracking_plan.delete",
            target=plan,
            details={"source_id": source_id},
        )
        plan.delete()
    return True


def _plan_for(source_id: int, stamp: Any = PLAN_UNKNOWN) -> tuple[CompiledPlan, str] | None:
    """The source's active plan, compiled once per change. `stamp` is the active plan's
    updated_at (None: no active plan) when the caller read it already; otherwise one indexed
    query per batch reads it."""
    row = (
        TrackingPlan.objects.filter(source_id=source_id, is_active=True)
        .values_list("updated_at", flat=True)
        .first()
        if stamp is PLAN_UNKNOWN
        else stamp
    )
    if row is None:
        return None
    with _lock:
        cached = _compiled.get(source_id)
        if cached is not None and cached[0] == row:
            return cached[1], cached[2]
    plan = TrackingPlan.objects.get(source_id=source_id)
    compiled = compile_plan(
        events=plan.events,
        traits_schema=plan.traits_schema,
        allow_unplanned_events=plan.allow_unplanned_events,
    )
    with _lock:
        _compiled[source_id] = (plan.updated_at, compiled, plan.mode)
    return compiled, plan.mode


def tracking_plan_screen(
    *, source_id: int, messages: Sequence[ValidMessage], plan_stamp: Any = PLAN_UNKNOWN
) -> Screening:
    """Check valid messages against the source's plan. Without a plan everything is kept.
    A violating message is not stored: it becomes a `tracking_plan_violation` error, to be
    quarantined (plan mode quarantine) or only reported (mode block)."""
    found = _plan_for(source_id, plan_stamp) if messages else None
    if found is None:
        return Screening(kept=list(messages))
    plan, mode = found
    kept: list[ValidMessage] = []
    errors: list[MessageError] = []
    counts: Counter[tuple[str, str, str, str]] = Counter()
    last: dict[tuple[str, str, str], str] = {}
    for message in messages:
        violations = check_message(plan, message.payload)
        if not violations:
            kept.append(message)
            continue
        errors.append(_error(message, violations))
        for violation in violations:
            counts[(violation.event, violation.property, violation.code, violation.message)] += 1
            last[(violation.event, violation.property, violation.code)] = message.message_id
    if mode == TrackingPlan.Mode.BLOCK:
        return Screening(kept=kept, blocked=errors, violations=counts, last_message_ids=last)
    return Screening(kept=kept, quarantined=errors, violations=counts, last_message_ids=last)


def _error(message: ValidMessage, violations: list[Violation]) -> MessageError:
    first = violations[0]
    where = ".".join(part for part in (first.event or "traits", first.property) if part)
    return MessageError(
        index=message.index,
        message_id=message.message_id,
        code=TRACKING_PLAN_VIOLATION,
        message=f"Tracking plan: {where} {first.message} ({first.code}).",
        field=first.property,
    )


def tracking_violations_record(*, source_id: int, screening: Screening) -> int:
    """Add the batch's violation counts to the inbox (one upsert per distinct violation).
    Call inside the ingest transaction, so a rolled-back batch counts nothing."""
    now = timezone.now()
    for (event, path, code, message), number in screening.violations.items():
        key = {"source_id": source_id, "event": event[:200], "property": path[:200], "code": code}
        last_id = screening.last_message_ids.get((event, path, code), "")[:128]
        updated = TrackingViolation.objects.filter(**key).update(
            count=F("count") + number, last_seen_at=now, last_message_id=last_id, message=message
        )
        if not updated:
            _, created = TrackingViolation.objects.get_or_create(
                **key,
                defaults={
                    "count": number,
                    "message": message,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "last_message_id": last_id,
                },
            )
            if not created:
                TrackingViolation.objects.filter(**key).update(count=F("count") + number)
    return sum(screening.violations.values())


def tracking_violations_clear(*, source_id: int, actor: Actor) -> int:
    """Empty a source's violations inbox (after fixing the sender). Returns rows removed."""
    with transaction.atomic():
        deleted, _ = TrackingViolation.objects.filter(source_id=source_id).delete()
        audit_record(
            actor=actor,
            action="profiles.tracking_violations.clear",
            target_type="profiles.source",
            target_id=source_id,
            details={"deleted": deleted},
        )
    return deleted


def tracking_cache_clear() -> None:
    """Forget compiled plans (tests)."""
    with _lock:
        _compiled.clear()
