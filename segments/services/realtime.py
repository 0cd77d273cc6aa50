"""Segments services: real-time evaluation — when processed events (or consent, or a merge)
touch some profiles, bring their custom traits and lifecycle stage up to date and re-evaluate
every real-time segment for those profiles only, in dependency order."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from profiles import public as profiles_public
from segments.compute.rule_graph import dependency_order, referenced_segments
from segments.models import Segment, SegmentMembership
from segments.selectors.membership import segments_lock
from segments.selectors.rules import rule_tree_profiles_qs

from .membership import membership_apply, membership_publish
from .scoring import custom_trait_specs, lifecycle_refresh

logger = logging.getLogger(__name__)


def _realtime_segments_in_order() -> list[Segment]:
    segments = {
        segment.pk: segment
        for segment in Segment.objects.filter(
            is_realtime=True, is_archived=False, kind=Segment.Kind.DYNAMIC
        )
    }
    graph = {pk: referenced_segments(segment.rule_tree) for pk, segment in segments.items()}
    return [segments[pk] for pk in dependency_order(graph)]


def _evaluate_one(segment_id: int, profile_ids: Sequence[int]) -> int:
    with transaction.atomic():
        segment = segments_lock(segment_id=segment_id, skip_locked=False)
        if segment is None or not segment.is_realtime or segment.is_archived:
            return 0
        now = timezone.now()
        diff = membership_apply(
            segment=segment,
            candidates=rule_tree_profiles_qs(segment.rule_tree, now=now, profile_ids=profile_ids),
            cause=SegmentMembership.Cause.REALTIME,
            now=now,
            scope=profile_ids,
        )
        if diff.changed:
            Segment.objects.filter(pk=segment.pk).update(
                size=F("size") + len(diff.entered_ids) - len(diff.exited_ids)
            )
            membership_publish(segment_id=segment.pk, diff=diff)
    return len(diff.entered_ids) + len(diff.exited_ids)


def segments_realtime_evaluate(*, profile_ids: Sequence[int], refresh_traits: bool = False) -> int:
    """Re-evaluate every real-time segment for `profile_ids` (one statement pair per segment,
    each restricted to those profiles) and publish the entries and exits. Before that, refresh
    the profiles' custom computed traits and lifecycle stage (and their built-in computed traits
    when `refresh_traits`, e.g. after a merge moved events). Returns the number of membership
    changes. Idempotent: evaluating the same profiles twice changes nothing the second time."""
    ids = sorted(set(profile_ids))
    if not ids:
        return 0
    if refresh_traits:
        profiles_public.computed_traits_refresh(profile_ids=ids)
    specs = custom_trait_specs()
    if specs:
        profiles_public.custom_traits_refresh(traits=specs, profile_ids=ids, drop_others=True)
    lifecycle_refresh(profile_ids=ids)
    changes = 0
    for segment in _realtime_segments_in_order():
        try:
            changes += _evaluate_one(segment.pk, ids)
        except (KeyError, TypeError, ValueError):  # a definition that no longer compiles
            logger.warning("realtime_segment_failed", extra={"segment_id": segment.pk})
    return changes
