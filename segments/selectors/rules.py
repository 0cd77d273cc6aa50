"""Segments selectors: the compiler from a rule tree to one SQL condition on profiles (Q with
IN/EXISTS subqueries on indexed columns) — never a Python loop over profiles.

Every condition compiles to a two-valued SQL predicate (missing values are guarded with IS NOT
NULL), so "not" is the exact complement. Event conditions become `pk IN (SELECT profile_id
FROM events WHERE event = … AND timestamp >= … [GROUP BY profile_id HAVING …])`, served by the
(event, timestamp, profile) index; when `profile_ids` is given (real-time evaluation of the
profiles an event touched) every subquery is restricted to them and uses the (profile, event,
timestamp) index instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from consent import public as consent_public
from profiles import public as profiles_public
from segments.compute.rule_tree import DATE, NUMBER, SEQUENCE_UNITS, parse_instant
from segments.models import SegmentMembership

from .operands import compare, count_predicate, json_operand

Tree = dict[str, Any]
_AGGREGATES = {"sum": Sum, "avg": Avg, "min": Min, "max": Max}


@dataclass(frozen=True, kw_only=True)
class CompileContext:
    now: datetime
    profile_ids: Sequence[int] | None = None

    def restrict(self, queryset: QuerySet[Any], column: str = "profile_id") -> QuerySet[Any]:
        if self.profile_ids is None:
            return queryset
        return queryset.filter(**{f"{column}__in": list(self.profile_ids)})

    def events(self) -> QuerySet[Any]:
        return self.restrict(profiles_public.events_qs())


def compile_tree(
    tree: Tree, *, now: datetime | None = None, profile_ids: Sequence[int] | None = None
) -> Q:
    """The rule tree as a Q on profiles_qs(). `tree` must have been validated."""
    context = CompileContext(now=now or timezone.now(), profile_ids=profile_ids)
    return compile_node(tree, context)


def compile_node(node: Tree, context: CompileContext) -> Q:
    if "all" in node:
        if not node["all"]:
            return ~Q(pk__in=[])  # everyone, as a Q that negates to no one (~Q() would not)
        q = compile_node(node["all"][0], context)
        for child in node["all"][1:]:
            q &= compile_node(child, context)
        return q
    if "any" in node:
        if not node["any"]:
            return Q(pk__in=[])
        q = compile_node(node["any"][0], context)
        for child in node["any"][1:]:
            q |= compile_node(child, context)
        return q
    if "not" in node:
        return ~compile_node(node["not"], context)
    return CONDITION_COMPILERS[node["type"]](node, context)


def _trait(node: Tree, context: CompileContext) -> Q:
    operand, kind = json_operand("traits", node["trait"], node)
    return compare(operand, kind, node["op"], node.get("value"), now=context.now)


def _computed(node: Tree, context: CompileContext) -> Q:
    name = node["trait"]
    kind = profiles_public.builtin_trait_types().get(name)
    if name in profiles_public.DERIVED_TRAITS:
        return _derived(node, context)
    if kind is None:  # a custom computed trait, stored as JSON
        operand, kind = json_operand("computed__custom", name, node)
        return compare(operand, kind, node["op"], node.get("value"), now=context.now)
    return compare(f"computed__{name}", kind, node["op"], node.get("value"), now=context.now)


def _derived(node: Tree, context: CompileContext) -> Q:
    """Days since a stored instant, compared without computing it per row: "recency_days > 30"
    is "last_order_at < now - 30 days" (so the index on last_order_at serves it). eq/neq/in
    count whole days: "= 3" means 3 <= days < 4."""
    path = f"computed__{profiles_public.DERIVED_TRAITS[node['trait']][0]}"
    op, value = node["op"], node.get("value")
    if op in ("is_set", "not_set"):
        return compare(path, DATE, op, None, now=context.now)

    def instant(days: float) -> datetime:
        return context.now - timedelta(days=float(days))

    def whole_day(days: float) -> Q:
        return Q(**{f"{path}__lte": instant(days), f"{path}__gt": instant(days + 1)})

    flipped = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}
    if op in flipped:
        return compare(path, NUMBER, flipped[op], instant(value), now=context.now)
    if op == "between":
        low, high = value
        return compare(path, NUMBER, "between", [instant(high), instant(low)], now=context.now)
    days = [value] if op in ("eq", "neq") else value
    inside = Q(pk__in=[])
    for day in days:
        inside |= whole_day(day)
    present = Q(**{f"{path}__isnull": False})
    return present & inside if op in ("eq", "in") else present & ~inside


def _window(events: QuerySet[Any], node: Tree, now: datetime) -> QuerySet[Any]:
    if node.get("within_days"):
        events = events.filter(timestamp__gte=now - timedelta(days=node["within_days"]))
    elif node.get("between"):
        low, high = (parse_instant(value) for value in node["between"])
        events = events.filter(timestamp__gte=low, timestamp__lt=high)
    return events


def _where(
    events: QuerySet[Any], clauses: list[dict[str, Any]] | None, now: datetime
) -> QuerySet[Any]:
    for clause in clauses or []:
        operand, kind = json_operand("payload", clause["property"], clause, under=("properties",))
        events = events.filter(compare(operand, kind, clause["op"], clause.get("value"), now=now))
    return events


def _event(node: Tree, context: CompileContext) -> Q:
    events = _window(context.events().filter(event=node["event"]), node, context.now)
    events = _where(events, node.get("where"), context.now)
    performed = node.get("performed", True)
    if "aggregate" in node:
        spec = node["aggregate"]
        operand = profiles_public.JsonNumber("payload", "properties", spec["property"])
        measure: Any = _AGGREGATES[spec["fn"]](operand)
        q = _measured(events, measure, spec["op"], spec["value"], zero_counts=spec["fn"] == "sum")
        return q if performed else ~q
    spec = node.get("count") or {"op": "gte", "value": 1}
    at_least = _at_least(spec["op"], spec["value"])
    if at_least is not None:
        # "at least N": the N-th matching event exists — a correlated probe of the
        # (profile, event, timestamp) index that stops at N rows, evaluated only for profiles
        # that pass the cheaper conditions. "At least 1" stays a semi-join PostgreSQL can
        # reorder; its negation is an anti-join (NOT EXISTS), never NOT IN.
        if at_least == 1:
            exists = Exists(events.filter(profile_id=OuterRef("pk")))
            return Q(pk__in=events.values("profile_id")) if performed else ~Q(exists)
        nth = Exists(events.filter(profile_id=OuterRef("pk")).order_by()[at_least - 1 : at_least])
        return Q(nth) if performed else ~Q(nth)
    q = _measured(events, Count("*"), spec["op"], spec["value"], zero_counts=True)
    return q if performed else ~q


def _at_least(op: str, value: Any) -> int | None:
    """N when a count condition means "at least N" with N >= 1, else None."""
    if op == "gte" and value >= 1:
        return int(value)
    if op == "gt" and value >= 0:
        return int(value) + 1
    return None


def _measured(events: QuerySet[Any], measure: Any, op: str, value: Any, *, zero_counts: bool) -> Q:
    """Profiles whose `measure` over `events` satisfies (op, value), as `pk IN (SELECT
    profile_id … GROUP BY profile_id HAVING …)`. A profile without events has a count (and
    sum) of 0: when 0 satisfies the predicate, compile the complement of the failing profiles
    instead, so they are included."""
    predicate, holds_for_zero = count_predicate(op, value)
    grouped = events.values("profile_id").annotate(measure=measure).order_by()
    if zero_counts and holds_for_zero:
        failing = grouped.exclude(predicate("measure")).values("profile_id")
        return ~Q(pk__in=failing)
    return Q(pk__in=grouped.filter(predicate("measure")).values("profile_id"))


def _sequence(node: Tree, context: CompileContext) -> Q:
    """Step 1, then step 2 after it (within `within` of it when given), then step 3 … ."""
    within = node.get("within")
    gap = timedelta(seconds=within["value"] * SEQUENCE_UNITS[within["unit"]]) if within else None
    steps = node["steps"]
    following: QuerySet[Any] | None = None
    for step in reversed(steps[1:]):
        later = profiles_public.events_qs().filter(
            event=step["event"],
            profile_id=OuterRef("profile_id"),
            timestamp__gt=OuterRef("timestamp"),
        )
        if gap is not None:
            later = later.filter(
                timestamp__lte=ExpressionWrapper(
                    OuterRef("timestamp") + gap, output_field=DateTimeField()
                )
            )
        later = _where(later, step.get("where"), context.now)
        if following is not None:
            later = later.filter(Exists(following))
        following = later
    first = context.events().filter(event=steps[0]["event"])
    first = _where(_window(first, node, context.now), steps[0].get("where"), context.now)
    q = Q(pk__in=first.filter(Exists(following)).values("profile_id"))
    return q if node.get("performed", True) else ~q


def _consent(node: Tree, context: CompileContext) -> Q:
    q = Q(consent_public.consent_granted_exists(purpose_key=node["purpose"], profile_ref="pk"))
    return q if node.get("granted", True) else ~q


def _segment(node: Tree, context: CompileContext) -> Q:
    members = SegmentMembership.objects.filter(
        segment_id=node["segment_id"], exited_at__isnull=True
    )
    if node.get("member", True):
        return Q(pk__in=context.restrict(members).values("profile_id"))
    return ~Q(Exists(members.filter(profile_id=OuterRef("pk"))))  # an anti-join, not NOT IN


def _identifier(node: Tree, context: CompileContext) -> Q:
    found = profiles_public.identifiers_qs().filter(
        profile_id=OuterRef("pk"), type=node["identifier"]
    )
    q = Q(Exists(found))
    return q if node.get("present", True) else ~q


CONDITION_COMPILERS: dict[str, Callable[[Tree, CompileContext], Q]] = {
    "trait": _trait,
    "computed": _computed,
    "event": _event,
    "sequence": _sequence,
    "consent": _consent,
    "segment": _segment,
    "identifier": _identifier,
}


@contextmanager
def evaluation_settings() -> Iterator[None]:
    """A transaction tuned for evaluating a whole segment on PostgreSQL: more memory for the
    hash joins and aggregates (settings.CDP_SEGMENT_WORK_MEM, default 64MB, instead of
    spilling to disk) and no JIT (compiling these plans cost seconds, more than it saves).
    SET LOCAL: nothing leaks past the transaction. A no-op on SQLite."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            work_mem = getattr(settings, "CDP_SEGMENT_WORK_MEM", "64MB")
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
                cursor.execute("SELECT set_config('jit', 'off', true)")
        yield


def rule_tree_profiles_qs(
    tree: Tree, *, now: datetime | None = None, profile_ids: Sequence[int] | None = None
) -> QuerySet[Any]:
    """Active profiles matching `tree` (restricted to `profile_ids` when given): one query."""
    profiles = profiles_public.profiles_qs()
    if profile_ids is not None:
        profiles = profiles.filter(pk__in=list(profile_ids))
    return profiles.filter(compile_tree(tree, now=now, profile_ids=profile_ids))
