"""Pure schedule arithmetic: occurrences in a fixed zone or on each recipient's own clock."""

from datetime import UTC, date, datetime, time

import pytest

from campaigns.compute.scheduling import due_occurrences, local_send_instant


def test_a_fixed_zone_occurrence_is_due_at_its_instant_only():
    # 09:00 in Berlin on 2026-03-02 is 08:00 UTC (CET).
    before = due_occurrences(
        datetime(2026, 3, 2, 7, 59, tzinfo=UTC),
        recurrence="daily",
        at=time(9),
        fixed_tz="Europe/Berlin",
    )
    after = due_occurrences(
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        recurrence="daily",
        at=time(9),
        fixed_tz="Europe/Berlin",
    )

    assert before == []
    assert [(item.key, item.earliest) for item in after] == [
        ("2026-03-02", datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    ]


def test_audience_time_zones_open_an_occurrence_fourteen_hours_early():
    now = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)  # 09:00 on 2 March in Kiribati (UTC+14)

    found = due_occurrences(now, recurrence="once", at=time(9), once_on=date(2026, 3, 2))

    assert [(item.key, item.day) for item in found] == [("once", date(2026, 3, 2))]
    assert found[0].latest == datetime(2026, 3, 2, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("_case", "now", "expected"),
    [
        ("monday", datetime(2026, 3, 2, 12, tzinfo=UTC), ["2026-03-02"]),
        ("tuesday", datetime(2026, 3, 3, 12, tzinfo=UTC), []),
        ("monday, too late", datetime(2026, 3, 2, 15, 1, tzinfo=UTC), []),
    ],
)
def test_weekly_only_on_its_weekday(_case, now, expected):
    found = due_occurrences(now, recurrence="weekly", at=time(9), weekday=0, fixed_tz="UTC")

    assert [item.key for item in found] == expected


def test_an_occurrence_over_before_launch_is_not_sent():
    now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)

    found = due_occurrences(
        now,
        recurrence="daily",
        at=time(8),
        fixed_tz="UTC",
        not_before=datetime(2026, 3, 2, 8, 15, tzinfo=UTC),
    )

    assert found == []


def test_a_wall_time_in_a_dst_gap_moves_past_the_gap():
    # 02:30 does not exist in Berlin on 2026-03-29 (02:00 → 03:00 CEST).
    assert local_send_instant(date(2026, 3, 29), time(2, 30), "Europe/Berlin") == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("_case", "kwargs", "message"),
    [
        (
            "naive",
            {"now": datetime(2026, 3, 2, tzinfo=UTC).replace(tzinfo=None), "recurrence": "daily"},
            "timezone-aware",
        ),
        ("recurrence", {"recurrence": "hourly"}, "unknown recurrence"),
        ("once without date", {"recurrence": "once"}, "needs a date"),
        ("weekly without day", {"recurrence": "weekly"}, "needs a weekday"),
        ("zone", {"recurrence": "daily", "fixed_tz": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_schedules_are_refused(_case, kwargs, message):
    arguments = {"now": datetime(2026, 3, 2, tzinfo=UTC), "at": time(9), **kwargs}
    with pytest.raises(ValueError, match=message):
        due_occurrences(arguments.pop("now"), **arguments)
