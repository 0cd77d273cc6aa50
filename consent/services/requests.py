"""Consent services: the lifecycle of a data-subject request — receive, verify by hand, extend
the deadline with a reason, reject, and start its execution as a job. Every step is recorded
on the request (who did what when) and in the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, InvalidInputError, NotFoundError
from cdp.core.hashing import identifier_hash
from consent.compute.deadlines import due_at, extended_due_at
from consent.models import DataSubjectRequest, RequestStep

IDENTIFIER_TYPES = ("email", "phone", "user_id", "anonymous_id", "loyalty_id", "crm_id")
_MAX_IDENTIFIERS = 20


class RequestStateError(ConflictError):
    code = "request_state"


def _clean_identifiers(identifiers: Sequence[Sequence[str]]) -> list[list[str]]:
    clean: list[list[str]] = []
    for pair in identifiers:
        if len(pair) != 2:
            raise InvalidInputError("Each identifier is a (type, value) pair.")
        kind, value = str(pair[0]).strip(), str(pair[1]).strip()
        if kind not in IDENTIFIER_TYPES:
            raise InvalidInputError(
                f"Unknown identifier type {kind!r}; use one of {', '.join(IDENTIFIER_TYPES)}.",
                details={"type": kind},
            )
        if not value or len(value) > 320:
            raise InvalidInputError(f"The {kind} value must be 1 to 320 characters.")
        value = value.lower() if kind == "email" else value
        if [kind, value] not in clean:
            clean.append([kind, value])
    if not clean:
        raise InvalidInputError("A request needs at least one identifier of the person.")
    if len(clean) > _MAX_IDENTIFIERS:
        raise InvalidInputError(f"At most {_MAX_IDENTIFIERS} identifiers per request.")
    return clean


def step_record(
    *,
    request: DataSubjectRequest,
    actor: Actor,
    action: str,
    note: str = "",
    details: Mapping[str, Any] | None = None,
) -> RequestStep:
    """Append one step to a request's history (no PII in `details`)."""
    return RequestStep.objects.create(
        request=request,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        note=note,
        details=dict(details or {}),
    )


def dsr_create(
    *,
    kind: str,
    identifiers: Sequence[Sequence[str]],
    actor: Actor,
    received_via: str,
    regime: str = DataSubjectRequest.Regime.GDPR,
    message: str = "",
    corrections: Mapping[str, Any] | None = None,
    received_at: datetime | None = None,
) -> DataSubjectRequest:
    """Receive a request: its kind, the person's identifiers and the legal deadline (one month
    for GDPR, 45 days for CCPA). Audited. Raises InvalidInputError for an unknown kind or
    regime, no or bad identifiers, or a rectification without corrections."""
    if kind not in DataSubjectRequest.Kind.values:
        raise InvalidInputError(f"Unknown request kind {kind!r}.", details={"kind": kind})
    if regime not in DataSubjectRequest.Regime.values:
        raise InvalidInputError(f"Unknown regime {regime!r}; use gdpr or ccpa.")
    if received_via not in DataSubjectRequest.Channel.values:
        raise InvalidInputError(f"Unknown channel {received_via!r}.")
    corrections = dict(corrections or {})
    if kind == DataSubjectRequest.Kind.RECTIFICATION and not corrections:
        raise InvalidInputError("A rectification request needs the corrected values.")
    if kind != DataSubjectRequest.Kind.RECTIFICATION and corrections:
        raise InvalidInputError("Only a rectification request carries corrected values.")
    clean = _clean_identifiers(identifiers)
    received = received_at or timezone.now()
    with transaction.atomic():
        request = DataSubjectRequest.objects.create(
            kind=kind,
            regime=regime,
            received_via=received_via,
            identifiers=clean,
            identifier_hashes=[[k, identifier_hash(k, v)] for k, v in clean],
            message=message,
            corrections=corrections,
            received_at=received,
            due_at=due_at(regime=regime, received_at=received),
        )
        step_record(request=request, actor=actor, action="received", details={"via": received_via})
        audit_record(
            actor=actor,
            action="consent.dsr.create",
            target=request,
            details={"kind": kind, "regime": regime, "identifier_types": [k for k, _ in clean]},
        )
    return request


def dsr_lock(request_id: int) -> DataSubjectRequest:
    """The request, locked FOR UPDATE. Raises NotFoundError."""
    request = DataSubjectRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFoundError(f"No data-subject request with id {request_id}.")
    return request


def dsr_require_state(request: DataSubjectRequest, *states: str) -> None:
    if request.state not in states:
        raise RequestStateError(
            f"Request #{request.pk} is {request.get_state_display().lower()}; "
            f"this needs it to be {' or '.join(states)}.",
            details={"state": request.state},
        )


