"""Campaigns services: gather, for a batch of outbox rows, everything the send-time decision
needs — a fixed number of queries per batch, whatever its size — and build each row's facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaigns.compute.decisions import SendFacts
from campaigns.models import Campaign, Send
from campaigns.selectors.audience import audience_members
from campaigns.selectors.campaigns import campaign_is_live
from campaigns.selectors.people import (
    SendHistory,
    consent_allowed,
    email_of,
    exit_events_after,
    send_history,
    suppressed_emails,
    timezone_of,
    traits_of,
)


@dataclass(kw_only=True)
class BatchFacts:
    """Facts of one batch. `history` grows as the batch decides sends, so two rows for one
    person in the same batch respect the caps together."""

    now: datetime
    campaigns: dict[int, Campaign]
    traits: dict[int, dict[str, Any]]
    suppressed: set[str]
    consented: dict[int, set[int]]  # campaign id -> profiles allowed for its purpose
    audience: dict[int, set[int]]  # campaign id -> profiles in its segment (segment only)
    exits: dict[int, dict[int, list[datetime]]]  # campaign id -> profile -> exit times
    history: SendHistory

    def note_sent(self, send: Send, at: datetime) -> None:
        if send.kind != Send.Kind.MESSAGE or send.profile_id is None:
            return
        self.history.recent[send.profile_id].append(at)
        self.history.per_campaign[(send.campaign_id, send.profile_id)].append(at)


def _rows_by_campaign(batch: Sequence[Send]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    for send in batch:
        if send.profile_id is not None:
            found[send.campaign_id].add(send.profile_id)
    return found


def batch_facts_gather(
    *, batch: Sequence[Send], campaigns: dict[int, Campaign], now: datetime
) -> BatchFacts:
    """Read the facts of `batch` in bulk: traits, suppression, consent per campaign purpose,
    segment audience, exit events and earlier sends."""
    by_campaign = _rows_by_campaign(batch)
    profile_ids = set().union(*by_campaign.values()) if by_campaign else set()
    traits = traits_of(profile_ids)
    exits: dict[int, dict[int, list[datetime]]] = {}
    for campaign_id, ids in by_campaign.items():
        campaign = campaigns[campaign_id]
        if campaign.trigger == Campaign.Trigger.EVENT and campaign.exit_event:
            since = min(send.triggered_at for send in batch if send.campaign_id == campaign_id)
            exits[campaign_id] = exit_events_after(
                event_name=campaign.exit_event, profile_ids=ids, since=since
            )
    return BatchFacts(
        now=now,
        campaigns=campaigns,
        traits=traits,
        suppressed=suppressed_emails(email_of(traits[pid]) for pid in traits),
        consented={
            campaign_id: consent_allowed(ids, purpose_key=campaigns[campaign_id].purpose_key)
            for campaign_id, ids in by_campaign.items()
        },
        audience={
            campaign_id: audience_members(campaigns[campaign_id], ids)
            for campaign_id, ids in by_campaign.items()
            if campaigns[campaign_id].segment_id is not None
        },
        exits=exits,
        history=send_history(
            profile_ids=profile_ids,
            campaign_ids=[pk for pk in by_campaign if campaigns[pk].cap_per_person is not None],
            now=now,
        ),
    )


def _has_exited(send: Send, facts: BatchFacts) -> bool:
    times = facts.exits.get(send.campaign_id, {}).get(send.profile_id or 0, [])
    return any(moment >= send.triggered_at for moment in times)


def _is_in_audience(send: Send, campaign: Campaign, facts: BatchFacts) -> bool:
    if send.profile_id is None or send.profile_id not in facts.traits:
        return False  # erased or gone
    if campaign.segment_id is None:
        return True
    return send.profile_id in facts.audience.get(campaign.pk, set())


def send_facts(send: Send, facts: BatchFacts) -> SendFacts:
    """The decision input of one row."""
    campaign = facts.campaigns[send.campaign_id]
    profile_id = send.profile_id or 0
    traits = facts.traits.get(profile_id, {})
    email = email_of(traits)
    needs_address = campaign.channel == Campaign.Channel.EMAIL
    return SendFacts(
        now=facts.now,
        kind=send.kind,
        arm=send.arm,
        is_campaign_live=campaign_is_live(campaign, now=facts.now),
        has_exited=_has_exited(send, facts),
        is_in_audience=_is_in_audience(send, campaign, facts),
        has_consent=profile_id in facts.consented.get(campaign.pk, set()),
        is_suppressed=bool(email) and email in facts.suppressed,
        has_address=bool(email) or not needs_address,
        campaign_sends=tuple(facts.history.per_campaign.get((campaign.pk, profile_id), ())),
        all_sends=tuple(facts.history.recent.get(profile_id, ())),
        cap_per_person=campaign.cap_per_person,
        cap_per_day=campaign.cap_per_day,
        cap_per_week=campaign.cap_per_week,
        timezone=timezone_of(traits, fixed=campaign.timezone),
        quiet_start=campaign.quiet_start,
        quiet_end=campaign.quiet_end,
        defer_in_quiet_hours=campaign.quiet_hours_policy == Campaign.QuietHoursPolicy.DEFER,
    )
