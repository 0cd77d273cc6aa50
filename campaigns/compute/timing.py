"""Campaigns compute layer: quiet hours, send windows and frequency caps (DST-safe)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {tz!r}") from error


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _is_quiet(wall: time, quiet_start: time, quiet_end: time) -> bool:
    if quiet_start <= quiet_end:
        return quiet_start <= wall < quiet_end
    return wall >= quiet_start or wall < quiet_end  # the span crosses midnight


def _wall_exists(moment: datetime) -> bool:
    """False for a wall time skipped by a DST gap (it does not survive a UTC round trip)."""
    round_trip = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return round_trip.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _gap_end(moment: datetime) -> datetime:
    """First instant (in UTC) after the DST gap that swallowed `moment`'s wall time.

    Bisection between the wall time's two readings: in a gap, fold=1 gives the earlier
    instant and fold=0 the later one, and the transition lies between them.
    """
    low = moment.replace(fold=1).astimezone(UTC)
    high = moment.replace(fold=0).astimezone(UTC)
    offset_after = high.astimezone(moment.tzinfo).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(moment.tzinfo).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _first_instant_at(day: datetime, wall: time, not_before: datetime) -> datetime:
    """Earliest instant (in UTC), not before `not_before`, at which the clock on `day`
    reads `wall` or has just jumped past it."""
    candidate = datetime.combine(day.date(), wall, tzinfo=day.tzinfo)
    if not _wall_exists(candidate):
        return _gap_end(candidate)
    # A wall time repeated by a fall-back transition: the first reading not before the limit.
    # Compare in UTC: aware datetimes sharing a tzinfo compare by wall time, ignoring fold.
    for fold in (0, 1):
        instant = candidate.replace(fold=fold).astimezone(UTC)
        if instant >= not_before.astimezone(UTC):
            return instant
    return candidate.replace(fold=1).astimezone(UTC)


def next_send_time(now: datetime, *, tz: str, quiet_start: time, quiet_end: time) -> datetime:
    """Earliest instant at or after `now` outside the recipient's quiet hours.

    Quiet hours are wall-clock times in `tz`, from quiet_start (inclusive) to quiet_end
    (exclusive); a span with quiet_start > quiet_end crosses midnight, and equal times mean
    no quiet hours. Returns an aware datetime in UTC (a due_at to store; a local datetime on
    a repeated wall time would, by PEP 495, never compare equal to one in another zone).
    When quiet_end falls in a DST gap the send time is the end of the gap (the clock jumps
    past quiet_end); when it occurs twice (fall back) it is its first occurrence not before
    `now`.
    Raises ValueError for a naive `now`, times with tzinfo or an unknown zone.
    """
    _require_aware(now, "now")
    if quiet_start.tzinfo is not None or quiet_end.tzinfo is not None:
        raise ValueError("quiet_start and quiet_end are wall-clock times without tzinfo")
    zone = _zone(tz)
    local = now.astimezone(zone)
    if quiet_start == quiet_end or not _is_quiet(local.time(), quiet_start, quiet_end):
        return now.astimezone(UTC)
    day = local
    if quiet_start > quiet_end and local.time() >= quiet_start:
        day = datetime.combine(local.date() + timedelta(days=1), time(12), tzinfo=zone)
    return _first_instant_at(day, quiet_end, not_before=now)


def _check_cap(cap: int | None, name: str) -> None:
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        raise ValueError(f"{name} must be None or a non-negative integer, got {cap!r}")


def is_capped(
    previous_sends: Sequence[datetime],
    *,
    now: datetime,
    per_day: int | None,
    per_week: int | None,
) -> bool:
    """True when one more send at `now` would exceed a frequency cap.

    Windows are rolling in elapsed time, not calendar days: the last 24 hours and the last
    7 × 24 hours before `now` (a send exactly 24 h ago has left the day window). Because
    they are measured on absolute instants, DST changes neither lengthen nor shorten them.
    Sends stamped after `now` (clock skew between workers) count as inside both windows.
    A cap of None means no cap; 0 means never send. Raises ValueError for naive datetimes
    or a negative cap.
    """
    _check_cap(per_day, "per_day")
    _check_cap(per_week, "per_week")
    _require_aware(now, "now")
    for sent in previous_sends:
        _require_aware(sent, "previous_sends")
    # In UTC: aware arithmetic and comparison within one zone work on wall time.
    sent_utc = [sent.astimezone(UTC) for sent in previous_sends]
    now_utc = now.astimezone(UTC)
    for cap, window in ((per_day, DAY), (per_week, WEEK)):
        if cap is None:
            continue
        since = now_utc - window
        if sum(1 for sent in sent_utc if sent > since) >= cap:
            return True
    return False
