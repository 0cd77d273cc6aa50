"""Consent compute: legal deadlines of data-subject requests (GDPR one month, CCPA 45 days)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

GDPR = "gdpr"
CCPA = "ccpa"
REGIMES = (GDPR, CCPA)
# GDPR Art. 12(3): one month, extendable by two further months. CCPA §1798.130: 45 days,
# extendable once by another 45 days.
GDPR_MONTHS = 1
GDPR_EXTENSION_MONTHS = 2
CCPA_DAYS = 45
CCPA_EXTENSION_DAYS = 45
DUE_SOON_DAYS = 7


class UnknownRegimeError(ValueError):
    """A regime other than gdpr or ccpa."""


@dataclass(frozen=True, kw_only=True)
class Urgency:
    """How close a request is to its deadline: whole days left (negative when overdue)."""

    days_left: int
    is_overdue: bool
    band: str  # "overdue", "due_soon" (within DUE_SOON_DAYS), "on_track"

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.is_overdue else 0


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later; a day the month lacks becomes its last day (31 Jan → 28 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_at(*, regime: str, received_at: datetime) -> datetime:
    """The legal deadline of a request received at `received_at`."""
    if regime == GDPR:
        return add_months(received_at, GDPR_MONTHS)
    if regime == CCPA:
        return received_at + timedelta(days=CCPA_DAYS)
    raise UnknownRegimeError(f"unknown regime {regime!r}; use one of {REGIMES}")


def extended_due_at(*, regime: str, received_at: datetime) -> datetime:
    """The latest deadline an extension (with a reason) may set."""
    if regime == GDPR:
        return add_months(received_at, GDPR_MONTHS + GDPR_EXTENSION_MONTHS)
    if regime == CCPA:
        return received_at + timedelta(days=CCPA_DAYS + CCPA_EXTENSION_DAYS)
    raise UnknownRegimeError(f"unknown regime {regime!r}; use one of {REGIMES}")


def urgency(*, due: datetime, now: datetime) -> Urgency:
    """Days left until `due` (rounded down; a deadline later today is 0 days left)."""
    seconds = (due - now).total_seconds()
    days_left = int(seconds // 86_400)
    if seconds < 0:
        return Urgency(days_left=days_left, is_overdue=True, band="overdue")
    band = "due_soon" if days_left <= DUE_SOON_DAYS else "on_track"
    return Urgency(days_left=days_left, is_overdue=False, band=band)


# Buckets of the queue chart: label and the highest days-left value that falls in it.
CHART_BUCKETS = (
    ("overdue", -1),
    ("0–7 days", 7),
    ("8–14 days", 14),
    ("15–30 days", 30),
    ("over 30 days", 10**9),
)


def chart_bucket(days_left: int) -> str:
    """The queue-chart bucket a request with `days_left` falls in."""
    for label, upper in CHART_BUCKETS:
        if days_left <= upper:
            return label
    return CHART_BUCKETS[-1][0]
