"""Campaigns services: launch, pause, resume and end a campaign (each a state change of the
campaign row, audited)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, Send
from campaigns.selectors.campaigns import arm_specs, campaign_lock
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, InvalidInputError

from .definitions import VariantSpec, campaign_validate, variants_validate
from .memberships import audience_push_sync, memberships_seed


def _require(campaign: Campaign, *states: str, verb: str) -> None:
    if campaign.status not in states:
        raise ConflictError(
            f"Cannot {verb} a campaign that is {campaign.status}.",
            details={"status": campaign.status},
        )


def _ensure_variants(campaign: Campaign) -> None:
    """Message campaigns need variants with content; an audience export gets a default arm."""
    variants = list(campaign.variants.all())
    if not variants and campaign.channel == Campaign.Channel.AUDIENCE_EXPORT:
        campaign.variants.create(key="export", name="Exported", weight=1.0)
        variants = list(campaign.variants.all())
    if not variants:
        raise InvalidInputError("Add at least one variant before launching.")
    if campaign.channel == Campaign.Channel.EMAIL and any(
        not (variant.subject and (variant.body_text or variant.body_html)) for variant in variants
    ):
        raise InvalidInputError("Every email variant needs a subject and a body.")
    variants_validate(
        [
            VariantSpec(
                key=variant.key,
                weight=variant.weight,
                subject=variant.subject,
                body_text=variant.body_text,
                body_html=variant.body_html,
            )
            for variant in variants
        ],
        holdout_share=campaign.holdout_share,
    )


@transaction.atomic
def campaign_launch(*, campaign_id: int, actor: Actor) -> Campaign:
    """Start a draft campaign: validate everything, mark it active, and for segment-driven
    campaigns record today's members (only later entries trigger; a list push adds them).

    Raises ConflictError unless the campaign is a draft, InvalidInputError for bad settings.
    """
    campaign = campaign_lock(campaign_id=campaign_id)
    _require(campaign, Campaign.Status.DRAFT, verb="launch")
    campaign_validate(campaign)
    _ensure_variants(campaign)
    now = timezone.now()
    campaign.status = Campaign.Status.ACTIVE
    campaign.launched_at = now
    campaign.save(update_fields=["status", "launched_at", "updated_at"])
    seeded = 0
    if campaign.segment_id is not None and (
        campaign.trigger == Campaign.Trigger.SEGMENT_ENTRY
        or campaign.channel == Campaign.Channel.AUDIENCE_EXPORT
    ):
        seeded = memberships_seed(campaign=campaign, now=now)
        if campaign.channel == Campaign.Channel.AUDIENCE_EXPORT:
            members = list(campaign.memberships.values_list("profile_id", flat=True))
            audience_push_sync(campaign=campaign, profile_ids=members, now=now)
    audit_record(
        actor=actor,
        action="campaigns.campaign.launch",
        target=campaign,
        details={"arms": [arm.key for arm in arm_specs(campaign)], "seeded": seeded},
    )
    return campaign


@transaction.atomic
def campaign_pause(*, campaign_id: int, actor: Actor) -> Campaign:
    """Hold an active campaign: no triggers fire and queued sends wait. Idempotent."""
    campaign = campaign_lock(campaign_id=campaign_id)
    if campaign.status == Campaign.Status.PAUSED:
        return campaign
    _require(campaign, Campaign.Status.ACTIVE, verb="pause")
    campaign.status = Campaign.Status.PAUSED
    campaign.paused_at = timezone.now()
    campaign.save(update_fields=["status", "paused_at", "updated_at"])
    audit_record(actor=actor, action="campaigns.campaign.pause", target=campaign)
    return campaign


@transaction.atomic
def campaign_resume(*, campaign_id: int, actor: Actor) -> Campaign:
    """Resume a paused campaign; sends that came due meanwhile go out now. Idempotent."""
    campaign = campaign_lock(campaign_id=campaign_id)
    if campaign.status == Campaign.Status.ACTIVE:
        return campaign
    _require(campaign, Campaign.Status.PAUSED, verb="resume")
    campaign.status = Campaign.Status.ACTIVE
    campaign.paused_at = None
    campaign.save(update_fields=["status", "paused_at", "updated_at"])
    audit_record(actor=actor, action="campaigns.campaign.resume", target=campaign)
    return campaign


@transaction.atomic
def campaign_end(*, campaign_id: int, actor: Actor) -> Campaign:
    """End a campaign for good: queued sends are skipped (campaign_ended). Idempotent."""
    campaign = campaign_lock(campaign_id=campaign_id)
    if campaign.status == Campaign.Status.ENDED:
        return campaign
    _require(
        campaign, Campaign.Status.ACTIVE, Campaign.Status.PAUSED, Campaign.Status.DRAFT, verb="end"
    )
    now = timezone.now()
    skipped = Send.objects.filter(campaign=campaign, status=Send.Status.QUEUED).update(
        status=Send.Status.SKIPPED, reason=Send.Reason.CAMPAIGN_ENDED, finished_at=now
    )
    campaign.status = Campaign.Status.ENDED
    campaign.ended_at = now
    campaign.save(update_fields=["status", "ended_at", "updated_at"])
    audit_record(
        actor=actor, action="campaigns.campaign.end", target=campaign, details={"skipped": skipped}
    )
    return campaign


@transaction.atomic
def campaign_delete(*, campaign_id: int, actor: Actor) -> None:
    """Delete a draft (nothing was sent). Raises ConflictError once launched: the send log
    and results of a launched campaign are kept; end it instead."""
    campaign = campaign_lock(campaign_id=campaign_id)
    if campaign.launched_at is not None or campaign.status != Campaign.Status.DRAFT:
        raise ConflictError("Only drafts can be deleted; end a launched campaign instead.")
    audit_record(
        actor=actor,
        action="campaigns.campaign.delete",
        target=campaign,
        details={"name": campaign.name},
    )
    campaign.delete()
