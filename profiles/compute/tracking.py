"""Compute layer: tracking plans — a JSON Schema per event name and one for traits, compiled
once, and the check of one message against them (pure, on the ingestion hot path)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

TRACKING_PLAN_VIOLATION = "tracking_plan_violation"
UNPLANNED_EVENT = "unplanned_event"
MAX_REPORTED = 5  # violations kept per message


class PlanError(ValueError):
    """A tracking plan whose schemas are not valid JSON Schema (message names the place)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Violation:
    """One broken rule: the event ("" for traits), the property path, the JSON Schema keyword
    (or unplanned_event) and a message without the offending value."""

    event: str
    property: str
    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class CompiledPlan:
    events: Mapping[str, Draft202012Validator]
    traits: Draft202012Validator | None
    allow_unplanned_events: bool


def compile_plan(
    *, events: Mapping[str, Any], traits_schema: Mapping[str, Any], allow_unplanned_events: bool
) -> CompiledPlan:
    """Check and compile the schemas. Raises PlanError naming the first bad schema."""
    if not isinstance(events, Mapping):
        raise PlanError("events must map event names to JSON Schemas")
    compiled = {}
    for name, schema in events.items():
        compiled[str(name)] = _validator(schema, f"event {name!r}")
    traits = _validator(traits_schema, "traits") if traits_schema else None
    return CompiledPlan(
        events=compiled, traits=traits, allow_unplanned_events=allow_unplanned_events
    )


def _validator(schema: Any, where: str) -> Draft202012Validator:
    if not isinstance(schema, Mapping):
        raise PlanError(f"the schema of {where} must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise PlanError(f"the schema of {where} is not valid JSON Schema: {exc.message}") from exc
    return Draft202012Validator(schema)


def _path(error: ValidationError) -> str:
    parts = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [name for name in error.validator_value if name not in error.instance]
        parts.append(str(missing[0]) if missing else "")
    return ".".join(part for part in parts if part)


def _message(error: ValidationError) -> str:
    """The keyword and its expectation, never the value sent (it may be personal data)."""
    expected = error.validator_value
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return "is not allowed by the plan"
    text = f"must satisfy {error.validator}={expected!r}"
    return text[:300]


def _check(validator: Draft202012Validator, instance: Any, event: str) -> list[Violation]:
    found = []
    for error in validator.iter_errors(instance):
        path = _path(error)
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            allowed = set((error.schema or {}).get("properties", {}))
            extra = sorted(name for name in error.instance if name not in allowed)
            path = ".".join(p for p in (path, extra[0] if extra else "") if p)
        found.append(
            Violation(
                event=event, property=path, code=str(error.validator), message=_message(error)
            )
        )
        if len(found) >= MAX_REPORTED:
            break
    return found


def check_message(plan: CompiledPlan, payload: Mapping[str, Any]) -> list[Violation]:
    """Violations of one valid Segment message: track properties against its event's schema
    (an event absent from the plan is a violation unless unplanned events are allowed),
    identify traits against the traits schema. Other types pass."""
    kind = payload.get("type")
    if kind == "track":
        event = str(payload.get("event") or "")
        validator = plan.events.get(event)
        if validator is None:
            if plan.allow_unplanned_events:
                return []
            return [
                Violation(
                    event=event,
                    property="",
                    code=UNPLANNED_EVENT,
                    message="this event is not in the tracking plan",
                )
            ]
        return _check(validator, payload.get("properties") or {}, event)
    if kind == "identify" and plan.traits is not None:
        return _check(plan.traits, payload.get("traits") or {}, "")
    return []
