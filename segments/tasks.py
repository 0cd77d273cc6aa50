"""Segments Celery entry points: thin — take ids, call one service, retry transient failures."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from celery import Task, shared_task

from .services.realtime import segments_realtime_evaluate
from .services.refresh import segment_refresh, segments_refresh_sweep
from .services.scoring import computed_traits_recompute_job, custom_traits_compute, rfm_rescore_job

_TRANSIENT = (OperationalError, InterfaceError)


def _backoff(retries: int) -> int:
    return min(300, 2 * 2**retries)


@shared_task(bind=True, name="segments.segment_refresh", max_retries=6)
def segment_refresh_task(self: Task, segment_id: int) -> str:
    """Recompute one segment's members when due (idempotent; see services.refresh)."""
    try:
        return segment_refresh(segment_id=segment_id).value
    except _TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="segments.segments_refresh_sweep")
def segments_refresh_sweep_task() -> int:
    """Beat: ask for a refresh of every segment whose cron time came or definition changed."""
    return len(segments_refresh_sweep())


@shared_task(bind=True, name="segments.segments_realtime_evaluate", max_retries=8)
def segments_realtime_evaluate_task(
    self: Task, profile_ids: list[int], event_ids: list[int] | None = None
) -> int:
    """PROFILES_CHANGED: re-evaluate real-time segments for the touched profiles. A change
    without events (a merge or unmerge moved rows) first refreshes their computed traits."""
    try:
        return segments_realtime_evaluate(profile_ids=profile_ids, refresh_traits=not event_ids)
    except _TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, name="segments.segments_realtime_consent", max_retries=8)
def segments_realtime_consent_task(self: Task, profile_ids: list[int]) -> int:
    """CONSENT_CHANGED: re-evaluate real-time segments (consent conditions) for the profiles."""
    try:
        return segments_realtime_evaluate(profile_ids=profile_ids)
    except _TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, name="segments.custom_traits_compute", max_retries=3)
def custom_traits_compute_task(self: Task, trait_keys: list[str]) -> int:
    """COMPUTED_TRAITS_REQUESTED: compute changed custom traits for every profile."""
    try:
        return custom_traits_compute(keys=trait_keys)
    except _TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="segments.computed_traits_recompute")
def computed_traits_recompute_task() -> int:
    """Beat (nightly): recompute every profile's computed traits (windows age, repairs)."""
    return computed_traits_recompute_job().pk


@shared_task(name="segments.rfm_rescore")
def rfm_rescore_task() -> int:
    """Beat (nightly): RFM scores, RFM segments and lifecycle stages of every profile."""
    return rfm_rescore_job().pk
