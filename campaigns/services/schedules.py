"""Campaigns services: the schedule runner — one ScheduleRun per occurrence, each recipient
queued at the send time on their own clock (or the campaign's fixed zone)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from campaigns.compute.scheduling import Occurrence as ScheduleOccurrence
from campaigns.compute.scheduling import due_occurrences, is_valid_timezone, local_send_instant
from campaigns.models import Campaign, ScheduleRun
from campaigns.selectors.audience import audience_with_timezones
from campaigns.selectors.campaigns import campaigns_live

from .exports import audience_export_write
from .outbox import Occurrence, sends_enqueue

logger = logging.getLogger(__name__)
CHUNK = 5_000


def schedules_run(*, now: datetime | None = None) -> int:
    """Beat: queue every scheduled occurrence that has come due. Idempotent (one run row per
    occurrence; one send per person and occurrence). Returns the occurrences offered."""
    now = now or timezone.now()
    offered = 0
    for campaign in campaigns_live(now=now, triggers=[Campaign.Trigger.SCHEDULE]):
        if campaign.schedule_time is None:
            continue
        occurrences = due_occurrences(
            now,
            recurrence=campaign.schedule_recurrence,
            at=campaign.schedule_time,
            once_on=campaign.schedule_date,
            weekday=campaign.schedule_weekday,
            fixed_tz=campaign.timezone or None,
            not_before=campaign.launched_at,
        )
        for occurrence in occurrences:
            offered += schedule_run_execute(campaign=campaign, occurrence=occurrence, now=now)
    return offered


def _open_run(campaign: Campaign, key: str) -> ScheduleRun | None:
    """The occurrence's run row if it still has work (a crashed run is simply redone:
    the outbox's unique key drops what it had already queued)."""
    run, _ = ScheduleRun.objects.get_or_create(campaign=campaign, occurrence_key=key)
    return run if run.state == ScheduleRun.State.RUNNING else None


def _due_for(timezone_name: object, campaign: Campaign, occurrence: ScheduleOccurrence) -> datetime:
    if campaign.timezone:
        return occurrence.earliest
    zone = settings.CDP_CAMPAIGN_DEFAULT_TIMEZONE
    if isinstance(timezone_name, str) and is_valid_timezone(timezone_name):
        zone = timezone_name
    return local_send_instant(occurrence.day, campaign.schedule_time, zone)  # type: ignore[arg-type]


def schedule_run_execute(
    *, campaign: Campaign, occurrence: ScheduleOccurrence, now: datetime
) -> int:
    """Queue one occurrence for the whole audience (or write the audience CSV for an
    export campaign). A second call for a finished run does nothing."""
    run = _open_run(campaign, occurrence.key)
    if run is None:
        return 0
    if campaign.channel == Campaign.Channel.AUDIENCE_EXPORT:
        offered = audience_export_write(campaign_id=campaign.pk).rows
    else:
        offered = _queue_audience(campaign, occurrence, now)
    ScheduleRun.objects.filter(pk=run.pk).update(
        state=ScheduleRun.State.QUEUED, queued=offered, finished_at=timezone.now()
    )
    logger.info("schedule_run_queued", extra={"campaign_id": campaign.pk, "count": offered})
    return offered


def _queue_audience(campaign: Campaign, occurrence: ScheduleOccurrence, now: datetime) -> int:
    offered = 0
    chunk: list[Occurrence] = []
    key = f"schedule:{occurrence.key}"
    for profile_id, timezone_name in audience_with_timezones(campaign, chunk_size=CHUNK):
        due = max(_due_for(timezone_name, campaign, occurrence), now)
        chunk.append(Occurrence(profile_id=profile_id, key=key, triggered_at=due, due_at=due))
        if len(chunk) >= CHUNK:
            offered += sends_enqueue(campaign=campaign, occurrences=chunk)
            chunk = []
    offered += sends_enqueue(campaign=campaign, occurrences=chunk)
    return offered
