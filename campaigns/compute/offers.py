"""Campaigns compute layer: rule-based matching of a profile's traits to a content block."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

EQUALS = "=="
NOT_EQUALS = "!="
LESS = "<"
LESS_OR_EQUAL = "<="
GREATER = ">"
GREATER_OR_EQUAL = ">="
IN = "in"
CONTAINS = "contains"
IS_SET = "is_set"
OPERATORS = (
    EQUALS,
    NOT_EQUALS,
    LESS,
    LESS_OR_EQUAL,
    GREATER,
    GREATER_OR_EQUAL,
    IN,
    CONTAINS,
    IS_SET,
)

Condition = tuple[str, str, Any]

_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    LESS: operator.lt,
    LESS_OR_EQUAL: operator.le,
    GREATER: operator.gt,
    GREATER_OR_EQUAL: operator.ge,
}
_SCALARS = (str, int, float)  # bool is an int
_COLLECTIONS = (list, tuple, set, frozenset)


@dataclass(frozen=True, kw_only=True)
class OfferRule:
    """Show `block_key` when every condition (trait, operator, value) holds.

    Higher priority wins. No conditions means the rule always matches (a default block).
    Lists given as conditions are stored as tuples.
    """

    block_key: str
    priority: int
    conditions: Sequence[Condition] = ()

    def __post_init__(self) -> None:
        """Store list conditions as tuples so the rule is immutable throughout."""
        if isinstance(self.conditions, list | tuple):
            stored = tuple(
                tuple(condition) if isinstance(condition, list | tuple) else condition
                for condition in self.conditions
            )
            object.__setattr__(self, "conditions", stored)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_problem(op: str, value: object) -> str | None:
    """Why `value` cannot be used with `op`, or None if it can."""
    if op == IS_SET:
        return None if isinstance(value, bool) else "is_set needs true or false"
    if op == IN:
        if not isinstance(value, _COLLECTIONS) or not value:
            return "in needs a non-empty list of values"
        bad = [item for item in value if _value_problem(EQUALS, item)]
        return f"in values must be text, numbers or booleans, got {bad[0]!r}" if bad else None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{op} needs a finite number, got {value!r}"
    if op in _ORDERINGS:
        if isinstance(value, bool) or not isinstance(value, (*_SCALARS, date)):
            return f"{op} needs a number, text or date, got {value!r}"
        return None
    if not isinstance(value, _SCALARS):
        return f"{op} needs text, a number or a boolean, got {value!r}"
    return None


def _condition_problem(condition: object) -> str | None:
    if not isinstance(condition, tuple | list) or len(condition) != 3:
        return f"condition {condition!r} is not a (trait, operator, value) triple"
    trait, op, value = condition
    if not isinstance(trait, str) or not trait:
        return f"trait must be a non-empty string, got {trait!r}"
    if op not in OPERATORS:
        return f"unknown operator {op!r} (known: {', '.join(OPERATORS)})"
    problem = _value_problem(op, value)
    return f"trait {trait!r}: {problem}" if problem else None


def _rule_problem(rule: object) -> str | None:
    if not isinstance(rule, OfferRule):
        return f"{rule!r} is not an OfferRule"
    if not isinstance(rule.block_key, str) or not rule.block_key:
        return "block_key must be a non-empty string"
    if isinstance(rule.priority, bool) or not isinstance(rule.priority, int):
        return f"priority must be an integer, got {rule.priority!r}"
    if not isinstance(rule.conditions, tuple | list):
        return "conditions must be a list of (trait, operator, value) triples"
    for condition in rule.conditions:
        problem = _condition_problem(condition)
        if problem:
            return problem
    return None


def validate_rules(rules: Sequence[OfferRule]) -> None:
    """Raise ValueError naming the first bad rule (position and block_key) and its problem."""
    for index, rule in enumerate(rules):
        problem = _rule_problem(rule)
        if problem:
            name = getattr(rule, "block_key", None)
            raise ValueError(f"offer rule #{index} ({name!r}): {problem}")


def _equal(left: object, right: object) -> bool:
    """Equality that keeps booleans apart from numbers (True is not 1 here)."""
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


def _ordered(op: str, actual: object, expected: object) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False
    comparable = (_is_number(actual) and _is_number(expected)) or type(actual) is type(expected)
    if not comparable:  # no coercion: "42" is not > 40, a date is not a datetime
        return False
    try:
        return bool(_ORDERINGS[op](actual, expected))
    except TypeError:  # e.g. naive against aware datetimes
        return False


def _contains(actual: object, expected: object) -> bool:
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, _COLLECTIONS):
        return any(_equal(item, expected) for item in actual)
    return False


def condition_holds(traits: Mapping[str, object], condition: Condition) -> bool:
    """Whether one (trait, operator, value) condition holds for `traits`.

    A trait that is absent or None is "not set": only `is_set false` holds for it.
    Comparisons never coerce types; comparing incompatible types is simply false.
    """
    trait, op, expected = condition
    actual = traits.get(trait)
    if op == IS_SET:
        return (actual is not None) is expected
    if actual is None:
        return False
    if op == EQUALS:
        return _equal(actual, expected)
    if op == NOT_EQUALS:
        return not _equal(actual, expected)
    if op == IN:
        return any(_equal(actual, item) for item in expected)
    if op == CONTAINS:
        return _contains(actual, expected)
    return _ordered(op, actual, expected)


def match_offer(traits: Mapping[str, object], rules: Sequence[OfferRule]) -> str | None:
    """block_key of the highest-priority rule whose every condition holds, else None.

    Equal priorities go to the rule listed first. Raises ValueError (via validate_rules)
    when a rule is malformed, whatever the traits.
    """
    validate_rules(rules)
    ranked = sorted(enumerate(rules), key=lambda item: (-item[1].priority, item[0]))
    for _, rule in ranked:
        if all(condition_holds(traits, condition) for condition in rule.conditions):
            return rule.block_key
    return None
