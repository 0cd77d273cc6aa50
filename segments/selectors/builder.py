"""Segments selectors: what the segment builder shows — the catalogue of traits, events and
properties (as seen in the data), a validated live preview with the real-time verdict, and
each segment's freshness."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from profiles import public as profiles_public
from segments.compute.rule_graph import realtime_verdict
from segments.compute.rule_tree import (
    AGGREGATE_FNS,
    COUNT_OPS,
    OPS_BY_TYPE,
    SEQUENCE_UNITS,
)
from segments.models import ComputedTrait, Segment

from .membership import segment_preview
from .vocabulary import DEFAULT_PURPOSES, purpose_keys, realtime_segment_ids, rule_tree_check


def builder_catalogue() -> dict[str, Any]:
    """Everything the builder's dropdowns offer, from the catalogue table and definitions."""
    catalogue = profiles_public.catalogue()
    computed = [
        {
            "name": name,
            "type": kind,
            "description": description,
            "is_realtime": name not in profiles_public.BATCH_TRAITS,
        }
        for name, (kind, description) in profiles_public.STORED_TRAITS.items()
    ]
    computed += [
        {"name": name, "type": "number", "description": description, "is_realtime": True}
        for name, (_, description) in profiles_public.DERIVED_TRAITS.items()
    ]
    computed += [
        {"name": trait.key, "type": "number", "description": trait.name, "is_realtime": True}
        for trait in ComputedTrait.objects.order_by("key")
    ]
    segments = Segment.objects.filter(is_archived=False).order_by("name")
    return {
        "traits": [{"name": name, "type": kind} for name, kind in sorted(catalogue.traits.items())],
        "computed": computed,
        "events": catalogue.events,
        "properties": {
            event: [{"name": name, "type": kind} for name, kind in sorted(props.items())]
            for event, props in catalogue.properties.items()
        },
        "purposes": sorted(purpose_keys() or DEFAULT_PURPOSES),
        "segments": [
            {"id": pk, "name": name, "is_realtime": realtime}
            for pk, name, realtime in segments.values_list("pk", "name", "is_realtime")
        ],
        "identifiers": list(profiles_public.IDENTIFIER_TYPES),
        "operators": OPS_BY_TYPE,
        "count_operators": COUNT_OPS,
        "aggregates": AGGREGATE_FNS,
        "sequence_units": list(SEQUENCE_UNITS),
    }


def preview(*, tree: dict[str, Any], sample_size: int = 10) -> dict[str, Any]:
    """Validate `tree` (raises InvalidRuleTreeError), then count and sample its profiles and
    say whether it can be evaluated in real time."""
    rule_tree_check(tree=tree)
    started = time.monotonic()
    count, sample = segment_preview(tree=tree, sample_size=sample_size)
    verdict = realtime_verdict(
        tree, batch_traits=profiles_public.BATCH_TRAITS, realtime_segments=realtime_segment_ids()
    )
    return {
        "count": count,
        "sample": sample,
        "is_realtime_capable": verdict.is_realtime_capable,
        "realtime_blockers": list(verdict.blockers),
        "realtime_notes": list(verdict.notes),
        "milliseconds": int((time.monotonic() - started) * 1000),
    }


@dataclass(frozen=True, kw_only=True)
class Freshness:
    mode: str  # "realtime", "scheduled", "static"
    label: str
    last_refreshed_at: Any
    next_refresh_at: Any


def freshness(segment: Segment) -> Freshness:
    """How fresh a segment's membership is, in words and times."""
    last, upcoming = segment.last_refreshed_at, segment.next_refresh_at
    if not segment.is_dynamic:
        label = f"static, taken {_ago(last)}" if last else "static, not taken yet"
        return Freshness(mode="static", label=label, last_refreshed_at=last, next_refresh_at=None)
    when = f"refreshed {_ago(last)}" if last else "never refreshed"
    if segment.is_realtime:
        label = f"real-time (events within a second); full {when}"
        return Freshness(
            mode="realtime", label=label, last_refreshed_at=last, next_refresh_at=upcoming
        )
    label = f"{when}; next {_in(upcoming)}" if upcoming else when
    return Freshness(
        mode="scheduled", label=label, last_refreshed_at=last, next_refresh_at=upcoming
    )


def _ago(moment: Any) -> str:
    seconds = int((timezone.now() - moment).total_seconds())
    return f"{_span(seconds)} ago" if seconds >= 60 else "just now"


def _in(moment: Any) -> str:
    seconds = int((moment - timezone.now()).total_seconds())
    return f"in {_span(seconds)}" if seconds >= 60 else "due now"


def _span(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
