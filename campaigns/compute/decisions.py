"""Campaigns compute layer: the send-time decision (send, skip with a reason, or defer) from
facts gathered by the dispatcher or the dry run, and the webhook retry schedule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from campaigns.compute.assignment import HOLDOUT
from campaigns.compute.timing import is_capped, next_send_time

SEND = "send"
SKIP = "skip"
DEFER = "defer"

MESSAGE = "message"
AUDIENCE_ADD = "audience_add"
AUDIENCE_REMOVE = "audience_remove"

# Skip reasons (the outbox stores these strings).
CAMPAIGN_ENDED = "campaign_ended"
EXITED = "exited"
NOT_IN_AUDIENCE = "not_in_audience"
NO_CONSENT = "no_consent"
SUPPRESSED = "suppressed"
NO_ADDRESS = "no_address"
CAPPED = "capped"
QUIET_HOURS = "quiet_hours"
SKIP_HOLDOUT = HOLDOUT


@dataclass(frozen=True, kw_only=True)
class SendFacts:
    """What is known about one queued send at `now` (all of it read in bulk per batch)."""

    now: datetime
    kind: str = MESSAGE
    arm: str
    is_campaign_live: bool = True
    has_exited: bool = False
    is_in_audience: bool = True
    has_consent: bool
    is_suppressed: bool = False
    has_address: bool = True
    campaign_sends: Sequence[datetime] = field(default_factory=tuple)
    all_sends: Sequence[datetime] = field(default_factory=tuple)
    cap_per_person: int | None = None
    cap_per_day: int | None = None
    cap_per_week: int | None = None
    timezone: str = "UTC"
    quiet_start: time | None = None
    quiet_end: time | None = None
    defer_in_quiet_hours: bool = True


@dataclass(frozen=True, kw_only=True)
class Decision:
    action: str  # SEND, SKIP or DEFER
    reason: str = ""
    send_at: datetime | None = None  # DEFER: the new due time (UTC)


def _eligibility_reason(facts: SendFacts) -> str:
    """Why the person may not get this send at all, or "" when they may."""
    checks = (
        (not facts.is_campaign_live, CAMPAIGN_ENDED),
        (facts.has_exited, EXITED),
        (not facts.is_in_audience, NOT_IN_AUDIENCE),
        (not facts.has_consent, NO_CONSENT),
        (facts.is_suppressed, SUPPRESSED),
        (not facts.has_address, NO_ADDRESS),
    )
    return next((reason for failed, reason in checks if failed), "")


def _is_over_cap(facts: SendFacts) -> bool:
    if facts.cap_per_person is not None and len(facts.campaign_sends) >= facts.cap_per_person:
        return True
    return is_capped(
        facts.all_sends, now=facts.now, per_day=facts.cap_per_day, per_week=facts.cap_per_week
    )


def decide(facts: SendFacts) -> Decision:
    """Decide one send, checks in this order: campaign live, exit condition, audience,
    consent, suppression, address, caps (messages only), holdout, quiet hours (messages only).

    The holdout is decided after eligibility and caps, so holdout skips count the people who
    would have been reached: treatment and control are comparable. Audience removals are
    always sent (taking someone off a list is never held back). Raises ValueError (from
    campaigns.compute.timing) for naive datetimes, bad caps or an unknown time zone.
    """
    if facts.kind == AUDIENCE_REMOVE:
        return Decision(action=SEND)
    reason = _eligibility_reason(facts)
    if reason:
        return Decision(action=SKIP, reason=reason)
    if facts.kind == MESSAGE and _is_over_cap(facts):
        return Decision(action=SKIP, reason=CAPPED)
    if facts.arm == HOLDOUT:
        return Decision(action=SKIP, reason=SKIP_HOLDOUT)
    if facts.kind == MESSAGE and facts.quiet_start is not None and facts.quiet_end is not None:
        send_at = next_send_time(
            facts.now, tz=facts.timezone, quiet_start=facts.quiet_start, quiet_end=facts.quiet_end
        )
        if send_at > facts.now:
            if facts.defer_in_quiet_hours:
                return Decision(action=DEFER, reason=QUIET_HOURS, send_at=send_at)
            return Decision(action=SKIP, reason=QUIET_HOURS)
    return Decision(action=SEND)


def retry_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff before retry number `attempt` (1-based): base·2^(attempt-1),
    capped at max_seconds. Raises ValueError for attempt < 1 or non-positive durations."""
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    if base_seconds <= 0 or max_seconds <= 0:
        raise ValueError("base_seconds and max_seconds must be positive")
    return timedelta(seconds=min(max_seconds, base_seconds * 2 ** (attempt - 1)))


def is_retryable_status(status_code: int) -> bool:
    """HTTP answers worth retrying: timeouts, rate limits and server errors."""
    return status_code in (408, 425, 429) or status_code >= 500
