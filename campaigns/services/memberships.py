"""Campaigns services: segment-driven campaigns — record entries and exits per campaign (each
entry is one trigger occurrence), queue entry sends, keep pushed audience lists in step
(adds/removes), and reconcile with the segment so lost notifications only cost time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import Campaign, CampaignMembership, Send
from campaigns.selectors.audience import audience_ids_qs
from campaigns.selectors.campaigns import campaigns_live
from campaigns.selectors.people import consent_allowed

from .assignment import assignments_ensure
from .outbox import Occurrence, sends_enqueue

CHUNK = 5_000


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _is_segment_driven(campaign: Campaign) -> bool:
    return campaign.segment_id is not None and (
        campaign.trigger == Campaign.Trigger.SEGMENT_ENTRY
        or campaign.channel == Campaign.Channel.AUDIENCE_EXPORT
    )


@transaction.atomic
def memberships_enter(
    *, campaign: Campaign, profile_ids: Sequence[int], now: datetime
) -> list[tuple[int, int]]:
    """Mark people as in the audience; returns (profile, entry number) of real entries only.

    Idempotent: someone already a member is not re-entered (a redelivered message fires
    nothing). Rows are locked, so two workers never count one entry twice.
    """
    ids = sorted(set(profile_ids))
    existing = dict(
        CampaignMembership.objects.select_for_update()
        .filter(campaign=campaign, profile_id__in=ids)
        .values_list("profile_id", "is_member")
    )
    new = [pid for pid in ids if pid not in existing]
    again = [pid for pid, is_member in existing.items() if not is_member]
    CampaignMembership.objects.bulk_create(
        [
            CampaignMembership(campaign=campaign, profile_id=pid, entry_count=1, updated_at=now)
            for pid in new
        ],
        ignore_conflicts=True,
    )
    CampaignMembership.objects.filter(
        campaign=campaign, profile_id__in=again, is_member=False
    ).update(is_member=True, entry_count=F("entry_count") + 1, updated_at=now)
    return list(
        CampaignMembership.objects.filter(campaign=campaign, profile_id__in=new + again)
        .order_by("profile_id")
        .values_list("profile_id", "entry_count")
    )


@transaction.atomic
def memberships_exit(*, campaign: Campaign, profile_ids: Sequence[int], now: datetime) -> list[int]:
    """Mark people as out of the audience; returns those who really left. Idempotent."""
    leaving = CampaignMembership.objects.select_for_update().filter(
        campaign=campaign, profile_id__in=list(set(profile_ids)), is_member=True
    )
    ids = sorted(leaving.values_list("profile_id", flat=True))
    CampaignMembership.objects.filter(campaign=campaign, profile_id__in=ids).update(
        is_member=False, updated_at=now
    )
    return ids


def memberships_seed(*, campaign: Campaign, now: datetime) -> int:
    """At launch: record today's members without firing (only later entries trigger).
    Idempotent (existing rows are kept)."""
    ids = list(audience_ids_qs(campaign))
    for chunk in _chunks(ids):
        CampaignMembership.objects.bulk_create(
            [
                CampaignMembership(campaign=campaign, profile_id=pid, updated_at=now)
                for pid in chunk
            ],
            ignore_conflicts=True,
        )
    return len(ids)


def audience_push_sync(*, campaign: Campaign, profile_ids: Sequence[int], now: datetime) -> int:
    """Queue list-push adds for members with consent who are not on the list, and removes
    for people on the list who left or withdrew. Returns rows offered. Idempotent apart from
    re-offering adds still in flight (receivers treat adds as upserts)."""
    if not campaign.webhook_url:
        return 0
    offered = 0
    for chunk in _chunks(sorted(set(profile_ids))):
        rows = dict(
            CampaignMembership.objects.filter(campaign=campaign, profile_id__in=chunk).values_list(
                "profile_id", "is_member"
            )
        )
        exported = set(
            CampaignMembership.objects.filter(
                campaign=campaign, profile_id__in=chunk, is_exported=True
            ).values_list("profile_id", flat=True)
        )
        members = [pid for pid, is_member in rows.items() if is_member]
        allowed = consent_allowed(members, purpose_key=campaign.purpose_key)
        adds = [pid for pid in members if pid in allowed and pid not in exported]
        removes = [pid for pid in exported if pid not in allowed]
        offered += _queue_list_changes(campaign, adds, Send.Kind.AUDIENCE_ADD, now)
        offered += _queue_list_changes(campaign, removes, Send.Kind.AUDIENCE_REMOVE, now)
    return offered


def _queue_list_changes(campaign: Campaign, ids: list[int], kind: str, now: datetime) -> int:
    if not ids:
        return 0
    CampaignMembership.objects.filter(campaign=campaign, profile_id__in=ids).update(
        sync_count=F("sync_count") + 1
    )
    counts = CampaignMembership.objects.filter(campaign=campaign, profile_id__in=ids)
    occurrences = [
        Occurrence(profile_id=pid, key=f"audience:{count}", triggered_at=now, due_at=now)
        for pid, count in counts.values_list("profile_id", "sync_count")
    ]
    return sends_enqueue(campaign=campaign, occurrences=occurrences, kind=kind)


def _fire_entries(campaign: Campaign, entries: list[tuple[int, int]], now: datetime) -> int:
    due = now + timedelta(seconds=campaign.delay_seconds)
    occurrences = [
        Occurrence(
            profile_id=pid,
            key=f"entry:{campaign.segment_id}:{count}",
            triggered_at=now,
            due_at=due,
        )
        for pid, count in entries
    ]
    return sends_enqueue(campaign=campaign, occurrences=occurrences)


def campaign_membership_changes(
    *, campaign: Campaign, entered_ids: Sequence[int], exited_ids: Sequence[int], now: datetime
) -> int:
    """Apply entries and exits to one campaign: entry sends or list push. Idempotent."""
    offered = 0
    for chunk in _chunks(sorted(set(entered_ids))):
        entries = memberships_enter(campaign=campaign, profile_ids=chunk, now=now)
        if campaign.channel == Campaign.Channel.AUDIENCE_EXPORT:
            assignments_ensure(campaign=campaign, profile_ids=chunk, at=now)
            offered += audience_push_sync(
                campaign=campaign, profile_ids=[pid for pid, _ in entries], now=now
            )
        elif campaign.trigger == Campaign.Trigger.SEGMENT_ENTRY:
            offered += _fire_entries(campaign, entries, now)
    for chunk in _chunks(sorted(set(exited_ids))):
        left = memberships_exit(campaign=campaign, profile_ids=chunk, now=now)
        if campaign.channel == Campaign.Channel.AUDIENCE_EXPORT:
            offered += audience_push_sync(campaign=campaign, profile_ids=left, now=now)
    return offered


def segment_membership_changed(
    *, segment_id: int, entered_ids: Sequence[int], exited_ids: Sequence[int]
) -> int:
    """SEGMENT_MEMBERSHIP_CHANGED: apply to every live campaign driven by that segment."""
    now = timezone.now()
    offered = 0
    for campaign in campaigns_live(now=now):
        if campaign.segment_id == segment_id and _is_segment_driven(campaign):
            offered += campaign_membership_changes(
                campaign=campaign, entered_ids=entered_ids, exited_ids=exited_ids, now=now
            )
    return offered


def memberships_reconcile(*, now: datetime | None = None) -> int:
    """Beat: compare each live segment-driven campaign with its segment in SQL and apply
    the differences (entries and exits a lost notification left behind). Idempotent."""
    now = now or timezone.now()
    offered = 0
    for campaign in campaigns_live(now=now):
        if not _is_segment_driven(campaign):
            continue
        members = audience_ids_qs(campaign)
        recorded = CampaignMembership.objects.filter(campaign=campaign, is_member=True)
        entered = list(members.exclude(pk__in=recorded.values("profile_id")))
        exited = list(recorded.exclude(profile_id__in=members).values_list("profile_id", flat=True))
        if entered or exited:
            offered += campaign_membership_changes(
                campaign=campaign, entered_ids=entered, exited_ids=exited, now=now
            )
    return offered
