"""Consent services: run a data-subject request as a job — export an archive, erase, rectify,
restrict, record an objection or a CCPA opt-out — with progress and a report on the row.

The row is the job: a duplicate delivery finds it claimed or done; a crashed run is re-claimed
once its heartbeat is stale and resumes after the steps its report already holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import SYSTEM
from cdp.core.audit import audit_record
from cdp.core.privacy import Subject, privacy_handlers
from consent.models import DataSubjectRequest, ProcessingRestriction, Purpose, Suppression

from .archive import archive_write
from .ledger import ConsentChoice, consent_record
from .privacy_handler import request_anonymise
from .providers import ResolvedSubject, subject_rectify, subject_resolve
from .requests import step_record
from .restrictions import restriction_add
from .suppression import suppression_add_identifiers

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
Job = DataSubjectRequest.JobState


def _claim(request_id: int) -> DataSubjectRequest | None:
    """Take the job: queued, or running with a stale heartbeat (its worker died)."""
    with transaction.atomic():
        request = (
            DataSubjectRequest.objects.select_for_update(skip_locked=True)
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            return None
        stale = request.job_heartbeat_at is None or (
            request.job_heartbeat_at < timezone.now() - STALE_AFTER
        )
        if request.job_state == Job.QUEUED or (request.job_state == Job.RUNNING and stale):
            request.job_state = Job.RUNNING
            request.job_heartbeat_at = timezone.now()
            request.save(update_fields=["job_state", "job_heartbeat_at", "updated_at"])
            return request
    return None


def _progress(request: DataSubjectRequest, *, done: int, total: int) -> None:
    request.progress_done, request.progress_total = done, total
    request.job_heartbeat_at = timezone.now()
    request.save(
        update_fields=[
            "progress_done",
            "progress_total",
            "job_heartbeat_at",
            "report",
            "updated_at",
        ]
    )


def _resolve(request: DataSubjectRequest) -> ResolvedSubject:
    resolved = subject_resolve(
        identifiers=[(kind, value) for kind, value in request.identifiers],
        profile_ids=request.subject_profile_ids,
        unmerged_since=request.received_at,
    )
    # A resumed run still names profiles an earlier attempt already erased (plain ids in the
    # apps that keep them, e.g. the consent ledger).
    request.subject_profile_ids = sorted(
        set(request.subject_profile_ids) | set(resolved.subject.profile_ids)
    )
    request.save(update_fields=["subject_profile_ids", "updated_at"])
    subject = Subject(
        profile_ids=tuple(request.subject_profile_ids), identifiers=resolved.subject.identifiers
    )
    return ResolvedSubject(subject=subject, active_profile_ids=resolved.active_profile_ids)


def _complete(request: DataSubjectRequest, *, action: str, details: dict[str, Any]) -> None:
    request.state = DataSubjectRequest.State.COMPLETED
    request.job_state = Job.SUCCEEDED
    request.closed_at = timezone.now()
    request.progress_done = request.progress_total
    request.save()
    step_record(request=request, actor=SYSTEM, action="completed", details=details)
    audit_record(actor=SYSTEM, action=action, target=request, details=details)


def _run_export(request: DataSubjectRequest) -> None:
    subject = _resolve(request).subject
    handlers = privacy_handlers()
    total = len(handlers) + 1
    tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for done, handler in enumerate(handlers, start=1):
        part = handler.export(subject)
        tables[part.app] = part.tables
        _progress(request, done=done, total=total)
    manifest = {
        "request_id": request.pk,
        "kind": request.kind,
        "regime": request.regime,
        "generated_at": timezone.now().isoformat(),
        "format": "cdp-dsr-archive/1",
        "tables": {name: len(rows) for part in tables.values() for name, rows in part.items()},
    }
    archive_write(request=request, tables=tables, manifest=manifest)
    request.report = {"tables": manifest["tables"], "profiles": len(subject.profile_ids)}
    _complete(request, action="consent.dsr.export", details={"tables": manifest["tables"]})


def _run_erasure(request: DataSubjectRequest) -> None:
    subject = _resolve(request).subject
    handlers = privacy_handlers()
    total = len(handlers) + 2
    report = request.report or {"started_at": timezone.now().isoformat(), "apps": {}}
    request.report = report
    if "suppression" not in report:
        added = suppression_add_identifiers(
            identifiers=subject.identifiers,
            reason=Suppression.Reason.ERASURE,
            request_id=request.pk,
        )
        report["suppression"] = {"added": added, "identifiers": len(subject.identifiers)}
        report["profiles"] = len(subject.profile_ids)
        _progress(request, done=1, total=total)
    for done, handler in enumerate(handlers, start=2):
        if handler.app in report["apps"]:
            continue
        outcome = handler.erase(subject)
        report["apps"][handler.app] = {"deleted": outcome.deleted, "anonymised": outcome.anonymised}
        _progress(request, done=done, total=total)
    report["caches"] = "CDP keeps no personal data in caches or search indexes"
    report["finished_at"] = timezone.now().isoformat()
    request_anonymise(request=request)
    _complete(
        request,
        action="consent.dsr.erase",
        details={"profiles": report["profiles"], "suppressed": report["suppression"]["added"]},
    )


def _run_rectification(request: DataSubjectRequest) -> None:
    subject = _resolve(request).subject
    outcome = subject_rectify(
        subject=subject, corrections=request.corrections, request_id=request.pk
    )
    request.report = {"applied": list(outcome.applied), "refused": outcome.refused}
    _complete(request, action="consent.dsr.rectify", details={"applied": list(outcome.applied)})


def _restrict(kind: str) -> Callable[[DataSubjectRequest], None]:
    def run(request: DataSubjectRequest) -> None:
        active = list(_resolve(request).active_profile_ids)
        created = restriction_add(profile_ids=active, kind=kind, request_id=request.pk)
        request.report = {"profiles": len(active), "restrictions_added": len(created)}
        _complete(request, action=f"consent.dsr.{kind}", details=request.report)

    return run


def _run_opt_out(request: DataSubjectRequest) -> None:
    active = list(_resolve(request).active_profile_ids)
    keys = list(Purpose.objects.filter(is_sale_or_share=True).values_list("key", flat=True))
    withdrawn = 0
    for profile_id in active:
        withdrawn += len(
            consent_record(
                profile_id=profile_id,
                choices=[ConsentChoice(purpose_key=key, is_granted=False) for key in keys],
                source="dsr",
                evidence={"request_id": request.pk, "right": "opt_out_of_sale_or_sharing"},
            )
        )
    request.report = {"profiles": len(active), "purposes": keys, "entries": withdrawn}
    _complete(request, action="consent.dsr.opt_out", details=request.report)


_RUNNERS: dict[str, Callable[[DataSubjectRequest], None]] = {
    DataSubjectRequest.Kind.ACCESS: _run_export,
    DataSubjectRequest.Kind.PORTABILITY: _run_export,
    DataSubjectRequest.Kind.ERASURE: _run_erasure,
    DataSubjectRequest.Kind.RECTIFICATION: _run_rectification,
    DataSubjectRequest.Kind.RESTRICTION: _restrict(ProcessingRestriction.Kind.RESTRICTION),
    DataSubjectRequest.Kind.OBJECTION: _restrict(ProcessingRestriction.Kind.OBJECTION),
    DataSubjectRequest.Kind.OPT_OUT: _run_opt_out,
}


def dsr_run(*, request_id: int) -> str:
    """Run a queued request's job to the end; return its job state.

    Idempotent: a job already done, or held by a live worker, is left alone. A database outage
    propagates (the task retries; the sweeper re-kicks a stale run); any other failure is
    recorded on the row as failed, to be restarted by the officer.
    """
    request = _claim(request_id)
    if request is None:
        state = DataSubjectRequest.objects.filter(pk=request_id).values_list("job_state", flat=True)
        return state.first() or "missing"
    try:
        _RUNNERS[request.kind](request)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("dsr_failed", extra={"request_id": request.pk})
        DataSubjectRequest.objects.filter(pk=request.pk).update(
            job_state=Job.FAILED, job_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        step_record(
            request=request, actor=SYSTEM, action="failed", details={"error": type(exc).__name__}
        )
        return Job.FAILED
    return Job.SUCCEEDED


def dsr_sweep() -> int:
    """Re-kick jobs left queued or running with a stale heartbeat (lost broker messages,
    dead workers). Returns how many were kicked."""
    cutoff = timezone.now() - STALE_AFTER
    ids = list(
        DataSubjectRequest.objects.filter(job_state__in=[Job.QUEUED, Job.RUNNING])
        .exclude(job_heartbeat_at__gte=cutoff)
        .values_list("pk", flat=True)
    )
    for request_id in ids:
        jobs.publish_on_commit(jobs.DSR_EXECUTION_REQUESTED, request_id=request_id)
    return len(ids)
