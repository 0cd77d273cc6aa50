"""Demo data: when things happen (seasonal renewal processes, local time of day, time zones)."""

from __future__ import annotations

import datetime
import zoneinfo

import numpy as np
import pandas as pd

from .people import CITIES
from .personas import PERSONAS, ActivityClock

SECONDS_PER_DAY = 86_400
EVENING_SHARE = 0.6  # share of activity in the evening peak, the rest spread over the day


def renewal_days(
    rng: np.random.Generator, clock: ActivityClock, *, persona: np.ndarray, start: np.ndarray,
    end: np.ndarray, rate: np.ndarray, regularity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Event days per person: gaps ~ Gamma(regularity) with mean 1/rate in activity time.

    Each person p gets events in [start[p], end[p]) (days relative to as_of); the persona's
    seasonal clock turns a constant rate into that persona's seasonal intensity. Returns
    (person position, day) sorted by person, then day. regularity is per persona: 1 gives a
    Poisson process, larger values steadier gaps.
    """
    owners, days = [], []
    for p in range(len(PERSONAS)):
        rows = np.flatnonzero((persona == p) & (end > start) & (rate > 0))
        if rows.size == 0:
            continue
        begin = clock.to_activity(p, start[rows])
        stop = clock.to_activity(p, end[rows])
        expected = rate[rows] * (stop - begin)
        draws = np.ceil(expected + 6 * np.sqrt(expected) + 6).astype(np.int64)
        owner = np.repeat(np.arange(rows.size), draws)
        shape = regularity[p]
        gaps = rng.gamma(shape, 1.0 / (shape * rate[rows][owner]))
        first = np.cumsum(draws) - draws
        gaps[first] *= rng.random(rows.size)  # the process is already running at `start`
        total = np.cumsum(gaps)
        before = np.repeat(total[first] - gaps[first], draws)
        activity = begin[owner] + total - before
        keep = activity < stop[owner]
        owners.append(rows[owner[keep]])
        days.append(clock.to_days(p, activity[keep]))
    if not owners:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    owner_all, day_all = np.concatenate(owners), np.concatenate(days)
    order = np.lexsort((day_all, owner_all))
    return owner_all[order], day_all[order]


def utc_offsets_hours(as_of: datetime.date) -> np.ndarray:
    """Each city's UTC offset in hours on as_of (used to place activity in local time)."""
    moment = datetime.datetime.combine(as_of, datetime.time(12), tzinfo=datetime.UTC)
    offsets = [moment.astimezone(zoneinfo.ZoneInfo(c.tz)).utcoffset() for c in CITIES]
    return np.array([o.total_seconds() / 3600 if o is not None else 0.0 for o in offsets])


def at_local_time(
    rng: np.random.Generator, day: np.ndarray, offset_hours: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Move each day value to a plausible local time of day, in whole seconds, before `end`."""
    evening = rng.random(day.size) < EVENING_SHARE
    hour = np.where(evening, rng.normal(20.0, 1.8, day.size), rng.uniform(7.0, 19.0, day.size))
    local = np.floor(day) + np.clip(hour, 0.0, 23.99) / 24.0 - offset_hours / 24.0
    local = np.where(local >= end, local - 1.0, local)
    local = np.where(local >= end, end - 1.0 / 24.0, local)
    return np.floor(local * SECONDS_PER_DAY) / SECONDS_PER_DAY


def epoch_seconds(as_of: datetime.date, day: np.ndarray) -> np.ndarray:
    """Float days relative to as_of midnight UTC as integer Unix seconds."""
    as_of_s = int(np.datetime64(as_of, "s").astype(np.int64))
    return as_of_s + np.round(day * SECONDS_PER_DAY).astype(np.int64)


def local_iso(seconds: np.ndarray, city: np.ndarray) -> tuple[list[str], list[str]]:
    """Local wall-clock "YYYY-MM-DDTHH:MM:SS" and its "+HH:MM" offset, per city time zone."""
    wall = np.empty(seconds.size, dtype="datetime64[s]")
    offset = np.zeros(seconds.size, dtype=np.int64)
    zones = np.array([c.tz for c in CITIES], dtype=object)[city]
    for zone in sorted(set(zones.tolist())):
        rows = np.flatnonzero(zones == zone)
        utc = pd.DatetimeIndex(seconds[rows].astype("datetime64[s]"), tz="UTC")
        local = utc.tz_convert(zone).tz_localize(None).to_numpy().astype("datetime64[s]")
        wall[rows] = local
        offset[rows] = (local.astype(np.int64) - seconds[rows]) // 60
    signs = np.where(offset < 0, "-", "+")
    minutes = np.abs(offset)
    offsets = [
        f"{s}{m // 60:02d}:{m % 60:02d}" for s, m in zip(signs, minutes.tolist(), strict=True)
    ]
    return np.datetime_as_string(wall, unit="s").tolist(), offsets
