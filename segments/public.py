"""Segments public surface: the only segments module other apps (campaigns) import.

Membership changes are announced on jobs.SEGMENT_MEMBERSHIP_CHANGED (segment_id, entered_ids,
exited_ids) after commit, by scheduled refreshes and real-time evaluation alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from cdp.core.errors import NotFoundError
from segments.selectors.membership import (
    SegmentSummary,
    is_member,
    segment_member_ids_qs,
    segments_active_qs,
)
from segments.selectors.membership import segment_get as _segment_row
from segments.selectors.membership import segment_size_estimate as _size_estimate
from segments.selectors.rules import compile_tree
from segments.selectors.vocabulary import rule_tree_check


def segment_choices() -> list[tuple[int, str]]:
    """(id, name) of every segment that is not archived, by name (for form dropdowns)."""
    return list(segments_active_qs().order_by("name").values_list("pk", "name"))


def segment_get(*, segment_id: int) -> SegmentSummary:
    """A segment's id, name, whether it is real-time, and its current size.

    Raises NotFoundError when there is no such segment.
    """
    segment = _segment_row(segment_id=segment_id)
    if segment is None:
        raise NotFoundError(f"No segment with id {segment_id}.", details={"segment_id": segment_id})
    return SegmentSummary(
        id=segment.pk, name=segment.name, is_realtime=segment.is_realtime, size=segment.size
    )


def compile_rule_tree(tree: dict[str, Any], *, now: datetime | None = None) -> Q:
    """A rule tree as a Q on active profiles (profiles.public.profiles_qs().filter(q)).

    Validates first; raises InvalidRuleTreeError (a DomainError, 400) listing every issue.
    """
    rule_tree_check(tree=tree)
    return compile_tree(tree, now=now)


def segment_size_estimate(*, tree: dict[str, Any]) -> int:
    """How many active profiles match `tree` now (validated; one COUNT query).

    Raises InvalidRuleTreeError for an invalid tree.
    """
    rule_tree_check(tree=tree)
    return _size_estimate(tree=tree)


__all__ = [
    "QuerySet",
    "SegmentSummary",
    "compile_rule_tree",
    "is_member",
    "segment_choices",
    "segment_get",
    "segment_member_ids_qs",
    "segment_size_estimate",
]
