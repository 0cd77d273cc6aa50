"""Segments selectors: explain — for one profile and one rule tree, each condition's verdict
with the values that decided it, evaluated with the same compiled SQL as membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from consent import public as consent_public
from profiles import public as profiles_public
from segments.compute.rule_graph import combine_results
from segments.compute.rule_tree import iter_conditions
from segments.models import SegmentMembership

from .rules import CompileContext, compile_node, rule_tree_profiles_qs


@dataclass(frozen=True, kw_only=True)
class ConditionVerdict:
    path: str
    depth: int
    label: str  # "all of", "any of", "not", or the condition in words
    matched: bool
    value: Any  # what decided it (a trait value, a count …); None for groups


@dataclass(frozen=True, kw_only=True)
class Explanation:
    profile_id: int
    is_member: bool  # by the rule tree evaluated now
    is_current_member: bool | None  # by the stored membership (None: no segment given)
    conditions: list[ConditionVerdict]


def describe(node: dict[str, Any]) -> str:
    """A condition in words, e.g. "event Order Completed count gte 3 within 90 days"."""
    kind = node.get("type")
    if kind in ("trait", "computed"):
        return f"{node['trait']} {node['op']} {node.get('value', '')}".strip()
    if kind == "event":
        measure = node.get("count") or node.get("aggregate") or {"op": "gte", "value": 1}
        words = "did" if node.get("performed", True) else "did not"
        window = f" within {node['within_days']} days" if node.get("within_days") else ""
        window = (
            f" between {node['between'][0]} and {node['between'][1]}"
            if node.get("between")
            else window
        )
        how = f"{measure.get('fn', 'count')} {measure['op']} {measure['value']}"
        return f"{words} {node['event']} ({how}){window}"
    if kind == "sequence":
        return " then ".join(step["event"] for step in node["steps"])
    if kind == "consent":
        return (
            f"consent {node['purpose']} {'granted' if node.get('granted', True) else 'not granted'}"
        )
    if kind == "segment":
        return f"{'in' if node.get('member', True) else 'not in'} segment {node['segment_id']}"
    return f"{node.get('identifier')} {'present' if node.get('present', True) else 'absent'}"


def _event_value(node: dict[str, Any], profile_id: int, now: datetime) -> Any:
    events = profiles_public.events_qs().filter(profile_id=profile_id, event=node["event"])
    if node.get("within_days"):
        events = events.filter(timestamp__gte=now - timedelta(days=node["within_days"]))
    return {"events_in_window": events.aggregate(n=Count("pk"))["n"]}


def _value(node: dict[str, Any], profile_id: int, now: datetime, can_view_pii: bool) -> Any:
    kind = node.get("type")
    if kind == "trait":
        value = profiles_public.profile_traits([profile_id]).get(profile_id, {}).get(node["trait"])
        return value if can_view_pii else profiles_public.mask_trait(node["trait"], value)
    if kind == "computed":
        computed = profiles_public.computed_traits_of(profile_id) or {}
        name = node["trait"]
        if name in profiles_public.DERIVED_TRAITS:
            instant = computed.get(profiles_public.DERIVED_TRAITS[name][0])
            return round((now - instant).total_seconds() / 86_400, 1) if instant else None
        return computed.get(name, (computed.get("custom") or {}).get(name))
    if kind in ("event", "sequence"):
        return _event_value(node if kind == "event" else node["steps"][0], profile_id, now)
    if kind == "consent":
        return consent_public.consent_states_for(profile_id).get(node["purpose"])
    if kind == "segment":
        row = SegmentMembership.objects.filter(
            segment_id=node["segment_id"], profile_id=profile_id, exited_at__isnull=True
        ).first()
        return row.entered_at.isoformat() if row else None
    return (
        profiles_public.identifiers_qs()
        .filter(profile_id=profile_id, type=node.get("identifier"))
        .count()
    )


def explain(
    *,
    tree: dict[str, Any],
    profile_id: int,
    can_view_pii: bool,
    segment_id: int | None = None,
    now: datetime | None = None,
) -> Explanation:
    """Each condition of `tree` for one profile: matched or not, with its deciding value
    (masked traits for roles without PII access). One small query per condition."""
    now = now or timezone.now()
    context = CompileContext(now=now, profile_ids=[profile_id])
    profile = rule_tree_profiles_qs({"all": []}, profile_ids=[profile_id])
    leaves: dict[str, bool] = {}
    values: dict[str, Any] = {}
    for path, node in iter_conditions(tree):
        leaves[path] = profile.filter(compile_node(node, context)).exists()
        values[path] = _value(node, profile_id, now, can_view_pii)
    results = combine_results(tree, leaves)
    verdicts = [
        ConditionVerdict(
            path=path,
            depth=path.count(".") + (1 if path else 0),
            label=_label(tree, path),
            matched=results[path],
            value=values.get(path),
        )
        for path in sorted(results, key=_path_key)
    ]
    current = None
    if segment_id is not None:
        current = SegmentMembership.objects.filter(
            segment_id=segment_id, profile_id=profile_id, exited_at__isnull=True
        ).exists()
    return Explanation(
        profile_id=profile_id,
        is_member=results[""],
        is_current_member=current,
        conditions=verdicts,
    )


def _path_key(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in path.split(".")) if path else ()


def _node_at(tree: dict[str, Any], path: str) -> dict[str, Any]:
    node = tree
    for part in filter(None, path.split(".")):
        key = "not" if "not" in node else ("all" if "all" in node else "any")
        node = node["not"] if key == "not" else node[key][int(part)]
    return node


def _label(tree: dict[str, Any], path: str) -> str:
    node = _node_at(tree, path)
    if "all" in node:
        return "all of"
    if "any" in node:
        return "any of"
    if "not" in node:
        return "not"
    return describe(node)
