"""Campaigns selectors: campaigns, their variants and content blocks; row locks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet

from campaigns.compute.assignment import Variant as ArmSpec
from campaigns.models import Campaign, ContentBlock, Recommendation, Variant
from cdp.core.errors import NotFoundError


def campaign_get(*, campaign_id: int) -> Campaign:
    """The campaign with its variants. Raises NotFoundError."""
    campaign = Campaign.objects.prefetch_related("variants").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFoundError(f"No campaign with id {campaign_id}.")
    return campaign


def campaign_lock(*, campaign_id: int) -> Campaign:
    """The campaign row locked FOR UPDATE (one writer changes its state). Raises NotFoundError."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFoundError(f"No campaign with id {campaign_id}.")
    return campaign


def campaign_list_qs() -> QuerySet[Campaign]:
    return Campaign.objects.order_by("-created_at", "-pk")


def campaigns_live(*, now: datetime, triggers: Iterable[str] | None = None) -> list[Campaign]:
    """Active campaigns inside their date window (with variants), optionally of some triggers."""
    campaigns = Campaign.objects.filter(status=Campaign.Status.ACTIVE).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
    )
    if triggers is not None:
        campaigns = campaigns.filter(trigger__in=list(triggers))
    return list(campaigns.prefetch_related("variants").order_by("pk"))


def campaigns_by_ids(campaign_ids: Iterable[int]) -> dict[int, Campaign]:
    campaigns = Campaign.objects.filter(pk__in=list(campaign_ids)).prefetch_related("variants")
    return {campaign.pk: campaign for campaign in campaigns}


def campaign_is_live(campaign: Campaign, *, now: datetime) -> bool:
    """Active, started and not past its end (no query)."""
    if campaign.status != Campaign.Status.ACTIVE:
        return False
    if campaign.starts_at is not None and campaign.starts_at > now:
        return False
    return campaign.ends_at is None or campaign.ends_at > now


def arm_specs(campaign: Campaign) -> list[ArmSpec]:
    """The campaign's variants as assignment arms, in key order (uses prefetched variants)."""
    variants = sorted(campaign.variants.all(), key=lambda variant: variant.key)
    return [ArmSpec(key=variant.key, weight=float(variant.weight)) for variant in variants]


def variant_by_key(campaign: Campaign) -> dict[str, Variant]:
    return {variant.key: variant for variant in campaign.variants.all()}


def content_blocks_active() -> list[ContentBlock]:
    return list(ContentBlock.objects.filter(is_active=True).order_by("-priority", "key"))


def recommendations_for(profile_ids: Iterable[int]) -> dict[int, list[dict[str, object]]]:
    """Recommended products per profile in rank order (one query), as template-ready dicts."""
    found: dict[int, list[dict[str, object]]] = {}
    rows = (
        Recommendation.objects.filter(profile_id__in=list(profile_ids))
        .order_by("profile_id", "rank")
        .values("profile_id", "product_id", "category", "score", "method", "rank")
    )
    for row in rows:
        found.setdefault(row.pop("profile_id"), []).append(row)
    return found
