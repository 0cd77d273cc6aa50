"""Campaigns services: before launch — preview a variant rendered for one profile, and dry-run
a campaign (a test profile now, or a replay of a past window) showing who would be reached,
when, on which arm, and why others would be skipped. Writes nothing but an audit row."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from campaigns.compute.assignment import assign_many
from campaigns.compute.decisions import DEFER, SKIP, decide
from campaigns.models import Assignment, Campaign, Send
from campaigns.selectors.audience import audience_ids_qs, audience_members
from campaigns.selectors.campaigns import (
    arm_specs,
    campaign_get,
    content_blocks_active,
    recommendations_for,
    variant_by_key,
)
from campaigns.selectors.people import order_stats, traits_of
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from profiles import public as profiles_public

from .facts import batch_facts_gather, send_facts
from .rendering import MessageRenderer, Person, RenderedMessage
from .triggers import filters_hold

MAX_ROWS = 5_000


@dataclass(frozen=True, kw_only=True)
class Preview:
    profile_id: int
    variant: str
    to: str
    message: RenderedMessage
    is_masked: bool


def variant_preview(
    *, campaign_id: int, variant_key: str, profile_id: int, actor: Actor, can_view_pii: bool
) -> Preview:
    """Render `variant_key` for `profile_id` as it would be sent (traits masked for roles
    without PII access). Audited as a view of the person's data. Raises NotFoundError."""
    campaign = campaign_get(campaign_id=campaign_id)
    variant = variant_by_key(campaign).get(variant_key)
    if variant is None:
        raise NotFoundError(f"No variant {variant_key!r} in campaign {campaign_id}.")
    traits = traits_of([profile_id]).get(profile_id)
    if traits is None:
        raise NotFoundError(f"No profile with id {profile_id}.")
    if not can_view_pii:
        traits = {name: profiles_public.mask_trait(name, value) for name, value in traits.items()}
    person = Person(
        profile_id=profile_id,
        traits=traits,
        features=order_stats([profile_id], now=timezone.now()).get(profile_id, {}),
        recommendations=recommendations_for([profile_id]).get(profile_id, []),
    )
    message = MessageRenderer(content_blocks_active()).render(
        campaign=campaign, variant=variant, person=person, delivery_id="preview"
    )
    audit_record(
        actor=actor,
        action="campaigns.campaign.preview",
        target=campaign,
        details={"profile_id": profile_id, "variant": variant_key, "masked": not can_view_pii},
    )
    return Preview(
        profile_id=profile_id,
        variant=variant_key,
        to=str(traits.get("email", "")),
        message=message,
        is_masked=not can_view_pii,
    )


@dataclass(frozen=True, kw_only=True)
class DryRunRow:
    profile_id: int
    triggered_at: datetime
    send_at: datetime
    arm: str
    outcome: str  # "send", "skip" or "defer"
    reason: str


@dataclass(frozen=True, kw_only=True)
class DryRunReport:
    rows: list[DryRunRow]
    total: int
    outcomes: dict[str, int]
    reasons: dict[str, int]
    arms: dict[str, int]
    is_truncated: bool


def _arms_for(campaign: Campaign, profile_ids: list[int]) -> dict[int, str]:
    """Recorded arms where they exist; otherwise what assignment would give (not stored)."""
    recorded = dict(
        Assignment.objects.filter(campaign=campaign, profile_id__in=profile_ids).values_list(
            "profile_id", "arm"
        )
    )
    missing = [pid for pid in profile_ids if pid not in recorded]
    if missing:
        arms = assign_many(
            str(campaign.pk),
            [str(pid) for pid in missing],
            salt=campaign.salt,
            variants=arm_specs(campaign),
            holdout_share=float(campaign.holdout_share),
        )
        recorded.update(zip(missing, (str(arm) for arm in arms), strict=True))
    return recorded


