"""Campaigns compute layer: occurrences of one-off and recurring schedules, in a fixed time zone
or in each recipient's own (local wall time), and the send instant of an occurrence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ONCE = "once"
DAILY = "daily"
WEEKLY = "weekly"
RECURRENCES = (ONCE, DAILY, WEEKLY)

# A runner that was down catches up on an occurrence for this long after its last instant;
# later, the occurrence is skipped (yesterday's newsletter is not sent tomorrow).
CATCH_UP = timedelta(hours=6)
# Wall-clock offsets span UTC-12 (Baker Island) to UTC+14 (Kiribati).
EARLIEST_OFFSET = timedelta(hours=14)
LATEST_OFFSET = timedelta(hours=12)


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """One day of a schedule: its key, the local day, and the span of UTC instants at which
    some recipient's clock reads the send time (a single instant for a fixed zone)."""

    key: str
    day: date
    earliest: datetime
    latest: datetime


def is_valid_timezone(name: str) -> bool:
    """True when `name` is an IANA zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_send_instant(day: date, at: time, tz: str) -> datetime:
    """The UTC instant when the clock in `tz` reads `at` on `day` (first reading on a
    fall-back repeat; just after the gap on a spring-forward skip). Raises ValueError for an
    unknown zone."""
    if not is_valid_timezone(tz):
        raise ValueError(f"unknown time zone {tz!r}")
    zone = ZoneInfo(tz)
    wall = datetime.combine(day, at, tzinfo=zone)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        # Skipped wall time (DST gap): fold=0 maps it after the gap; use that.
        instant = wall.replace(fold=0).astimezone(UTC)
    return instant


def _span(day: date, at: time, fixed_tz: str | None) -> tuple[datetime, datetime]:
    if fixed_tz:
        instant = local_send_instant(day, at, fixed_tz)
        return instant, instant
    naive_utc = datetime.combine(day, at, tzinfo=UTC)
    return naive_utc - EARLIEST_OFFSET, naive_utc + LATEST_OFFSET


def _matches(day: date, recurrence: str, once_on: date | None, weekday: int | None) -> bool:
    if recurrence == ONCE:
        return day == once_on
    if recurrence == WEEKLY:
        return day.weekday() == weekday
    return True


def due_occurrences(
    now: datetime,
    *,
    recurrence: str,
    at: time,
    once_on: date | None = None,
    weekday: int | None = None,
    fixed_tz: str | None = None,
    not_before: datetime | None = None,
) -> list[Occurrence]:
    """Occurrences whose first send instant has come (earliest <= now) and whose last has not
    long passed (now < latest + CATCH_UP), and that were not over before `not_before` (launch).

    A runner that creates one row per occurrence key and queues each recipient at their
    local instant can call this every minute. Raises ValueError for a naive `now`, an unknown
    recurrence or zone, or a missing date/weekday.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if recurrence not in RECURRENCES:
        raise ValueError(f"unknown recurrence {recurrence!r}")
    if recurrence == ONCE and once_on is None:
        raise ValueError("a one-off schedule needs a date")
    if recurrence == WEEKLY and weekday not in range(7):
        raise ValueError("a weekly schedule needs a weekday 0-6")
    today = now.astimezone(UTC).date()
    found = []
    for offset in (-1, 0, 1):
        day = today + timedelta(days=offset)
        if not _matches(day, recurrence, once_on, weekday):
            continue
        earliest, latest = _span(day, at, fixed_tz)
        if not earliest <= now < latest + CATCH_UP:
            continue
        if not_before is not None and latest < not_before:
            continue
        key = ONCE if recurrence == ONCE else day.isoformat()
        found.append(Occurrence(key=key, day=day, earliest=earliest, latest=latest))
    return found
