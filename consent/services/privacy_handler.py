"""Consent services: the consent app's own privacy handler — export and erase a person's
consent ledger, state, restrictions, and the privacy requests (and archives) about them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cdp.core.hashing import identifier_hash
from cdp.core.privacy import ErasureReport, ExportPart, PrivacyHandler, Subject
from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    ProcessingRestriction,
    RequestStep,
    VerificationCode,
)

from .archive import archive_delete

ERASED = "[erased]"


def _loose(kind: str, value: str) -> tuple[str, str]:
    """An identifier compared loosely: phones by their last 8 digits (formats differ), the rest
    case-insensitively."""
    if kind == "phone":
        return kind, "".join(char for char in value if char.isdigit())[-8:]
    return kind, value.strip().lower()


def requests_of(subject: Subject) -> list[DataSubjectRequest]:
    """Requests not yet anonymised that name one of the subject's identifiers or profiles."""
    hashes = {identifier_hash(kind, value) for kind, value in subject.identifiers}
    loose = {_loose(kind, value) for kind, value in subject.identifiers}
    profile_ids = set(subject.profile_ids)
    return [
        request
        for request in DataSubjectRequest.objects.filter(is_anonymised=False).order_by("pk")
        if hashes & {value_hash for _, value_hash in request.identifier_hashes}
        or loose & {_loose(kind, value) for kind, value in request.identifiers}
        or profile_ids & set(request.subject_profile_ids)
    ]


def _ledger_q(subject: Subject) -> Q:
    ids = list(subject.profile_ids)
    return Q(profile_id__in=ids) | Q(origin_profile_id__in=ids)


def _request_row(request: DataSubjectRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "kind": request.kind,
        "regime": request.regime,
        "state": request.state,
        "identifiers": request.identifiers,
        "message": request.message,
        "corrections": request.corrections,
        "received_at": request.received_at,
        "due_at": request.due_at,
        "extension_reason": request.extension_reason,
        "verified_at": request.verified_at,
        "closed_at": request.closed_at,
        "outcome_note": request.outcome_note,
        "steps": [
            {"at": step.at, "by": step.actor_label, "action": step.action, "note": step.note}
            for step in request.steps.all()
        ],
    }


def consent_export(subject: Subject) -> ExportPart:
    """The person's consent history and state, restrictions and privacy requests."""
    ledger = ConsentEvent.objects.filter(_ledger_q(subject)).select_related("purpose")
    requests = requests_of(subject)
    tables: dict[str, list[dict[str, Any]]] = {
        "consent.consentevent": [
            {
                "id": row.pk,
                "purpose": row.purpose.key,
                "granted": row.is_granted,
                "recorded_at": row.recorded_at,
                "source": row.source,
                "evidence": row.evidence,
            }
            for row in ledger.order_by("recorded_at", "pk")
        ],
        "consent.consentstate": [
            {"id": row.pk, "purpose": row.purpose.key, "granted": row.is_granted}
            for row in ConsentState.objects.filter(
                profile_id__in=list(subject.profile_ids)
            ).select_related("purpose")
        ],
        "consent.processingrestriction": list(
            ProcessingRestriction.objects.filter(_ledger_q(subject)).values(
                "id", "kind", "created_at", "lifted_at"
            )
        ),
        "consent.datasubjectrequest": [_request_row(request) for request in requests],
    }
    files = [
        {"path": request.archive.name, "kind": "earlier access archive", "request_id": request.pk}
        for request in requests
        if request.archive
    ]
    if files:
        tables["files"] = files
    return ExportPart(app="consent", tables=tables)


def request_anonymise(*, request: DataSubjectRequest, note: str = "") -> int:
    """Strip a request of everything that identifies the person (identifiers, their message,
    corrections, free-text notes); keep kind, dates, states and keyed hashes. Returns the
    number of step notes cleared."""
    archive_delete(request=request)
    VerificationCode.objects.filter(request=request).delete()
    request.identifiers = []
    request.message = ""
    request.corrections = {}
    request.outcome_note = note or (ERASED if request.outcome_note else "")
    request.extension_reason = ERASED if request.extension_reason else ""
    request.subject_profile_ids = []
    request.is_anonymised = True
    if request.is_open and request.job_state != DataSubjectRequest.JobState.RUNNING:
        request.state = DataSubjectRequest.State.REJECTED
        request.closed_at = timezone.now()
        request.outcome_note = "The person was erased under another request."
    request.save()
    return RequestStep.objects.filter(request=request).exclude(note="").update(note=ERASED)


@transaction.atomic
def consent_erase(subject: Subject) -> ErasureReport:
    """Delete the person's ledger, state and restrictions; anonymise their other privacy
    requests (deleting their archives and codes). Erasure requests still running are left to
    anonymise themselves when they finish. Idempotent."""
    deleted: dict[str, int] = {}
    for model in (ConsentState, ConsentEvent, ProcessingRestriction):
        query = (
            Q(profile_id__in=list(subject.profile_ids))
            if model is ConsentState
            else _ledger_q(subject)
        )
        count, _ = model.objects.filter(query).delete()
        deleted[model._meta.label_lower] = count
    anonymised = steps = files = codes = 0
    for request in requests_of(subject):
        if request.kind == DataSubjectRequest.Kind.ERASURE and request.state == (
            DataSubjectRequest.State.IN_PROGRESS
        ):
            continue
        files += bool(request.archive)
        codes += VerificationCode.objects.filter(request=request).count()
        steps += request_anonymise(request=request)
        anonymised += 1
    deleted["consent.verificationcode"] = codes
    deleted["files"] = files
    return ErasureReport(
        app="consent",
        deleted=deleted,
        anonymised={"consent.datasubjectrequest": anonymised, "consent.requeststep": steps},
    )


HANDLER = PrivacyHandler(app="consent", export=consent_export, erase=consent_erase, order=20)
