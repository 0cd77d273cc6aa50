"""Campaigns services: create and edit campaigns, their variants and content blocks, with
every rule checked before a row changes (templates compile, filters, schedule, segment)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.compute.assignment import Variant as ArmSpec
from campaigns.compute.assignment import validate_variants
from campaigns.compute.offers import OfferRule, validate_rules
from campaigns.compute.scheduling import is_valid_timezone
from campaigns.models import Campaign, ContentBlock, Variant
from campaigns.selectors.audience import segment_check
from campaigns.selectors.campaigns import campaign_lock
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, InvalidInputError

from .rendering import template_compile
from .triggers import filters_validate

EDITABLE_FIELDS = (
    "name",
    "description",
    "segment_id",
    "trigger",
    "trigger_event",
    "trigger_filters",
    "delay_seconds",
    "exit_event",
    "schedule_recurrence",
    "schedule_date",
    "schedule_time",
    "schedule_weekday",
    "timezone",
    "channel",
    "purpose_key",
    "webhook_url",
    "webhook_traits",
    "cap_per_person",
    "cap_per_day",
    "cap_per_week",
    "quiet_start",
    "quiet_end",
    "quiet_hours_policy",
    "starts_at",
    "ends_at",
    "holdout_share",
    "goal_event",
    "attribution_window_hours",
    "min_sample_per_arm",
)
# Changing these after launch would change who is in which arm, or what the test measures.
LOCKED_AFTER_LAUNCH = frozenset({"segment_id", "trigger", "channel", "holdout_share"})


@dataclass(frozen=True, kw_only=True)
class VariantSpec:
    key: str
    name: str = ""
    weight: float = 1.0
    subject: str = ""
    body_text: str = ""
    body_html: str = ""


def _trigger_problems(campaign: Campaign) -> dict[str, str]:
    problems: dict[str, str] = {}
    if campaign.trigger == Campaign.Trigger.EVENT:
        if not campaign.trigger_event:
            problems["trigger_event"] = "An event trigger needs an event name."
        try:
            filters_validate(campaign.trigger_filters)
        except ValueError as exc:
            problems["trigger_filters"] = str(exc)
    elif campaign.trigger == Campaign.Trigger.SEGMENT_ENTRY and campaign.segment_id is None:
        problems["segment_id"] = "A segment-entry trigger needs a segment."
    elif campaign.trigger == Campaign.Trigger.SCHEDULE:
        problems.update(_schedule_problems(campaign))
    return problems


def _schedule_problems(campaign: Campaign) -> dict[str, str]:
    problems: dict[str, str] = {}
    if campaign.schedule_time is None:
        problems["schedule_time"] = "A schedule needs a send time."
    recurrence = campaign.schedule_recurrence
    if recurrence == Campaign.Recurrence.ONCE and campaign.schedule_date is None:
        problems["schedule_date"] = "A one-off schedule needs a date."
    if recurrence == Campaign.Recurrence.WEEKLY and campaign.schedule_weekday is None:
        problems["schedule_weekday"] = "A weekly schedule needs a weekday."
    return problems


def _channel_problems(campaign: Campaign) -> dict[str, str]:
    problems: dict[str, str] = {}
    if campaign.channel == Campaign.Channel.WEBHOOK and not campaign.webhook_url:
        problems["webhook_url"] = "A webhook campaign needs a URL."
    if campaign.purpose_key not in settings.CDP_CAMPAIGN_PURPOSES:
        problems["purpose_key"] = f"Unknown purpose {campaign.purpose_key!r}."
    if not isinstance(campaign.webhook_traits, list) or not all(
        isinstance(name, str) for name in campaign.webhook_traits
    ):
        problems["webhook_traits"] = "A list of trait names."
    return problems


def _timing_problems(campaign: Campaign) -> dict[str, str]:
    problems: dict[str, str] = {}
    if campaign.timezone and not is_valid_timezone(campaign.timezone):
        problems["timezone"] = f"Unknown time zone {campaign.timezone!r}."
    if (campaign.quiet_start is None) != (campaign.quiet_end is None):
        problems["quiet_end"] = "Quiet hours need both a start and an end."
    return problems


def campaign_validate(campaign: Campaign) -> None:
    """Raise InvalidInputError listing every problem of the campaign's settings."""
    problems: dict[str, str] = {}
    try:
        campaign.full_clean(exclude=["created_by"], validate_unique=False)
    except ValidationError as exc:
        problems.update({name: " ".join(errors) for name, errors in exc.message_dict.items()})
    problems.update(_trigger_problems(campaign))
    problems.update(_channel_problems(campaign))
    problems.update(_timing_problems(campaign))
    if campaign.segment_id is not None and "segment_id" not in problems:
        try:
            segment_check(segment_id=campaign.segment_id)
        except InvalidInputError as exc:
            problems["segment_id"] = exc.message
    if problems:
        summary = "; ".join(f"{name}: {text}" for name, text in sorted(problems.items()))
        raise InvalidInputError(summary, details=problems)


