"""Campaigns services: compute a campaign's results (SQL per-person outcomes → statistics in
campaigns.compute.results), record conversions, and keep result snapshots over time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.compute.assignment import HOLDOUT, planned_shares
from campaigns.compute.results import campaign_results
from campaigns.models import Campaign, Conversion, ResultSnapshot
from campaigns.selectors.campaigns import arm_specs, campaign_get
from campaigns.selectors.results import outcome_frame, send_counts, sends_by_day

logger = logging.getLogger(__name__)
# Ended campaigns keep being measured until their last attribution window has closed.
RECENT = timedelta(days=30)


def _arms(campaign: Campaign) -> list[str]:
    keys = [arm.key for arm in arm_specs(campaign)]
    return [*keys, HOLDOUT] if campaign.holdout_share > 0 else keys


def results_refresh(*, campaign_id: int) -> ResultSnapshot:
    """Recompute results now, record new conversions, store and return a snapshot.

    Idempotent apart from adding a snapshot (conversions are unique per person). Raises
    NotFoundError for an unknown campaign.
    """
    campaign = campaign_get(campaign_id=campaign_id)
    frame, converters = outcome_frame(campaign)
    arms = _arms(campaign)
    shares = planned_shares(arm_specs(campaign), float(campaign.holdout_share)) if arms else {}
    report = campaign_results(
        frame,
        arms=arms,
        expected_shares=shares,
        min_per_arm=campaign.min_sample_per_arm,
    )
    counts = send_counts(campaign)
    for arm in report["arms"]:
        arm["sends"] = counts.get(arm["key"], {})
    report["sends_by_day"] = sends_by_day(campaign)
    report["goal_event"] = campaign.goal_event
    report["attribution_window_hours"] = campaign.attribution_window_hours
    report["min_sample_per_arm"] = campaign.min_sample_per_arm
    with transaction.atomic():
        Conversion.objects.bulk_create(
            [
                Conversion(
                    campaign=campaign,
                    profile_id=profile_id,
                    arm=arm,
                    converted_at=converted_at,
                    event_id=event_id,
                )
                for profile_id, arm, converted_at, event_id in converters
            ],
            ignore_conflicts=True,
            batch_size=5_000,
        )
        return ResultSnapshot.objects.create(campaign=campaign, report=report)


def results_refresh_due(*, now: datetime | None = None) -> int:
    """Beat: refresh every launched campaign that is live or ended recently. Returns count."""
    now = now or timezone.now()
    campaigns = Campaign.objects.filter(launched_at__isnull=False).filter(
        Q(status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED])
        | Q(ended_at__gte=now - RECENT)
    )
    refreshed = 0
    for campaign_id in campaigns.values_list("pk", flat=True):
        results_refresh(campaign_id=campaign_id)
        refreshed += 1
    return refreshed
