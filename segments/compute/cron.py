"""Compute layer: five-field cron expressions (minute hour day-of-month month day-of-week, UTC)
for per-segment refresh schedules: parse, and find the next run after a moment."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

SHORTCUTS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
_SEARCH_DAYS = 366 * 5


class CronError(ValueError):
    """An expression that is not a valid five-field cron expression."""


@dataclass(frozen=True, kw_only=True)
class CronSpec:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    day_restricted: bool
    weekday_restricted: bool


def _parse_part(part: str, low: int, high: int) -> set[int]:
    step = 1
    if "/" in part:
        part, step_text = part.split("/", 1)
        if not step_text.isdigit() or int(step_text) < 1:
            raise CronError(f"bad step {step_text!r}")
        step = int(step_text)
    if part == "*":
        start, end = low, high
    elif "-" in part:
        first, last = part.split("-", 1)
        if not (first.isdigit() and last.isdigit()):
            raise CronError(f"bad range {part!r}")
        start, end = int(first), int(last)
    elif part.isdigit():
        start = end = int(part)
        if step > 1:
            end = high
    else:
        raise CronError(f"bad value {part!r}")
    if not low <= start <= end <= high:
        raise CronError(f"{part!r} is outside {low}-{high}")
    return set(range(start, end + 1, step))


def parse_cron(expression: str) -> CronSpec:
    """Parse `expression` ("*/15 * * * *", "0 6 * * 1-5", "@daily" …). Raises CronError."""
    text = SHORTCUTS.get(expression.strip(), expression.strip())
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise CronError("a cron expression has five fields: minute hour day month weekday")
    values = []
    for part, (_name, low, high) in zip(parts, _FIELDS, strict=True):
        chosen: set[int] = set()
        for piece in part.split(","):
            chosen |= _parse_part(piece, low, high)
        values.append(chosen)
    minutes, hours, days, months, weekdays = values
    return CronSpec(
        minutes=frozenset(minutes),
        hours=frozenset(hours),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(day % 7 for day in weekdays),
        day_restricted=parts[2] != "*",
        weekday_restricted=parts[4] != "*",
    )


def _day_matches(spec: CronSpec, day: datetime.date) -> bool:
    if day.month not in spec.months:
        return False
    by_day = day.day in spec.days
    by_weekday = (day.isoweekday() % 7) in spec.weekdays
    if spec.day_restricted and spec.weekday_restricted:
        return by_day or by_weekday  # classic cron: either restriction matches
    return by_day and by_weekday


def next_run(spec: CronSpec, after: datetime.datetime) -> datetime.datetime:
    """The first matching minute strictly after `after` (aware; the result is UTC).

    Raises CronError when nothing matches within five years (e.g. "0 0 31 2 *").
    """
    if after.tzinfo is None:
        raise ValueError("after must be time-zone aware")
    moment = after.astimezone(datetime.UTC).replace(second=0, microsecond=0)
    moment += datetime.timedelta(minutes=1)
    day = moment.date()
    for offset in range(_SEARCH_DAYS):
        current = day + datetime.timedelta(days=offset)
        if not _day_matches(spec, current):
            continue
        start = moment.time() if offset == 0 else datetime.time(0, 0)
        for hour in sorted(h for h in spec.hours if h >= start.hour):
            first_minute = start.minute if hour == start.hour else 0
            minutes = sorted(m for m in spec.minutes if m >= first_minute)
            if minutes:
                return datetime.datetime.combine(
                    current, datetime.time(hour, minutes[0]), tzinfo=datetime.UTC
                )
    raise CronError("the expression never matches")
