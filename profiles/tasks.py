"""Profiles Celery entry points: thin — take ids, call one service, retry transient failures."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from celery import Task, shared_task

from .services.imports import import_run_execute, imports_sweep
from .services.processing import events_process, events_sweep
from .services.resolution import resolution_run_execute
from .services.resolution_runs import resolution_sweep


def _backoff(retries: int) -> int:
    return min(600, 5 * 2**retries)


@shared_task(bind=True, name="profiles.events_process", max_retries=8)
def events_process_task(self: Task, event_ids: list[int]) -> int:
    """Process a micro-batch of stored events (idempotent; skips what is no longer pending)."""
    try:
        return events_process(event_ids=event_ids).processed
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="profiles.events_sweep")
def events_sweep_task() -> int:
    """Beat: re-kick events left pending past their lease (lost broker messages)."""
    return events_sweep()


@shared_task(bind=True, name="profiles.import_run", max_retries=3)
def import_run_task(self: Task, import_run_id: int) -> str:
    """Run one file import to the end (resumes from its stored position after a crash)."""
    try:
        return import_run_execute(import_run_id=import_run_id)
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="profiles.imports_sweep")
def imports_sweep_task() -> int:
    """Beat: re-kick imports queued or running with a stale heartbeat."""
    return imports_sweep()


@shared_task(bind=True, name="profiles.identities_resolve", max_retries=3)
def identities_resolve_task(self: Task, run_id: int | None = None) -> str:
    """Execute one queued resolution run (RESOLUTION_REQUESTED); without a run id (beat), sweep:
    fail dead runs, re-kick lost ones and queue an incremental run. Idempotent."""
    try:
        if run_id is None:
            return str(resolution_sweep())
        return resolution_run_execute(run_id=run_id)
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
