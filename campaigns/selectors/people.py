"""Campaigns selectors: facts about people for a batch of sends, read in bulk through
profiles.public and consent.public — traits, addresses, suppression, consent, exit events,
order aggregates (for offers) and earlier sends (for caps)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, Sum

from campaigns.compute.scheduling import is_valid_timezone
from campaigns.models import Send
from cdp.core.hashing import identifier_hash
from consent import public as consent_public
from profiles import public as profiles_public

WEEK = timedelta(days=7)


def traits_of(profile_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Golden traits per profile (one query); profiles that no longer exist are absent."""
    return {
        pid: dict(traits or {})
        for pid, traits in profiles_public.profile_traits(profile_ids).items()
    }


def email_of(traits: dict[str, Any]) -> str:
    """The person's email address from their golden traits, or ""."""
    value = traits.get("email")
    return value.strip() if isinstance(value, str) and "@" in value else ""


def suppressed_emails(emails: Iterable[str]) -> set[str]:
    """The addresses among `emails` whose keyed hash is on the suppression list (one query)."""
    by_hash = {identifier_hash("email", email.lower()): email for email in emails if email}
    hits = consent_public.suppressed_hashes(by_hash)
    return {by_hash[value_hash] for value_hash in hits}


def consent_allowed(profile_ids: Iterable[int], *, purpose_key: str) -> set[int]:
    """Profiles whose consent allows `purpose_key` now — one query for the whole batch.

    consent.public.consent_granted_exists is the set form of consent_allows (the same rule:
    consent state, withdrawals, objections, restrictions, unknown purposes refused), kept by
    the consent app; a test checks that both agree.
    """
    ids = list(set(profile_ids))
    if not ids:
        return set()
    allowed = (
        profiles_public.profiles_qs()
        .filter(pk__in=ids)
        .filter(consent_public.consent_granted_exists(purpose_key=purpose_key))
    )
    return set(allowed.values_list("pk", flat=True))


def timezone_of(traits: dict[str, Any], *, fixed: str) -> str:
    """The zone to read wall times in: the campaign's fixed zone, else the person's trait
    'timezone' when valid, else CDP_CAMPAIGN_DEFAULT_TIMEZONE."""
    if fixed:
        return fixed
    own = traits.get("timezone")
    if isinstance(own, str) and own and is_valid_timezone(own):
        return own
    return settings.CDP_CAMPAIGN_DEFAULT_TIMEZONE


def exit_events_after(
    *, event_name: str, profile_ids: Iterable[int], since: datetime
) -> dict[int, list[datetime]]:
    """Timestamps of `event_name` per profile at or after `since` (one query)."""
    found: dict[int, list[datetime]] = defaultdict(list)
    rows = (
        profiles_public.events_qs()
        .filter(event=event_name, profile_id__in=list(profile_ids), timestamp__gte=since)
        .values_list("profile_id", "timestamp")
    )
    for profile_id, timestamp in rows:
        found[profile_id].append(timestamp)
    return found


@dataclass(frozen=True, kw_only=True)
class SendHistory:
    """Earlier sent messages per profile: all campaigns in the last week, this campaign ever."""

    recent: dict[int, list[datetime]]
    per_campaign: dict[tuple[int, int], list[datetime]]


def send_history(
    *, profile_ids: Iterable[int], campaign_ids: Iterable[int], now: datetime
) -> SendHistory:
    """Sent messages of the profiles (one query): for the cross-campaign day/week caps and
    the per-person cap of each campaign in `campaign_ids`."""
    rows = Send.objects.filter(
        profile_id__in=list(profile_ids),
        status=Send.Status.SENT,
        kind=Send.Kind.MESSAGE,
    ).filter(Q(sent_at__gte=now - WEEK) | Q(campaign_id__in=list(campaign_ids)))
    recent: dict[int, list[datetime]] = defaultdict(list)
    per_campaign: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for profile_id, campaign_id, sent_at in rows.values_list(
        "profile_id", "campaign_id", "sent_at"
    ):
        if sent_at >= now - WEEK:
            recent[profile_id].append(sent_at)
        per_campaign[(campaign_id, profile_id)].append(sent_at)
    return SendHistory(recent=recent, per_campaign=per_campaign)


def order_stats(profile_ids: Iterable[int], *, now: datetime) -> dict[int, dict[str, Any]]:
    """Per profile: monetary (completed orders, base currency), frequency and recency_days —
    the features offer rules match on besides golden traits (one aggregate query)."""
    rows = (
        profiles_public.orders_qs()
        .filter(profile_id__in=list(profile_ids), status="completed")
        .values("profile_id")
        .annotate(monetary=Sum("total_base"), frequency=Count("pk"), last=Max("placed_at"))
    )
    return {
        row["profile_id"]: {
            "monetary": float(row["monetary"] or 0),
            "frequency": int(row["frequency"]),
            "recency_days": (now - row["last"]).days if row["last"] else None,
        }
        for row in rows
    }


def profiles_exist(profile_ids: Iterable[int]) -> set[int]:
    """The ids among `profile_ids` that are active profiles."""
    ids = list(profile_ids)
    return set(profiles_public.profiles_qs().filter(pk__in=ids).values_list("pk", flat=True))
