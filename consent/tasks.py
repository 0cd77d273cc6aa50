"""Consent Celery entry points: thin — take ids, call one service, retry transient failures."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from celery import Task, shared_task

from .services.archive import archives_expire
from .services.execution import dsr_run, dsr_sweep
from .services.reminders import dsr_deadlines_remind
from .services.retention import retention_purge
from .services.verification import verification_codes_expire


def _backoff(retries: int) -> int:
    return min(600, 15 * 2**retries)


@shared_task(bind=True, name="consent.dsr_run", max_retries=6)
def dsr_run_task(self: Task, request_id: int) -> str:
    """Run one data-subject request's job (export, erasure ...); idempotent."""
    try:
        return dsr_run(request_id=request_id)
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="consent.dsr_sweep")
def dsr_sweep_task() -> int:
    """Beat: re-kick request jobs left queued or running with a stale heartbeat."""
    return dsr_sweep()


@shared_task(name="consent.dsr_deadlines_remind")
def dsr_deadlines_remind_task() -> int:
    """Beat: the daily digest of requests due within a week or overdue."""
    return dsr_deadlines_remind()


@shared_task(name="consent.retention_purge")
def retention_purge_task() -> int:
    """Beat: purge raw events past their retention rule; counts go to the audit log."""
    return sum(retention_purge().values())


@shared_task(name="consent.privacy_housekeeping")
def privacy_housekeeping_task() -> int:
    """Beat: delete expired verification codes and expired access archives."""
    return verification_codes_expire() + archives_expire()
