"""Compute layer: the rule builder's JSON tree — its schema, operators per type, and validation.

A tree is a node. A node is a group — {"all": [node, …]}, {"any": [node, …]}, {"not": node};
an empty "all" matches everyone, an empty "any" no one — or a condition, a dict with "type":

- trait:      {"type": "trait", "trait": "country", "op": "eq", "value": "DE"} (golden traits)
- computed:   {"type": "computed", "trait": "orders_90d", "op": "gte", "value": 3}
- event:      {"type": "event", "event": "Order Completed", "performed": true,
               "where": [{"property": "total", "op": "gt", "value": 50}],
               "count": {"op": "gte", "value": 3}                      (or)
               "aggregate": {"fn": "sum", "property": "total", "op": "gte", "value": 100},
               "within_days": 90 | "between": ["2024-01-01", "2024-04-01"]}
- sequence:   {"type": "sequence", "steps": [{"event": "A", "where": […]}, {"event": "B"}],
               "within": {"value": 1, "unit": "hours"}, "within_days": 30, "performed": true}
- consent:    {"type": "consent", "purpose": "email_marketing", "granted": true}
- segment:    {"type": "segment", "segment_id": 3, "member": true}
- identifier: {"type": "identifier", "identifier": "email", "present": true}

Validation needs a Vocabulary (what exists: traits with types, events, properties, segments,
purposes); it returns every issue at once, each with the path of its node ("0.2" = third child
of the first child of the root).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

STRING, NUMBER, BOOLEAN, DATE = "string", "number", "boolean", "date"
TYPES = (STRING, NUMBER, BOOLEAN, DATE)

OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    STRING: ("eq", "neq", "in", "not_in", "contains", "is_set", "not_set"),
    NUMBER: ("eq", "neq", "lt", "lte", "gt", "gte", "between", "in", "not_in", "is_set", "not_set"),
    BOOLEAN: ("eq", "neq", "is_set", "not_set"),
    DATE: ("before", "after", "within_days", "between", "is_set", "not_set"),
}
ALL_OPS = frozenset(op for ops in OPS_BY_TYPE.values() for op in ops)
VALUELESS_OPS = frozenset({"is_set", "not_set"})
LIST_OPS = frozenset({"in", "not_in"})
COUNT_OPS = ("eq", "neq", "lt", "lte", "gt", "gte", "between")
AGGREGATE_FNS = ("sum", "avg", "min", "max")
SEQUENCE_UNITS = {"minutes": 60, "hours": 3_600, "days": 86_400}
GROUP_KEYS = ("all", "any", "not")
CONDITION_TYPES = ("trait", "computed", "event", "sequence", "consent", "segment", "identifier")
MAX_DEPTH = 12
MAX_CONDITIONS = 100


@dataclass(frozen=True, kw_only=True)
class Vocabulary:
    """What a tree may name. `properties` maps an event name to {property: type}."""

    traits: Mapping[str, str] = field(default_factory=dict)
    computed: Mapping[str, str] = field(default_factory=dict)
    events: frozenset[str] = frozenset()
    properties: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    segments: frozenset[int] = frozenset()
    purposes: frozenset[str] = frozenset()
    identifiers: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Issue:
    path: str
    code: str
    message: str


class RuleTreeError(ValueError):
    """A tree that does not validate; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{issue.path or 'root'}: {issue.message}" for issue in issues))
        self.issues = issues


def child_path(path: str, index: int) -> str:
    return f"{path}.{index}" if path else str(index)


