"""Campaigns public surface: what other code may read about campaigns (nothing imports
campaigns today; it is the top app). Ids and dataclasses only."""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.models import Campaign


@dataclass(frozen=True, kw_only=True)
class CampaignSummary:
    id: int
    name: str
    status: str
    channel: str
    segment_id: int | None


def campaigns_using_segment(*, segment_id: int) -> list[CampaignSummary]:
    """Campaigns that target `segment_id` (e.g. to warn before a segment is archived)."""
    return [
        CampaignSummary(
            id=campaign.pk,
            name=campaign.name,
            status=campaign.status,
            channel=campaign.channel,
            segment_id=campaign.segment_id,
        )
        for campaign in Campaign.objects.filter(segment_id=segment_id).order_by("pk")
    ]
