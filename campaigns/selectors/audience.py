"""Campaigns selectors: a campaign's audience — a segment (through segments.public) or
everyone — as SQL-composable id querysets, membership checks and segment choices."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from campaigns.models import Campaign, CampaignMembership
from cdp.core.errors import DomainError, InvalidInputError
from profiles import public as profiles_public
from segments import public as segments_public


def segment_choices() -> list[tuple[int, str]]:
    """(id, name) of the segments a campaign may target."""
    return [(int(value), str(label)) for value, label in segments_public.segment_choices()]


def segment_name(segment_id: int | None) -> str:
    """The segment's name, "Everyone" for None, or "#id (missing)"."""
    if segment_id is None:
        return "Everyone"
    try:
        return segments_public.segment_get(segment_id=segment_id).name
    except (DomainError, ObjectDoesNotExist):  # a deleted segment is shown, not fatal
        return f"#{segment_id} (missing)"


def segment_check(*, segment_id: int) -> None:
    """Raise InvalidInputError unless the segment exists (checked through segments.public)."""
    try:
        segments_public.segment_get(segment_id=segment_id)
    except (DomainError, ObjectDoesNotExist) as exc:
        raise InvalidInputError(
            f"No segment with id {segment_id}.", details={"segment_id": segment_id}
        ) from exc


def audience_ids_qs(campaign: Campaign) -> QuerySet:
    """Ids of the active profiles in the campaign's audience (a values_list QuerySet, for
    SQL composition with pk__in / iteration in chunks)."""
    profiles = profiles_public.profiles_qs()
    if campaign.segment_id is not None:
        members = segments_public.segment_member_ids_qs(segment_id=campaign.segment_id)
        profiles = profiles.filter(pk__in=members)
    return profiles.order_by("pk").values_list("pk", flat=True)


def audience_members(campaign: Campaign, profile_ids: Iterable[int]) -> set[int]:
    """The ids among `profile_ids` that are in the campaign's audience now (one query)."""
    ids = list(set(profile_ids))
    if not ids:
        return set()
    return set(audience_ids_qs(campaign).filter(pk__in=ids))


def memberships_qs(*, campaign_id: int) -> QuerySet[CampaignMembership]:
    return CampaignMembership.objects.filter(campaign_id=campaign_id)


def audience_with_timezones(
    campaign: Campaign, *, chunk_size: int = 5_000
) -> Iterator[tuple[int, Any]]:
    """(profile id, 'timezone' trait or None) of the audience, streamed in pk order."""
    profiles = profiles_public.profiles_qs()
    if campaign.segment_id is not None:
        members = segments_public.segment_member_ids_qs(segment_id=campaign.segment_id)
        profiles = profiles.filter(pk__in=members)
    rows = profiles.order_by("pk").values_list("pk", "traits__timezone")
    return rows.iterator(chunk_size=chunk_size)
