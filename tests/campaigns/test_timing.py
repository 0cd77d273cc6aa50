from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.compute.timing import is_capped, next_send_time

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = {"quiet_start": time(22), "quiet_end": time(8)}


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def send_time(now, tz, start, end):
    return next_send_time(now, tz=tz, quiet_start=start, quiet_end=end)


@pytest.mark.parametrize(
    ("_case", "now", "start", "end", "expected"),
    [
        (
            "late evening waits for the morning",
            datetime(2024, 6, 10, 23, 30, tzinfo=BERLIN),
            time(22),
            time(8),
            utc(2024, 6, 11, 6, 0),
        ),
        (
            "after midnight waits for the same morning",
            datetime(2024, 6, 11, 3, 0, tzinfo=BERLIN),
            time(22),
            time(8),
            utc(2024, 6, 11, 6, 0),
        ),
        (
            "quiet start is inclusive",
            datetime(2024, 6, 10, 22, 0, tzinfo=BERLIN),
            time(22),
            time(8),
            utc(2024, 6, 11, 6, 0),
        ),
        (
            "quiet end is exclusive",
            datetime(2024, 6, 11, 8, 0, tzinfo=BERLIN),
            time(22),
            time(8),
            utc(2024, 6, 11, 6, 0),
        ),
        (
            "daytime is sent at once",
            datetime(2024, 6, 10, 12, 0, 5, tzinfo=BERLIN),
            time(22),
            time(8),
            utc(2024, 6, 10, 10, 0, 5),
        ),
        (
            "span within one day",
            datetime(2024, 6, 10, 13, 0, tzinfo=BERLIN),
            time(12),
            time(14),
            utc(2024, 6, 10, 12, 0),
        ),
        (
            "now given in UTC is read in the recipient's zone",
            utc(2024, 6, 10, 21, 0),  # 23:00 in Berlin
            time(22),
            time(8),
            utc(2024, 6, 11, 6, 0),
        ),
        (
            "equal start and end mean no quiet hours",
            datetime(2024, 6, 10, 23, 0, tzinfo=BERLIN),
            time(22),
            time(22),
            utc(2024, 6, 10, 21, 0),
        ),
    ],
)
def test_next_send_time_in_berlin_summer(_case, now, start, end, expected):
    result = send_time(now, "Europe/Berlin", start, end)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("_case", "now", "start", "end", "expected_utc", "expected_wall"),
    [
        (
            "spring forward night is an hour shorter",
            datetime(2024, 3, 30, 23, 0, tzinfo=BERLIN),  # 22:00 UTC
            time(22),
            time(8),
            utc(2024, 3, 31, 6, 0),
            "2024-03-31T08:00:00+02:00",
        ),
        (
            "quiet end inside the gap: sent when the clock jumps to 03:00",
            datetime(2024, 3, 30, 23, 0, tzinfo=BERLIN),
            time(22),
            time(2, 30),
            utc(2024, 3, 31, 1, 0),
            "2024-03-31T03:00:00+02:00",
        ),
        (
            "just before the gap",
            utc(2024, 3, 31, 0, 59, 59),  # 01:59:59 CET
            time(22),
            time(2, 30),
            utc(2024, 3, 31, 1, 0),
            "2024-03-31T03:00:00+02:00",
        ),
        (
            "fall back night is an hour longer",
            datetime(2024, 10, 26, 23, 0, tzinfo=BERLIN),  # 21:00 UTC
            time(22),
            time(8),
            utc(2024, 10, 27, 7, 0),
            "2024-10-27T08:00:00+01:00",
        ),
        (
            "repeated quiet end: the first 02:30",
            datetime(2024, 10, 26, 23, 0, tzinfo=BERLIN),
            time(22),
            time(2, 30),
            utc(2024, 10, 27, 0, 30),
            "2024-10-27T02:30:00+02:00",
        ),
        (
            "repeated quiet end: in the second pass, the second 02:30",
            utc(2024, 10, 27, 1, 15),  # 02:15 CET, the clock's second time round
            time(22),
            time(2, 30),
            utc(2024, 10, 27, 1, 30),
            "2024-10-27T02:30:00+01:00",
        ),
    ],
)
def test_next_send_time_across_berlin_dst(_case, now, start, end, expected_utc, expected_wall):
    result = send_time(now, "Europe/Berlin", start, end)
    assert result == expected_utc
    assert result.astimezone(BERLIN).isoformat() == expected_wall


@pytest.mark.parametrize(
    ("_case", "now", "start", "end", "expected_utc", "expected_wall"),
    [
        (
            "spring forward, end in the gap",
            utc(2024, 3, 10, 6, 0),  # 01:00 EST
            time(21),
            time(2, 15),
            utc(2024, 3, 10, 7, 0),
            "2024-03-10T03:00:00-04:00",
        ),
        (
            "spring forward, ordinary morning",
            datetime(2024, 3, 9, 22, 0, tzinfo=NEW_YORK),  # 03:00 UTC
            time(21),
            time(7),
            utc(2024, 3, 10, 11, 0),
            "2024-03-10T07:00:00-04:00",
        ),
        (
            "fall back, first pass through 01:00-02:00",
            utc(2024, 11, 3, 5, 10),  # 01:10 EDT
            time(1),
            time(1, 30),
            utc(2024, 11, 3, 5, 30),
            "2024-11-03T01:30:00-04:00",
        ),
        (
            "fall back, second pass through 01:00-02:00",
            utc(2024, 11, 3, 6, 10),  # 01:10 EST
            time(1),
            time(1, 30),
            utc(2024, 11, 3, 6, 30),
            "2024-11-03T01:30:00-05:00",
        ),
        (
            "fall back, between the passes is not quiet",
            utc(2024, 11, 3, 5, 50),  # 01:50 EDT
            time(1),
            time(1, 30),
            utc(2024, 11, 3, 5, 50),
            "2024-11-03T01:50:00-04:00",
        ),
        (
            "fall back night is an hour longer",
            datetime(2024, 11, 2, 21, 30, tzinfo=NEW_YORK),  # 01:30 UTC
            time(21),
            time(7),
            utc(2024, 11, 3, 12, 0),
            "2024-11-03T07:00:00-05:00",
        ),
    ],
)
def test_next_send_time_across_new_york_dst(_case, now, start, end, expected_utc, expected_wall):
    result = send_time(now, "America/New_York", start, end)
    assert result == expected_utc
    assert result.tzinfo is UTC
    assert result.astimezone(NEW_YORK).isoformat() == expected_wall