@transaction.atomic
def dsr_verify_manually(*, request_id: int, note: str, actor: Actor) -> DataSubjectRequest:
    """Record that the officer verified the person's identity by other means (`note` says how).
    Raises InvalidInputError without a note, RequestStateError unless the request is received."""
    if not note.strip():
        raise InvalidInputError("Say how the identity was verified.")
    request = dsr_lock(request_id)
    dsr_require_state(request, DataSubjectRequest.State.RECEIVED)
    dsr_mark_verified(request=request, method="manual", actor=actor, note=note.strip())
    return request


def dsr_mark_verified(
    *, request: DataSubjectRequest, method: str, actor: Actor, note: str = ""
) -> None:
    """Move a locked, received request to verified (by code or manually). Audited."""
    request.state = DataSubjectRequest.State.VERIFIED
    request.verified_at = timezone.now()
    request.verification_method = method
    request.handled_by_id = actor.user_id or request.handled_by_id
    request.save(
        update_fields=["state", "verified_at", "verification_method", "handled_by", "updated_at"]
    )
    step_record(request=request, actor=actor, action="verified", note=note, details={"by": method})
    audit_record(
        actor=actor, action="consent.dsr.verify", target=request, details={"method": method}
    )


@transaction.atomic
def dsr_extend(*, request_id: int, reason: str, actor: Actor) -> DataSubjectRequest:
    """Extend the deadline once, to the legal maximum (GDPR +2 months, CCPA +45 days), with the
    reason the person must be told. Raises InvalidInputError without a reason and
    RequestStateError when closed or already extended."""
    if not reason.strip():
        raise InvalidInputError("An extension needs a reason.")
    request = dsr_lock(request_id)
    dsr_require_state(request, *DataSubjectRequest.OPEN_STATES)
    if request.extended_at is not None:
        raise RequestStateError(f"Request #{request.pk} was already extended.")
    request.due_at = extended_due_at(regime=request.regime, received_at=request.received_at)
    request.extended_at = timezone.now()
    request.extension_reason = reason.strip()
    request.save(update_fields=["due_at", "extended_at", "extension_reason", "updated_at"])
    step_record(
        request=request,
        actor=actor,
        action="extended",
        note=reason.strip(),
        details={"due_at": request.due_at.isoformat()},
    )
    audit_record(
        actor=actor,
        action="consent.dsr.extend",
        target=request,
        details={"due_at": request.due_at.isoformat()},
    )
    return request


@transaction.atomic
def dsr_reject(*, request_id: int, reason: str, actor: Actor) -> DataSubjectRequest:
    """Close an open request without acting (e.g. identity not verified). Raises
    InvalidInputError without a reason and RequestStateError when closed or running."""
    if not reason.strip():
        raise InvalidInputError("A rejection needs a reason.")
    request = dsr_lock(request_id)
    dsr_require_state(request, DataSubjectRequest.State.RECEIVED, DataSubjectRequest.State.VERIFIED)
    request.state = DataSubjectRequest.State.REJECTED
    request.closed_at = timezone.now()
    request.outcome_note = reason.strip()
    request.save(update_fields=["state", "closed_at", "outcome_note", "updated_at"])
    step_record(request=request, actor=actor, action="rejected", note=reason.strip())
    audit_record(actor=actor, action="consent.dsr.reject", target=request)
    return request


@transaction.atomic
def dsr_execute(*, request_id: int, actor: Actor) -> DataSubjectRequest:
    """Start (or restart after a failure) the work of a verified request as a job; the job
    runs after commit and reports progress on the row. Idempotent: a request already queued
    or running is left as it is. Raises RequestStateError unless verified or in progress."""
    request = dsr_lock(request_id)
    dsr_require_state(
        request, DataSubjectRequest.State.VERIFIED, DataSubjectRequest.State.IN_PROGRESS
    )
    if request.job_state in (
        DataSubjectRequest.JobState.QUEUED,
        DataSubjectRequest.JobState.RUNNING,
    ):
        return request
    request.state = DataSubjectRequest.State.IN_PROGRESS
    request.job_state = DataSubjectRequest.JobState.QUEUED
    request.job_error = ""
    request.handled_by_id = actor.user_id or request.handled_by_id
    request.save(update_fields=["state", "job_state", "job_error", "handled_by", "updated_at"])
    step_record(request=request, actor=actor, action="started")
    audit_record(
        actor=actor, action="consent.dsr.execute", target=request, details={"kind": request.kind}
    )
    jobs.publish_on_commit(jobs.DSR_EXECUTION_REQUESTED, request_id=request.pk)
    return request