def variants_validate(specs: Sequence[VariantSpec], *, holdout_share: float) -> None:
    """Raise InvalidInputError for bad keys/weights or templates that do not compile."""
    try:
        validate_variants(
            [ArmSpec(key=spec.key, weight=spec.weight) for spec in specs], holdout_share
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc), details={"variants": str(exc)}) from exc
    for spec in specs:
        for field_name in ("subject", "body_text", "body_html"):
            template_compile(getattr(spec, field_name), field_name=f"{spec.key}.{field_name}")


def _apply_fields(campaign: Campaign, fields: Mapping[str, Any]) -> list[str]:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInputError(f"Unknown fields: {', '.join(unknown)}.")
    changed = [name for name, value in fields.items() if getattr(campaign, name) != value]
    for name in changed:
        setattr(campaign, name, fields[name])
    return changed


@transaction.atomic
def campaign_create(
    *, actor: Actor, fields: Mapping[str, Any], variants: Sequence[VariantSpec] = ()
) -> Campaign:
    """Create a draft campaign (and its variants). Raises InvalidInputError."""
    campaign = Campaign(created_by_id=actor.user_id)
    _apply_fields(campaign, fields)
    campaign_validate(campaign)
    if Campaign.objects.filter(name=campaign.name).exists():
        raise InvalidInputError(f"A campaign named {campaign.name!r} exists.")
    if variants:
        variants_validate(variants, holdout_share=campaign.holdout_share)
    campaign.save()
    _variants_write(campaign, variants)
    audit_record(actor=actor, action="campaigns.campaign.create", target=campaign)
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign_id: int,
    actor: Actor,
    fields: Mapping[str, Any],
    variants: Sequence[VariantSpec] | None = None,
) -> Campaign:
    """Edit a campaign. After launch the audience, trigger kind, channel, holdout share and
    the variants' keys and weights are locked (ConflictError): they define the experiment.
    Raises InvalidInputError for invalid settings. Idempotent."""
    campaign = campaign_lock(campaign_id=campaign_id)
    changed = _apply_fields(campaign, fields)
    is_launched = campaign.launched_at is not None
    locked = sorted(LOCKED_AFTER_LAUNCH & set(changed)) if is_launched else []
    if locked:
        raise ConflictError(
            f"Locked after launch: {', '.join(locked)}.", details={"fields": locked}
        )
    campaign_validate(campaign)
    if variants is not None:
        variants_validate(variants, holdout_share=campaign.holdout_share)
        if is_launched and _arms(variants) != _arms(_specs_of(campaign)):
            raise ConflictError("Variant keys and weights are locked after launch.")
    if changed:
        campaign.save()
    if variants is not None:
        _variants_write(campaign, variants)
    if changed or variants is not None:
        audit_record(
            actor=actor,
            action="campaigns.campaign.update",
            target=campaign,
            details={"fields": changed, "variants": variants is not None},
        )
    return campaign


def _arms(specs: Sequence[VariantSpec]) -> list[tuple[str, float]]:
    return sorted((spec.key, float(spec.weight)) for spec in specs)


def _specs_of(campaign: Campaign) -> list[VariantSpec]:
    return [
        VariantSpec(key=variant.key, weight=variant.weight)
        for variant in Variant.objects.filter(campaign=campaign)
    ]


def _variants_write(campaign: Campaign, specs: Sequence[VariantSpec]) -> None:
    Variant.objects.filter(campaign=campaign).exclude(key__in=[spec.key for spec in specs]).delete()
    for spec in specs:
        Variant.objects.update_or_create(
            campaign=campaign,
            key=spec.key,
            defaults={
                "name": spec.name,
                "weight": spec.weight,
                "subject": spec.subject,
                "body_text": spec.body_text,
                "body_html": spec.body_html,
            },
        )


def content_block_validate(*, conditions: Any, body: str) -> None:
    """Raise InvalidInputError for malformed offer conditions or a body that won't compile."""
    try:
        if not isinstance(conditions, list):
            raise ValueError("conditions must be a list of [trait, operator, value] triples")
        validate_rules([OfferRule(block_key="block", priority=0, conditions=conditions)])
    except ValueError as exc:
        raise InvalidInputError(str(exc), details={"conditions": str(exc)}) from exc
    template_compile(body, field_name="body")


@transaction.atomic
def content_block_save(*, actor: Actor, key: str, fields: Mapping[str, Any]) -> ContentBlock:
    """Create or update the content block `key` (name, priority, conditions, body,
    is_active). Raises InvalidInputError. Idempotent."""
    allowed = {"name", "priority", "conditions", "body", "is_active"}
    values = {name: value for name, value in fields.items() if name in allowed}
    existing = ContentBlock.objects.filter(key=key).first()
    content_block_validate(
        conditions=values.get("conditions", existing.conditions if existing else []),
        body=values.get("body", existing.body if existing else ""),
    )
    block, created = ContentBlock.objects.update_or_create(key=key, defaults=values)
    audit_record(
        actor=actor,
        action="campaigns.content_block.create" if created else "campaigns.content_block.update",
        target=block,
    )
    return block