@pytest.mark.parametrize(
    ("_case", "now", "tz", "start", "message"),
    [
        ("naive now", datetime(2024, 1, 1, 12), "Europe/Berlin", time(22), "timezone-aware"),  # noqa: DTZ001
        ("unknown zone", utc(2024, 1, 1), "Mars/Olympus", time(22), "unknown time zone"),
        ("bad zone key", utc(2024, 1, 1), "../etc", time(22), "unknown time zone"),
        ("aware quiet time", utc(2024, 1, 1), "Europe/Berlin", time(22, tzinfo=UTC), "tzinfo"),
    ],
)
def test_next_send_time_rejects_bad_input(_case, now, tz, start, message):
    with pytest.raises(ValueError, match=message):
        next_send_time(now, tz=tz, quiet_start=start, quiet_end=time(8))


NOW = utc(2024, 5, 15, 12, 0)


@pytest.mark.parametrize(
    ("_case", "sends", "per_day", "per_week", "expected"),
    [
        ("no sends", [], 1, 1, False),
        ("one today reaches a cap of one", [NOW - timedelta(hours=1)], 1, None, True),
        ("one today under a cap of two", [NOW - timedelta(hours=1)], 2, None, False),
        (
            "just inside the day",
            [NOW - timedelta(hours=23, minutes=59, seconds=59), NOW - timedelta(hours=1)],
            2,
            None,
            True,
        ),
        (
            "exactly 24 h ago has left the day",
            [NOW - timedelta(hours=24), NOW - timedelta(hours=1)],
            2,
            None,
            False,
        ),
        (
            "week cap",
            [NOW - timedelta(days=1), NOW - timedelta(days=3), NOW - timedelta(days=6, hours=23)],
            None,
            3,
            True,
        ),
        (
            "exactly 7 days ago has left the week",
            [NOW - timedelta(days=1), NOW - timedelta(days=3), NOW - timedelta(days=7)],
            None,
            3,
            False,
        ),
        ("no caps", [NOW] * 50, None, None, False),
        ("zero cap never sends", [], 0, None, True),
        ("a send stamped after now counts", [NOW + timedelta(seconds=2)], 1, None, True),
    ],
)
def test_is_capped_uses_rolling_windows(_case, sends, per_day, per_week, expected):
    assert is_capped(sends, now=NOW, per_day=per_day, per_week=per_week) is expected


@pytest.mark.parametrize(
    ("_case", "sent", "now", "expected"),
    [
        (
            "Berlin spring forward: 23.5 h elapsed though the clock moved 24.5 h",
            datetime(2024, 3, 30, 11, 30, tzinfo=BERLIN),
            datetime(2024, 3, 31, 12, 0, tzinfo=BERLIN),
            True,
        ),
        (
            "Berlin fall back: 24.5 h elapsed though the clock moved 23.5 h",
            datetime(2024, 10, 26, 12, 30, tzinfo=BERLIN),
            datetime(2024, 10, 27, 12, 0, tzinfo=BERLIN),
            False,
        ),
        (
            "New York spring forward: 23.5 h elapsed",
            datetime(2024, 3, 9, 11, 30, tzinfo=NEW_YORK),
            datetime(2024, 3, 10, 12, 0, tzinfo=NEW_YORK),
            True,
        ),
        (
            "New York fall back: 24.5 h elapsed",
            datetime(2024, 11, 2, 12, 30, tzinfo=NEW_YORK),
            datetime(2024, 11, 3, 12, 0, tzinfo=NEW_YORK),
            False,
        ),
    ],
)
def test_is_capped_day_window_is_24_real_hours_across_dst(_case, sent, now, expected):
    assert is_capped([sent], now=now, per_day=1, per_week=None) is expected


def test_is_capped_mixes_zones_by_instant():
    sends = [datetime(2024, 5, 15, 13, 30, tzinfo=BERLIN)]  # 11:30 UTC, half an hour ago
    assert is_capped(sends, now=NOW, per_day=1, per_week=None)
    assert not is_capped(sends, now=NOW + timedelta(hours=24), per_day=1, per_week=None)


@pytest.mark.parametrize(
    ("_case", "sends", "now", "per_day", "message"),
    [
        ("naive send", [datetime(2024, 5, 15)], NOW, 1, "previous_sends must be"),  # noqa: DTZ001
        ("naive now", [], datetime(2024, 5, 15), 1, "now must be timezone-aware"),  # noqa: DTZ001
        ("negative cap", [], NOW, -1, "per_day must be None or a non-negative integer"),
        ("float cap", [], NOW, 1.5, "per_day must be None or a non-negative integer"),
    ],
)
def test_is_capped_rejects_bad_input(_case, sends, now, per_day, message):
    with pytest.raises(ValueError, match=message):
        is_capped(sends, now=now, per_day=per_day, per_week=None)
