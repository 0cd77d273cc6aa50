"""Segments services: create, change, archive and delete segments and custom computed traits,
validating rule trees against what exists (traits, events, properties, purposes, segments) and
refusing cycles between segments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from profiles import public as profiles_public
from segments.compute.cron import CronError, next_run, parse_cron
from segments.compute.rule_graph import find_cycle, realtime_verdict, referenced_segments
from segments.compute.rule_tree import NUMBER
from segments.models import ComputedTrait, Segment
from segments.selectors.vocabulary import (
    dependency_graph,
    realtime_segment_ids,
    rule_tree_check,
)


class SegmentCycleError(DomainError):
    code = "segment_cycle"
    status_code = 400


class NotRealtimeCapableError(DomainError):
    code = "not_realtime_capable"
    status_code = 400


def _check_cycles(segment_id: int, tree: Any) -> None:
    graph = dependency_graph()
    graph[segment_id] = referenced_segments(tree)
    cycle = find_cycle(graph)
    if cycle:
        names = dict(Segment.objects.filter(pk__in=cycle).values_list("pk", "name"))
        path = " → ".join(names.get(pk, str(pk)) for pk in cycle)
        raise SegmentCycleError(
            f"Segments would depend on each other: {path}", details={"cycle": cycle}
        )


def _check_realtime(tree: Any, is_realtime: bool) -> None:
    if not is_realtime:
        return
    verdict = realtime_verdict(
        tree, batch_traits=profiles_public.BATCH_TRAITS, realtime_segments=realtime_segment_ids()
    )
    if not verdict.is_realtime_capable:
        raise NotRealtimeCapableError(
            "This definition cannot be evaluated in real time: " + "; ".join(verdict.blockers),
            details={"blockers": list(verdict.blockers)},
        )


def _check_cron(expression: str) -> None:
    try:
        parse_cron(expression)
    except CronError as exc:
        raise InvalidInputError(f"refresh_cron: {exc}", details={"refresh_cron": str(exc)}) from exc


@dataclass(frozen=True, kw_only=True)
class SegmentInput:
    name: str
    rule_tree: dict[str, Any]
    kind: str = Segment.Kind.DYNAMIC
    description: str = ""
    is_realtime: bool = False
    refresh_cron: str = "0 * * * *"


def _validate(segment_id: int | None, data: SegmentInput) -> None:
    if data.kind == Segment.Kind.STATIC and data.is_realtime:
        raise InvalidInputError("A static segment cannot be real-time.")
    _check_cron(data.refresh_cron)
    rule_tree_check(tree=data.rule_tree, segment_id=segment_id)
    _check_realtime(data.rule_tree, data.is_realtime)
    if Segment.objects.filter(name=data.name).exclude(pk=segment_id).exists():
        raise ConflictError(f"A segment named {data.name!r} exists.", details={"name": data.name})


@transaction.atomic
def segment_create(
    *, data: SegmentInput, actor: Actor, origin: str = Segment.Origin.RULES
) -> Segment:
    """Create a segment and ask for its first evaluation (dynamic: refreshed, static: the
    snapshot is taken). Raises InvalidRuleTreeError, NotRealtimeCapableError, ConflictError
    (name taken) or InvalidInputError (cron, static + real-time)."""
    _validate(None, data)
    segment = Segment.objects.create(
        name=data.name,
        description=data.description,
        kind=data.kind,
        origin=origin,
        rule_tree=data.rule_tree,
        is_realtime=data.is_realtime,
        refresh_cron=data.refresh_cron,
        next_refresh_at=timezone.now(),
        created_by_id=actor.user_id,
    )
    _check_cycles(segment.pk, data.rule_tree)
    audit_record(
        actor=actor, action="segments.segment.create", target=segment, details={"kind": data.kind}
    )
    jobs.publish_on_commit(jobs.SEGMENT_REFRESH_REQUESTED, segment_id=segment.pk)
    return segment


@transaction.atomic
def segment_update(*, segment_id: int, data: SegmentInput, actor: Actor) -> Segment:
    """Change a segment. A new rule tree (or kind) bumps the definition version and asks for a
    refresh; a new schedule moves the next refresh. Same errors as segment_create, plus
    NotFoundError. Idempotent: saving the same values changes nothing but updated_at."""
    segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
    if segment is None:
        raise NotFoundError(f"No segment with id {segment_id}.")
    _validate(segment_id, data)
    _check_cycles(segment_id, data.rule_tree)
    if data.is_realtime != segment.is_realtime and not data.is_realtime:
        _check_not_needed_realtime(segment)
    redefined = data.rule_tree != segment.rule_tree or data.kind != segment.kind
    rescheduled = data.refresh_cron != segment.refresh_cron
    for field in ("name", "description", "kind", "rule_tree", "is_realtime", "refresh_cron"):
        setattr(segment, field, getattr(data, field))
    if redefined:
        segment.definition_version += 1
        segment.next_refresh_at = timezone.now()
    elif rescheduled and segment.is_dynamic:
        segment.next_refresh_at = next_run(parse_cron(segment.refresh_cron), timezone.now())
    segment.save()
    audit_record(
        actor=actor,
        action="segments.segment.update",
        target=segment,
        details={"redefined": redefined, "version": segment.definition_version},
    )
    if redefined:
        jobs.publish_on_commit(jobs.SEGMENT_REFRESH_REQUESTED, segment_id=segment.pk)
    return segment


def _dependents(segment_id: int) -> list[str]:
    graph = dependency_graph()
    ids = [pk for pk, refs in graph.items() if segment_id in refs and pk != segment_id]
    return list(
        Segment.objects.filter(pk__in=ids, is_archived=False).values_list("name", flat=True)
    )


def _check_not_needed_realtime(segment: Segment) -> None:
    names = list(
        Segment.objects.filter(
            pk__in=[pk for pk, refs in dependency_graph().items() if segment.pk in refs],
            is_realtime=True,
        ).values_list("name", flat=True)
    )
    if names:
        raise NotRealtimeCapableError(
            f"Real-time segments depend on this one: {', '.join(names)}",
            details={"dependents": names},
        )


@transaction.atomic
def segment_delete(*, segment_id: int, actor: Actor) -> None:
    """Delete a segment with its membership history. Raises NotFoundError, or ConflictError
    while other segments name it. Idempotent in effect (a second call raises NotFoundError)."""
    segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
    if segment is None:
        raise NotFoundError(f"No segment with id {segment_id}.")
    dependents = _dependents(segment_id)
    if dependents:
        raise ConflictError(
            f"Other segments use this one: {', '.join(dependents)}",
            details={"dependents": dependents},
        )
    audit_record(
        actor=actor,
        action="segments.segment.delete",
        target=segment,
        details={"name": segment.name},
    )
    segment.delete()


@dataclass(frozen=True, kw_only=True)
class ComputedTraitInput:
    key: str
    name: str
    event: str
    property: str
    aggregate: str
    window_days: int | None


def computed_trait_check(*, data: ComputedTraitInput) -> None:
    """Raise InvalidInputError when the key shadows a built-in trait, the event is unknown, or
    the aggregate needs a (numeric) property the event does not have."""
    if data.key in profiles_public.builtin_trait_types():
        raise InvalidInputError(f"{data.key!r} is a built-in computed trait.")
    catalogue = profiles_public.catalogue()
    if data.event not in catalogue.events:
        raise InvalidInputError(f"unknown event {data.event!r}")
    kind = catalogue.properties.get(data.event, {}).get(data.property)
    if data.aggregate in ("sum", "avg", "min", "max") and kind != NUMBER:
        raise InvalidInputError(f"{data.aggregate} needs a number property of {data.event!r}")
    if data.aggregate == "distinct" and kind is None:
        raise InvalidInputError(f"{data.event!r} has no property {data.property!r}")


@transaction.atomic
def computed_trait_save(*, data: ComputedTraitInput, actor: Actor) -> ComputedTrait:
    """Create or change a custom computed trait (by key) and queue its computation. Raises
    InvalidInputError when the key shadows a built-in trait, the event is unknown, or the
    aggregate needs a numeric property it does not have. Idempotent per key."""
    computed_trait_check(data=data)
    trait, _ = ComputedTrait.objects.update_or_create(
        key=data.key,
        defaults={
            "name": data.name,
            "event": data.event,
            "property": data.property,
            "aggregate": data.aggregate,
            "window_days": data.window_days,
        },
    )
    audit_record(actor=actor, action="segments.computed_trait.save", target=trait)
    jobs.publish_on_commit(jobs.COMPUTED_TRAITS_REQUESTED, trait_keys=[trait.key])
    return trait
