"""Segments selectors: SQL operands and comparisons for rule conditions — JSON values (golden
traits, event properties, custom computed traits) and typed columns — as two-valued Q objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import JSONField, Q, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from profiles import public as profiles_public
from segments.compute.rule_tree import BOOLEAN, DATE, NUMBER, STRING, is_number, parse_instant

Target = str | Any  # a lookup path ("computed__orders_90d") or an expression
_LOOKUPS = {
    "exact": Exact,
    "lt": LessThan,
    "lte": LessThanOrEqual,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "in": In,
    "icontains": IContains,
}
_DATE_OPS = frozenset({"before", "after", "within_days"})


def operand_kind(node: dict[str, Any]) -> str:
    """The type a condition compares as, from its operator and value (validated earlier)."""
    op, value = node.get("op"), node.get("value")
    sample = value[0] if isinstance(value, list) and value else value
    if op in _DATE_OPS:
        return DATE
    if isinstance(sample, bool):
        return BOOLEAN
    if is_number(sample):
        return NUMBER
    if op == "between" and isinstance(sample, str):
        return DATE
    return STRING


def json_operand(
    column: str, name: str, node: dict[str, Any], *, under: tuple[str, ...] = ()
) -> tuple[Any, str]:
    """The SQL expression of JSON key `name` of `column` (inside the keys `under`), typed for
    the kind the condition compares as: a float for numbers (NULL unless a JSON number), the
    JSON value for booleans, text otherwise."""
    kind = operand_kind(node)
    if kind == NUMBER:
        return profiles_public.JsonNumber(column, *under, name), kind
    base: Any = column
    for key in under:
        base = KeyTransform(key, base)
    if kind == BOOLEAN:
        return KeyTransform(name, base), kind
    return KeyTextTransform(name, base), kind


def _lookup(target: Target, name: str, value: Any) -> Q:
    if isinstance(target, str):
        return Q(**{f"{target}__{name}": value})
    if isinstance(target, KeyTransform) and not isinstance(target, KeyTextTransform):
        json_value = Value(value, output_field=JSONField())  # JSON-aware exact (booleans)
        return Q(target.get_lookup(name)(target, json_value))
    return Q(_LOOKUPS[name](target, value))


def _present(target: Target) -> Q:
    if isinstance(target, str):
        return Q(**{f"{target}__isnull": False})
    return Q(IsNull(target, False))


def _iso_bound(moment: datetime) -> str:
    """A UTC instant as ISO text comparable with stored ISO dates ("2024-01-01" at midnight)."""
    moment = moment.astimezone(parse_instant("1970-01-01").tzinfo)
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _date_value(target: Target, value: Any) -> Any:
    moment = value if isinstance(value, datetime) else parse_instant(value)
    return moment if isinstance(target, str) else _iso_bound(moment)


def _date_compare(target: Target, op: str, value: Any, now: datetime) -> Q:
    if op == "before":
        return _lookup(target, "lt", _date_value(target, value))
    if op == "after":
        return _lookup(target, "gt", _date_value(target, value))
    if op == "within_days":
        since = _date_value(target, now - timedelta(days=value))
        return _lookup(target, "gte", since) & _lookup(target, "lte", _date_value(target, now))
    low, high = (_date_value(target, item) for item in value)
    return _lookup(target, "gte", low) & _lookup(target, "lte", high)


def compare(target: Target, kind: str, op: str, value: Any, *, now: datetime) -> Q:
    """`target op value` as a Q that is TRUE or FALSE, never NULL: a missing value satisfies
    only not_set (and, through a "not" group, the complement)."""
    present = _present(target)
    if op == "is_set":
        return present
    if op == "not_set":
        return ~present
    if kind == DATE:
        return present & _date_compare(target, op, value, now)
    simple = {"eq": "exact", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte", "in": "in"}
    if op in simple:
        return present & _lookup(target, simple[op], value)
    if op == "neq":
        return present & ~_lookup(target, "exact", value)
    if op == "not_in":
        return present & ~_lookup(target, "in", value)
    if op == "contains":
        return present & _lookup(target, "icontains", value)
    if op == "between":
        low, high = value
        return present & _lookup(target, "gte", low) & _lookup(target, "lte", high)
    raise ValueError(f"unknown operator {op!r} for {kind}")


def count_predicate(op: str, value: Any) -> tuple[Callable[[str], Q], bool]:
    """(alias -> Q on an aggregate alias, whether a zero count satisfies it)."""
    if op == "between":
        low, high = value
        return (lambda alias: Q(**{f"{alias}__gte": low, f"{alias}__lte": high})), low <= 0 <= high
    if op == "neq":
        return (lambda alias: ~Q(**{alias: value})), value != 0
    lookup = {"eq": "exact", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}[op]
    zero = {
        "eq": value == 0,
        "lt": value > 0,
        "lte": value >= 0,
        "gt": value < 0,
        "gte": value <= 0,
    }
    return (lambda alias: Q(**{f"{alias}__{lookup}": value})), zero[op]


__all__ = ["compare", "count_predicate", "json_operand", "operand_kind"]
