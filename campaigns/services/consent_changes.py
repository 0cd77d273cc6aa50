"""Campaigns services: react to consent changes at once — queued sends whose purpose is no
longer allowed are skipped, and pushed audiences drop people who withdrew."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.utils import timezone

from campaigns.models import Campaign, CampaignMembership, Send
from campaigns.selectors.campaigns import campaigns_by_ids
from campaigns.selectors.people import consent_allowed

from .memberships import audience_push_sync


def consent_changed(*, profile_ids: Sequence[int]) -> int:
    """CONSENT_CHANGED: skip (no_consent) queued sends these people no longer allow, and
    sync pushed lists they are on. The dispatcher checks consent again at send time; this
    only makes the effect immediate and visible. Idempotent. Returns rows skipped."""
    ids = sorted(set(profile_ids))
    if not ids:
        return 0
    now = timezone.now()
    queued = Send.objects.filter(profile_id__in=ids, status=Send.Status.QUEUED).exclude(
        kind=Send.Kind.AUDIENCE_REMOVE
    )
    by_purpose: dict[str, set[int]] = defaultdict(set)
    for profile_id, purpose in queued.values_list("profile_id", "campaign__purpose_key"):
        by_purpose[purpose].add(profile_id)
    skipped = 0
    for purpose, people in by_purpose.items():
        refused = people - consent_allowed(people, purpose_key=purpose)
        skipped += queued.filter(campaign__purpose_key=purpose, profile_id__in=refused).update(
            status=Send.Status.SKIPPED, reason=Send.Reason.NO_CONSENT, finished_at=now
        )
    memberships = CampaignMembership.objects.filter(
        profile_id__in=ids, campaign__channel=Campaign.Channel.AUDIENCE_EXPORT
    ).values_list("campaign_id", "profile_id")
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for campaign_id, profile_id in memberships:
        by_campaign[campaign_id].append(profile_id)
    for campaign in campaigns_by_ids(by_campaign).values():
        if campaign.status == Campaign.Status.ACTIVE:
            audience_push_sync(campaign=campaign, profile_ids=by_campaign[campaign.pk], now=now)
    return skipped
