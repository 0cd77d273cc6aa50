"""Campaigns Celery entry points: thin — take ids, call one service, retry transient
database failures. Every flow here also has a beat sweeper (cdp/settings/celery.py)."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from celery import Task, shared_task

from .services.consent_changes import consent_changed
from .services.dispatch import sends_dispatch
from .services.memberships import memberships_reconcile, segment_membership_changed
from .services.outbox import sends_due_sweep, sends_recover
from .services.recommendations import recommendations_refresh
from .services.results import results_refresh_due
from .services.schedules import schedules_run
from .services.triggers import event_triggers_fire, event_triggers_sweep

TRANSIENT = (OperationalError, InterfaceError)


def _backoff(retries: int) -> int:
    return min(300, 5 * 2**retries)


@shared_task(bind=True, name="campaigns.event_triggers_fire", max_retries=8)
def event_triggers_fire_task(
    self: Task, profile_ids: list[int] | None = None, event_ids: list[int] | None = None
) -> int:
    """PROFILES_CHANGED: queue sends for processed events that trigger a campaign."""
    try:
        return event_triggers_fire(event_ids=event_ids or [])
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, name="campaigns.segment_membership_changed", max_retries=8)
def segment_membership_changed_task(
    self: Task, segment_id: int, entered_ids: list[int], exited_ids: list[int]
) -> int:
    """SEGMENT_MEMBERSHIP_CHANGED: entry sends and audience list pushes."""
    try:
        return segment_membership_changed(
            segment_id=segment_id, entered_ids=entered_ids, exited_ids=exited_ids
        )
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, name="campaigns.consent_changed", max_retries=8)
def consent_changed_task(self: Task, profile_ids: list[int]) -> int:
    """CONSENT_CHANGED: skip queued sends no longer allowed; sync pushed lists."""
    try:
        return consent_changed(profile_ids=profile_ids)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, name="campaigns.sends_dispatch", max_retries=8)
def sends_dispatch_task(self: Task, campaign_ids: list[int] | None = None) -> int:
    """CAMPAIGN_SENDS_DUE: claim and send due outbox rows until none is due."""
    try:
        return sends_dispatch().claimed
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="campaigns.sends_due_sweep")
def sends_due_sweep_task() -> int:
    """Beat: kick dispatchers for rows whose delay came due (or whose kick was lost)."""
    return sends_due_sweep()


@shared_task(name="campaigns.sends_recover")
def sends_recover_task() -> int:
    """Beat: recover rows a dead worker left `sending` past their lease."""
    outcome = sends_recover()
    return outcome.requeued + outcome.unknown


@shared_task(name="campaigns.event_triggers_sweep")
def event_triggers_sweep_task() -> int:
    """Beat: re-fire triggers of recently processed events (lost notifications)."""
    return event_triggers_sweep()


@shared_task(name="campaigns.memberships_reconcile")
def memberships_reconcile_task() -> int:
    """Beat: apply segment entries/exits that no notification delivered."""
    return memberships_reconcile()


@shared_task(name="campaigns.schedules_run")
def schedules_run_task() -> int:
    """Beat: queue scheduled occurrences that came due."""
    return schedules_run()


@shared_task(name="campaigns.results_refresh")
def results_refresh_task() -> int:
    """Beat: refresh results (and conversions) of live and recently ended campaigns."""
    return results_refresh_due()


@shared_task(name="campaigns.recommendations_refresh")
def recommendations_refresh_task() -> int:
    """Beat: recompute product recommendations."""
    return recommendations_refresh()
