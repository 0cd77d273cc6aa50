"""An independent evaluation of rule trees with pandas over frames read from the tables: the
oracle the SQL compiler is compared against. Written from the documented semantics, sharing
no code with segments.selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from consent.models import ConsentState
from profiles.models import ComputedTraits, Event, Identifier, Profile
from segments.models import SegmentMembership


@dataclass(frozen=True, kw_only=True)
class Frames:
    profiles: pd.DataFrame  # id, traits
    events: pd.DataFrame  # profile_id, event, timestamp, properties
    computed: pd.DataFrame  # profile_id + every computed column (custom as a dict)
    granted: set[tuple[int, str]]
    members: dict[int, set[int]]
    identifiers: set[tuple[int, str]]


def load() -> Frames:
    profiles = pd.DataFrame.from_records(
        list(Profile.objects.filter(merged_into__isnull=True).values("id", "traits"))
    )
    events = pd.DataFrame.from_records(
        list(
            Event.objects.filter(status="processed", profile__isnull=False).values(
                "profile_id", "event", "timestamp", "payload"
            )
        ),
        columns=["profile_id", "event", "timestamp", "payload"],
    )
    events["properties"] = [
        (payload or {}).get("properties") or {} for payload in events["payload"]
    ]
    computed = pd.DataFrame.from_records(list(ComputedTraits.objects.values()))
    granted = set(
        ConsentState.objects.filter(is_granted=True).values_list("profile_id", "purpose__key")
    )
    members: dict[int, set[int]] = {}
    for segment_id, profile_id in SegmentMembership.objects.filter(
        exited_at__isnull=True
    ).values_list("segment_id", "profile_id"):
        members.setdefault(segment_id, set()).add(profile_id)
    identifiers = set(Identifier.objects.values_list("profile_id", "type"))
    return Frames(
        profiles=profiles,
        events=events,
        computed=computed,
        granted=granted,
        members=members,
        identifiers=identifiers,
    )


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _date_matches(stored: datetime, op: str, value: Any, now: datetime) -> bool:
    if op == "before":
        return stored < _instant(value)
    if op == "after":
        return stored > _instant(value)
    if op == "within_days":
        return now - timedelta(days=value) <= stored <= now
    low, high = (_instant(item) for item in value)
    return low <= stored <= high


def value_matches(stored: Any, op: str, value: Any, now: datetime) -> bool:
    """One operand against one condition, by the documented semantics."""
    if op == "is_set":
        return stored is not None
    if op == "not_set":
        return stored is None
    if op in ("before", "after", "within_days") or (op == "between" and isinstance(value[0], str)):
        instant = _instant(stored)
        return instant is not None and _date_matches(instant, op, value, now)
    sample = value[0] if isinstance(value, list) else value
    if isinstance(sample, bool):
        return isinstance(stored, bool) and (stored == value) == (op == "eq")
    if _is_number(sample):
        if not _is_number(stored):
            return False
        stored = float(stored)
    elif not isinstance(stored, str):
        return False
    return _compare(stored, op, value)


def _compare(stored: Any, op: str, value: Any) -> bool:
    checks = {
        "eq": lambda: stored == value,
        "neq": lambda: stored != value,
        "lt": lambda: stored < value,
        "lte": lambda: stored <= value,
        "gt": lambda: stored > value,
        "gte": lambda: stored >= value,
        "between": lambda: value[0] <= stored <= value[1],
        "in": lambda: stored in value,
        "not_in": lambda: stored not in value,
        "contains": lambda: value.lower() in stored.lower(),
    }
    return bool(checks[op]())


def _count_ok(count: float, op: str, value: Any) -> bool:
    return _compare(count, op, value)


def _event_rows(frames: Frames, node: dict[str, Any], now: datetime) -> pd.DataFrame:
    rows = frames.events.loc[frames.events["event"] == node["event"]]
    if node.get("within_days"):
        rows = rows.loc[rows["timestamp"] >= now - timedelta(days=node["within_days"])]
    if node.get("between"):
        low, high = (_instant(v) for v in node["between"])
        rows = rows.loc[(rows["timestamp"] >= low) & (rows["timestamp"] < high)]
    for clause in node.get("where") or []:
        keep = [
            value_matches(props.get(clause["property"]), clause["op"], clause.get("value"), now)
            for props in rows["properties"]
        ]
        rows = rows.loc[keep]
    return rows


def _event_ids(frames: Frames, node: dict[str, Any], now: datetime) -> set[int]:
    rows = _event_rows(frames, node, now)
    everyone = set(frames.profiles["id"])
    if "aggregate" in node:
        spec = node["aggregate"]
        numbers = rows.assign(
            n=[
                float(p[spec["property"]]) if _is_number(p.get(spec["property"])) else None
                for p in rows["properties"]
            ]
        )
        result = set()
        for pid in everyone:
            values = numbers.loc[numbers["profile_id"] == pid, "n"].dropna()
            if spec["fn"] == "sum":
                measure = float(values.sum()) if len(values) else 0.0
            elif len(values) == 0:
                continue
            else:
                measure = float(getattr(values, spec["fn"] if spec["fn"] != "avg" else "mean")())
            if _count_ok(measure, spec["op"], spec["value"]):
                result.add(pid)
    else:
        spec = node.get("count") or {"op": "gte", "value": 1}
        counts = rows.groupby("profile_id").size()
        result = {
            pid for pid in everyone if _count_ok(int(counts.get(pid, 0)), spec["op"], spec["value"])
        }
    return result if node.get("performed", True) else everyone - result


def _sequence_ids(frames: Frames, node: dict[str, Any], now: datetime) -> set[int]:
    steps = node["steps"]
    unit = {"minutes": 60, "hours": 3600, "days": 86400}
    gap = (
        timedelta(seconds=node["within"]["value"] * unit[node["within"]["unit"]])
        if node.get("within")
        else None
    )
    first = _event_rows(frames, {**steps[0], "within_days": node.get("within_days")}, now)
    later = [_event_rows(frames, step, now) for step in steps[1:]]
    found = set()
    for pid, stamp in zip(first["profile_id"], first["timestamp"], strict=True):
        if _chain(pid, stamp, later, gap):
            found.add(pid)
    everyone = set(frames.profiles["id"])
    return found if node.get("performed", True) else everyone - found


def _chain(pid: int, stamp: datetime, later: list[pd.DataFrame], gap: timedelta | None) -> bool:
    if not later:
        return True
    rows = later[0].loc[(later[0]["profile_id"] == pid) & (later[0]["timestamp"] > stamp)]
    if gap is not None:
        rows = rows.loc[rows["timestamp"] <= stamp + gap]
    return any(_chain(pid, nxt, later[1:], gap) for nxt in rows["timestamp"])


def _computed_value(frames: Frames, pid: int, name: str, now: datetime) -> Any:
    row = frames.computed.loc[frames.computed["profile_id"] == pid]
    if row.empty:
        return None
    record = row.iloc[0].to_dict()
    derived = {"recency_days": "last_order_at", "days_since_last_seen": "last_seen_at"}
    if name in derived:
        instant = record.get(derived[name])
        if instant is None or pd.isna(instant):
            return None
        return (now - instant.to_pydatetime()).total_seconds() / 86400
    if name in record:
        value = record[name]
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if hasattr(value, "to_pydatetime"):
            return value.to_pydatetime()
        return (
            float(value)
            if hasattr(value, "as_integer_ratio") and not isinstance(value, bool)
            else value
        )
    return (record.get("custom") or {}).get(name)


def _computed_matches(stored: Any, node: dict[str, Any], now: datetime, derived: bool) -> bool:
    op, value = node["op"], node.get("value")
    if derived and op in ("eq", "neq", "in", "not_in") and stored is not None:
        inside = int(stored // 1) in (value if isinstance(value, list) else [value])
        return inside if op in ("eq", "in") else not inside
    return value_matches(stored, op, value, now)


def evaluate(tree: dict[str, Any], frames: Frames, now: datetime) -> set[int]:
    """The ids of active profiles matching `tree`."""
    everyone = set(frames.profiles["id"])
    if "all" in tree:
        result = set(everyone)
        for child in tree["all"]:
            result &= evaluate(child, frames, now)
        return result
    if "any" in tree:
        result = set()
        for child in tree["any"]:
            result |= evaluate(child, frames, now)
        return result
    if "not" in tree:
        return everyone - evaluate(tree["not"], frames, now)
    return _condition(tree, frames, now, everyone)


def _condition(node: dict[str, Any], frames: Frames, now: datetime, everyone: set[int]) -> set[int]:
    kind = node["type"]
    if kind == "trait":
        return {
            pid
            for pid, traits in zip(frames.profiles["id"], frames.profiles["traits"], strict=True)
            if value_matches((traits or {}).get(node["trait"]), node["op"], node.get("value"), now)
        }
    if kind == "computed":
        derived = node["trait"] in ("recency_days", "days_since_last_seen")
        return {
            pid
            for pid in everyone
            if _computed_matches(
                _computed_value(frames, pid, node["trait"], now), node, now, derived
            )
        }
    if kind == "event":
        return _event_ids(frames, node, now)
    if kind == "sequence":
        return _sequence_ids(frames, node, now)
    if kind == "consent":
        granted = {pid for pid in everyone if (pid, node["purpose"]) in frames.granted}
        return granted if node.get("granted", True) else everyone - granted
    if kind == "segment":
        members = frames.members.get(node["segment_id"], set()) & everyone
        return members if node.get("member", True) else everyone - members
    present = {pid for pid in everyone if (pid, node["identifier"]) in frames.identifiers}
    return present if node.get("present", True) else everyone - present
