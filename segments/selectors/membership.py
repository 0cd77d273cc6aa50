"""Segments selectors: segments, current members, membership history, sizes, overlap, locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet, Window

from segments.models import Segment, SegmentMembership, SegmentSizePoint

from .rules import evaluation_settings, rule_tree_profiles_qs


@dataclass(frozen=True, kw_only=True)
class SegmentSummary:
    """What other apps need to know about a segment."""

    id: int
    name: str
    is_realtime: bool
    size: int


def segments_active_qs() -> QuerySet[Segment]:
    return Segment.objects.filter(is_archived=False)


def segment_get(*, segment_id: int) -> Segment | None:
    return Segment.objects.filter(pk=segment_id).first()


def segments_lock(*, segment_id: int, skip_locked: bool) -> Segment | None:
    """The segment row locked FOR UPDATE (None when missing, or busy with skip_locked)."""
    return Segment.objects.select_for_update(skip_locked=skip_locked).filter(pk=segment_id).first()


def segment_members_qs(*, segment_id: int) -> QuerySet[SegmentMembership]:
    """Current memberships of a segment (one row per member), newest first."""
    return SegmentMembership.objects.filter(segment_id=segment_id, exited_at__isnull=True)


def segment_member_ids_qs(*, segment_id: int) -> QuerySet[Any]:
    """Profile ids of the current members (flat values_list; usable as a subquery)."""
    return segment_members_qs(segment_id=segment_id).values_list("profile_id", flat=True)


def is_member(*, segment_id: int, profile_id: int) -> bool:
    return segment_members_qs(segment_id=segment_id).filter(profile_id=profile_id).exists()


def profile_memberships_qs(*, profile_id: int) -> QuerySet[SegmentMembership]:
    """Every stay of a profile in any segment (current and past), newest first."""
    return (
        SegmentMembership.objects.filter(profile_id=profile_id)
        .select_related("segment")
        .order_by("-entered_at", "-pk")
    )


def segment_size_estimate(*, tree: dict[str, Any], now: datetime | None = None) -> int:
    """Live count of the profiles matching `tree` (validated): one COUNT over the compiled
    rule, for the builder and the preview API."""
    with evaluation_settings():
        return rule_tree_profiles_qs(tree, now=now).count()


def segment_preview(
    *, tree: dict[str, Any], sample_size: int = 10, now: datetime | None = None
) -> tuple[int, list[int]]:
    """(count, up to `sample_size` matching profile ids, newest profiles first) in one
    statement: the count is a window over the whole match set, taken before the LIMIT."""
    matching = rule_tree_profiles_qs(tree, now=now)
    if sample_size == 0:
        return segment_size_estimate(tree=tree, now=now), []
    with evaluation_settings():
        rows = list(
            matching.annotate(total=Window(Count("*")))
            .order_by("-pk")
            .values_list("pk", "total")[:sample_size]
        )
    return (rows[0][1] if rows else 0), [pk for pk, _ in rows]


def segment_size_series(*, segment_id: int, limit: int = 500) -> list[SegmentSizePoint]:
    """The latest `limit` size points of a segment, oldest first (for the chart)."""
    points = SegmentSizePoint.objects.filter(segment_id=segment_id).order_by("-measured_at")
    return list(reversed(points[:limit]))


@dataclass(frozen=True, kw_only=True)
class Overlap:
    both: int
    only_first: int
    only_second: int


def segments_overlap(*, first_id: int, second_id: int) -> Overlap:
    """How many current members two segments share, and how many are in one only (three
    COUNTs on the membership index)."""
    first = segment_members_qs(segment_id=first_id)
    second_size = segment_members_qs(segment_id=second_id).count()
    first_size = first.count()
    both = first.filter(profile_id__in=segment_member_ids_qs(segment_id=second_id)).count()
    return Overlap(both=both, only_first=first_size - both, only_second=second_size - both)