def iter_conditions(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every condition (leaf) of a well-formed tree with its path, depth first."""
    if not isinstance(node, dict):
        return
    if "all" in node or "any" in node:
        for index, child in enumerate(node.get("all", node.get("any")) or []):
            yield from iter_conditions(child, child_path(path, index))
    elif "not" in node:
        yield from iter_conditions(node["not"], child_path(path, 0))
    else:
        yield path, node


def parse_instant(value: Any) -> datetime.datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (naive values are UTC).

    Raises ValueError for anything else.
    """
    if not isinstance(value, str) or not value:
        raise ValueError("expected an ISO 8601 date")
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar_ok(kind: str, value: Any) -> bool:
    if kind == NUMBER:
        return is_number(value)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == DATE:
        try:
            parse_instant(value)
        except (ValueError, TypeError):
            return False
        return True
    return isinstance(value, str)


def value_problem(kind: str, op: str, value: Any) -> str | None:
    """Why `value` does not fit `op` on a `kind` operand, or None when it fits."""
    if op not in OPS_BY_TYPE.get(kind, ()):
        return f"operator {op!r} does not apply to a {kind}"
    if op in VALUELESS_OPS:
        return None
    if op == "within_days":
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return None if ok else "within_days needs a positive whole number of days"
    if op in LIST_OPS:
        if not isinstance(value, list) or not value:
            return f"{op} needs a non-empty list"
        bad = [item for item in value if not _scalar_ok(kind, item)]
        return f"{op} needs {kind} values" if bad else None
    if op == "between":
        return _between_problem(kind, value)
    if op == "contains":
        return None if isinstance(value, str) and value else "contains needs some text"
    return None if _scalar_ok(kind, value) else f"{op} needs a {kind} value"


def _between_problem(kind: str, value: Any) -> str | None:
    if not isinstance(value, list) or len(value) != 2:
        return "between needs [low, high]"
    if not all(_scalar_ok(kind, item) for item in value):
        return f"between needs two {kind} values"
    low, high = value
    if kind == DATE:
        low, high = parse_instant(low), parse_instant(high)
    return None if low <= high else "between needs low <= high"


class _Validator:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.issues: list[Issue] = []
        self.conditions = 0

    def add(self, path: str, code: str, message: str) -> None:
        self.issues.append(Issue(path=path, code=code, message=message))

    def node(self, node: Any, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.add(path, "too_deep", f"groups nest at most {MAX_DEPTH} deep")
        elif not isinstance(node, dict):
            self.add(path, "not_an_object", "each node must be an object")
        elif any(key in node for key in GROUP_KEYS):
            self.group(node, path, depth)
        else:
            self.conditions += 1
            self.condition(node, path)

    def group(self, node: dict[str, Any], path: str, depth: int) -> None:
        keys = [key for key in GROUP_KEYS if key in node]
        if len(node) != 1:
            self.add(path, "bad_group", f"a group has exactly one key of {', '.join(GROUP_KEYS)}")
            return
        key = keys[0]
        if key == "not":
            self.node(node["not"], child_path(path, 0), depth + 1)
            return
        children = node[key]
        if not isinstance(children, list):
            self.add(path, "bad_group", f"'{key}' needs a list of conditions")
            return
        for index, child in enumerate(children):
            self.node(child, child_path(path, index), depth + 1)

    def condition(self, node: dict[str, Any], path: str) -> None:
        kind = node.get("type")
        if kind not in CONDITION_TYPES:
            self.add(path, "unknown_condition", f"unknown condition type {kind!r}")
            return
        getattr(self, f"check_{kind}")(node, path)

    def check_operand(self, path: str, kind: str, node: Mapping[str, Any]) -> None:
        op = node.get("op")
        if op not in ALL_OPS:
            self.add(path, "bad_operator", f"unknown operator {op!r}")
        elif op not in OPS_BY_TYPE[kind]:
            self.add(path, "wrong_type", f"operator {op!r} does not apply to a {kind}")
        else:
            problem = value_problem(kind, op, node.get("value"))
            if problem:
                self.add(path, "bad_value", problem)

    def check_trait(self, node: dict[str, Any], path: str) -> None:
        name = node.get("trait")
        kind = self.vocabulary.traits.get(name) if isinstance(name, str) else None
        if kind is None:
            self.add(path, "unknown_trait", f"unknown trait {name!r}")
            return
        self.check_operand(path, kind, node)

    def check_computed(self, node: dict[str, Any], path: str) -> None:
        name = node.get("trait")
        kind = self.vocabulary.computed.get(name) if isinstance(name, str) else None
        if kind is None:
            self.add(path, "unknown_trait", f"unknown computed trait {name!r}")
            return
        self.check_operand(path, kind, node)

    def check_event_name(self, path: str, event: Any) -> bool:
        if not isinstance(event, str) or event not in self.vocabulary.events:
            self.add(path, "unknown_event", f"unknown event {event!r}")
            return False
        return True

    def check_where(self, path: str, event: str, where: Any) -> None:
        if where is None:
            return
        if not isinstance(where, list):
            self.add(path, "bad_where", "where must be a list of property conditions")
            return
        known = self.vocabulary.properties.get(event, {})
        for clause in where:
            name = clause.get("property") if isinstance(clause, dict) else None
            if name not in known:
                self.add(path, "unknown_property", f"{event!r} has no property {name!r}")
                continue
            self.check_operand(path, known[name], clause)

    def check_window(self, path: str, node: Mapping[str, Any]) -> None:
        within, between = node.get("within_days"), node.get("between")
        if within is not None and between is not None:
            self.add(path, "bad_window", "give within_days or between, not both")
        elif within is not None:
            problem = value_problem(DATE, "within_days", within)
            if problem:
                self.add(path, "bad_window", problem)
        elif between is not None:
            problem = _between_problem(DATE, between)
            if problem:
                self.add(path, "bad_window", problem)

    def check_event(self, node: dict[str, Any], path: str) -> None:
        event = node.get("event")
        if not self.check_event_name(path, event):
            return
        self.check_where(path, event, node.get("where"))
        self.check_window(path, node)
        if "count" in node and "aggregate" in node:
            self.add(path, "bad_measure", "give count or aggregate, not both")
        elif "count" in node:
            self.check_count(path, node["count"])
        elif "aggregate" in node:
            self.check_aggregate(path, event, node["aggregate"])
        if not isinstance(node.get("performed", True), bool):
            self.add(path, "bad_value", "performed must be true or false")

    def check_count(self, path: str, count: Any) -> None:
        op = count.get("op") if isinstance(count, dict) else None
        if op not in COUNT_OPS:
            self.add(path, "bad_operator", f"count operator must be one of {', '.join(COUNT_OPS)}")
            return
        problem = value_problem(NUMBER, op, count.get("value"))
        values = count.get("value") if op == "between" else [count.get("value")]
        if problem or any(not isinstance(v, int) or v < 0 for v in values):
            self.add(path, "bad_value", problem or "counts are whole numbers >= 0")

    def check_aggregate(self, path: str, event: str, aggregate: Any) -> None:
        if not isinstance(aggregate, dict) or aggregate.get("fn") not in AGGREGATE_FNS:
            self.add(path, "bad_aggregate", f"aggregate fn must be one of {AGGREGATE_FNS}")
            return
        name = aggregate.get("property")
        kind = self.vocabulary.properties.get(event, {}).get(name)
        if kind is None:
            self.add(path, "unknown_property", f"{event!r} has no property {name!r}")
        elif kind != NUMBER:
            self.add(path, "wrong_type", f"{aggregate['fn']} needs a number property")
        elif aggregate.get("op") not in COUNT_OPS:
            self.add(path, "bad_operator", f"aggregate operator must be one of {COUNT_OPS}")
        else:
            problem = value_problem(NUMBER, aggregate["op"], aggregate.get("value"))
            if problem:
                self.add(path, "bad_value", problem)

    def check_sequence(self, node: dict[str, Any], path: str) -> None:
        steps = node.get("steps")
        if not isinstance(steps, list) or not 2 <= len(steps) <= 5:
            self.add(path, "bad_sequence", "a sequence has 2 to 5 steps")
            return
        for step in steps:
            event = step.get("event") if isinstance(step, dict) else None
            if self.check_event_name(path, event):
                self.check_where(path, event, step.get("where"))
        within = node.get("within")
        if within is not None and not (
            isinstance(within, dict)
            and within.get("unit") in SEQUENCE_UNITS
            and is_number(within.get("value"))
            and within["value"] > 0
        ):
            self.add(path, "bad_window", "within needs a positive value and a unit")
        self.check_window(path, {"within_days": node.get("within_days")})

    def check_consent(self, node: dict[str, Any], path: str) -> None:
        if node.get("purpose") not in self.vocabulary.purposes:
            self.add(path, "unknown_purpose", f"unknown purpose {node.get('purpose')!r}")
        if not isinstance(node.get("granted", True), bool):
            self.add(path, "bad_value", "granted must be true or false")

    def check_segment(self, node: dict[str, Any], path: str) -> None:
        if node.get("segment_id") not in self.vocabulary.segments:
            self.add(path, "unknown_segment", f"unknown segment {node.get('segment_id')!r}")
        if not isinstance(node.get("member", True), bool):
            self.add(path, "bad_value", "member must be true or false")

    def check_identifier(self, node: dict[str, Any], path: str) -> None:
        if node.get("identifier") not in self.vocabulary.identifiers:
            self.add(path, "unknown_identifier", f"unknown identifier {node.get('identifier')!r}")
        if not isinstance(node.get("present", True), bool):
            self.add(path, "bad_value", "present must be true or false")


def validation_issues(tree: Any, vocabulary: Vocabulary) -> list[Issue]:
    """Every problem of `tree` against `vocabulary` (an empty list when it is valid)."""
    validator = _Validator(vocabulary)
    validator.node(tree, "", 0)
    if validator.conditions > MAX_CONDITIONS:
        validator.add("", "too_many", f"at most {MAX_CONDITIONS} conditions")
    return validator.issues


def validate_tree(tree: Any, vocabulary: Vocabulary) -> None:
    """Raise RuleTreeError listing every issue of `tree`; return None when it is valid."""
    issues = validation_issues(tree, vocabulary)
    if issues:
        raise RuleTreeError(issues)