def _event_occurrences(
    campaign: Campaign, start: datetime, end: datetime
) -> list[tuple[int, datetime, int | None]]:
    events = (
        profiles_public.events_qs()
        .filter(event=campaign.trigger_event, timestamp__gte=start, timestamp__lt=end)
        .order_by("timestamp", "pk")
        .values_list("pk", "profile_id", "timestamp", "payload")[: MAX_ROWS * 2]
    )
    found = [
        (profile_id, timestamp, pk)
        for pk, profile_id, timestamp, payload in events
        if filters_hold(campaign, (payload or {}).get("properties") or {})
    ]
    if campaign.segment_id is not None:
        members = audience_members(campaign, [item[0] for item in found])
        found = [item for item in found if item[0] in members]
    return found


def _occurrences(
    campaign: Campaign, profile_id: int | None, start: datetime | None, end: datetime | None
) -> list[tuple[int, datetime, int | None]]:
    now = timezone.now()
    if profile_id is not None:
        return [(profile_id, now, None)]
    if start is None or end is None or end <= start:
        raise InvalidInputError("Give a profile, or a window with start before end.")
    if campaign.trigger == Campaign.Trigger.EVENT:
        return _event_occurrences(campaign, start, end)
    ids = list(audience_ids_qs(campaign)[: MAX_ROWS * 2])
    return [(pid, start, None) for pid in ids]


def _exited(exits: list[datetime], triggered_at: datetime, due: datetime) -> bool:
    return any(triggered_at <= moment < due for moment in exits)


def campaign_dry_run(
    *,
    campaign_id: int,
    actor: Actor,
    profile_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> DryRunReport:
    """Simulate the campaign as if launched: for a test profile (triggered now) or for every
    trigger occurrence in [start, end). Consent, suppression and audience are read as they
    are now; exit events are read in each occurrence's own delay window; caps count real
    sends plus the simulated ones. Raises InvalidInputError, NotFoundError."""
    campaign = campaign_get(campaign_id=campaign_id)
    if not campaign.variants.all():
        raise InvalidInputError("Add at least one variant before a dry run.")
    occurrences = _occurrences(campaign, profile_id, start, end)
    arms = _arms_for(campaign, sorted({pid for pid, _, _ in occurrences}))
    delay = timedelta(seconds=campaign.delay_seconds)
    kind = Send.Kind.MESSAGE if campaign.is_message else Send.Kind.AUDIENCE_ADD
    sends = [
        Send(
            campaign=campaign,
            profile_id=pid,
            arm=arms[pid],
            triggered_at=at,
            due_at=at + delay,
            trigger_event_id=event_id,
            kind=kind,
        )
        for pid, at, event_id in occurrences
    ]
    rows = _simulate(campaign, sends)
    audit_record(
        actor=actor,
        action="campaigns.campaign.dry_run",
        target=campaign,
        details={"occurrences": len(rows), "profile_id": profile_id},
    )
    return DryRunReport(
        rows=rows[:MAX_ROWS],
        total=len(rows),
        outcomes=dict(Counter(row.outcome for row in rows)),
        reasons=dict(Counter(row.reason for row in rows if row.reason)),
        arms=dict(Counter(row.arm for row in rows if row.outcome != SKIP)),
        is_truncated=len(rows) > MAX_ROWS,
    )


def _simulate(campaign: Campaign, sends: list[Send]) -> list[DryRunRow]:
    if not sends:
        return []
    now = timezone.now()
    facts = batch_facts_gather(batch=sends, campaigns={campaign.pk: campaign}, now=now)
    exits = facts.exits.get(campaign.pk, {})
    rows = []
    for send in sorted(sends, key=lambda item: item.due_at):
        due = max(send.due_at, now) if send.trigger_event_id is None else send.due_at
        inputs = dataclasses.replace(
            send_facts(send, facts),
            now=due,
            is_campaign_live=True,
            has_exited=_exited(exits.get(send.profile_id or 0, []), send.triggered_at, send.due_at),
        )
        decision = decide(inputs)
        if decision.action not in (SKIP, DEFER):
            facts.note_sent(send, due)
        rows.append(
            DryRunRow(
                profile_id=send.profile_id or 0,
                triggered_at=send.triggered_at,
                send_at=decision.send_at or due,
                arm=send.arm,
                outcome=decision.action,
                reason=decision.reason,
            )
        )
    return rows
