"""The send-time decision (pure): order of checks, caps, holdout, quiet hours, removals."""

from datetime import UTC, datetime, time, timedelta

import pytest

from campaigns.compute.decisions import (
    AUDIENCE_ADD,
    AUDIENCE_REMOVE,
    Decision,
    SendFacts,
    decide,
    is_retryable_status,
    retry_delay,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def facts(**overrides):
    return SendFacts(**{"now": NOW, "arm": "a", "has_consent": True, **overrides})


@pytest.mark.parametrize(
    ("_case", "overrides", "reason"),
    [
        ("ended", {"is_campaign_live": False, "has_exited": True}, "campaign_ended"),
        ("exited before consent", {"has_exited": True, "has_consent": False}, "exited"),
        ("left audience", {"is_in_audience": False, "has_consent": False}, "not_in_audience"),
        ("no consent", {"has_consent": False, "is_suppressed": True}, "no_consent"),
        ("suppressed", {"is_suppressed": True, "has_address": False}, "suppressed"),
        ("no address", {"has_address": False, "arm": "holdout"}, "no_address"),
        (
            "capped before holdout",
            {"cap_per_person": 1, "campaign_sends": [NOW], "arm": "holdout"},
            "capped",
        ),
        ("holdout", {"arm": "holdout", "quiet_start": time(0), "quiet_end": time(23)}, "holdout"),
    ],
)
def test_the_first_failing_check_names_the_reason(_case, overrides, reason):
    assert decide(facts(**overrides)) == Decision(action="skip", reason=reason)


def test_an_eligible_person_is_sent_to():
    assert decide(facts()) == Decision(action="send")


def test_the_daily_cap_counts_every_campaign_in_the_last_24_hours():
    two_days_ago = NOW - timedelta(days=2)
    assert decide(facts(cap_per_day=1, all_sends=[two_days_ago])).action == "send"
    assert decide(facts(cap_per_day=1, all_sends=[NOW - timedelta(hours=23)])).reason == "capped"
    assert (
        decide(facts(cap_per_week=2, all_sends=[two_days_ago, NOW - timedelta(days=6)])).reason
        == "capped"
    )


def test_quiet_hours_defer_to_their_end_in_the_recipients_zone():
    # 12:00 UTC is 21:00 in Tokyo; quiet 21:00-08:00 ends at 08:00 JST = 23:00 UTC.
    decision = decide(facts(timezone="Asia/Tokyo", quiet_start=time(21), quiet_end=time(8)))

    assert decision == Decision(
        action="defer", reason="quiet_hours", send_at=datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
    )


def test_quiet_hours_skip_when_the_campaign_says_so():
    decision = decide(facts(quiet_start=time(11), quiet_end=time(13), defer_in_quiet_hours=False))

    assert decision == Decision(action="skip", reason="quiet_hours")


def test_audience_removals_always_go_out_and_adds_ignore_caps_and_quiet_hours():
    assert (
        decide(facts(kind=AUDIENCE_REMOVE, has_consent=False, is_campaign_live=False)).action
        == "send"
    )
    add = facts(kind=AUDIENCE_ADD, cap_per_day=0, quiet_start=time(0), quiet_end=time(23, 59))
    assert decide(add).action == "send"
    assert decide(facts(kind=AUDIENCE_ADD, has_consent=False)).reason == "no_consent"


def test_retry_delay_doubles_up_to_its_cap():
    delays = [retry_delay(attempt, base_seconds=30, max_seconds=300) for attempt in range(1, 6)]

    assert [delay.total_seconds() for delay in delays] == [30, 60, 120, 240, 300]
    with pytest.raises(ValueError, match="attempt"):
        retry_delay(0, base_seconds=30, max_seconds=300)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False), (410, False)],
)
def test_retryable_statuses(status, expected):
    assert is_retryable_status(status) is expected
