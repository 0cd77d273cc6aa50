from datetime import UTC, datetime, timedelta

import pytest

from consent.compute.deadlines import (
    UnknownRegimeError,
    add_months,
    chart_bucket,
    due_at,
    extended_due_at,
    urgency,
)


@pytest.mark.parametrize(
    ("_case", "start", "months", "expected"),
    [
        (
            "plain",
            datetime(2026, 3, 15, 9, 30, tzinfo=UTC),
            1,
            datetime(2026, 4, 15, 9, 30, tzinfo=UTC),
        ),
        (
            "31st into a 30-day month",
            datetime(2026, 3, 31, tzinfo=UTC),
            1,
            datetime(2026, 4, 30, tzinfo=UTC),
        ),
        (
            "31 January into February",
            datetime(2026, 1, 31, tzinfo=UTC),
            1,
            datetime(2026, 2, 28, tzinfo=UTC),
        ),
        ("leap year", datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (
            "over the year end",
            datetime(2026, 12, 10, tzinfo=UTC),
            3,
            datetime(2027, 3, 10, tzinfo=UTC),
        ),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_day_of_the_month(
    _case, start, months, expected
):
    assert add_months(start, months) == expected


def test_gdpr_is_due_one_month_later_and_extends_to_three_months():
    received = datetime(2026, 1, 31, 12, tzinfo=UTC)

    assert due_at(regime="gdpr", received_at=received) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert extended_due_at(regime="gdpr", received_at=received) == datetime(
        2026, 4, 30, 12, tzinfo=UTC
    )


def test_ccpa_is_due_after_45_days_and_extends_to_90():
    received = datetime(2026, 1, 1, tzinfo=UTC)

    assert due_at(regime="ccpa", received_at=received) == datetime(2026, 2, 15, tzinfo=UTC)
    assert extended_due_at(regime="ccpa", received_at=received) == datetime(2026, 4, 1, tzinfo=UTC)


def test_an_unknown_regime_is_refused():
    with pytest.raises(UnknownRegimeError):
        due_at(regime="lgpd", received_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("_case", "left", "days", "overdue", "band", "bucket"),
    [
        ("an hour overdue", timedelta(hours=-1), -1, True, "overdue", "overdue"),
        ("ten days overdue", timedelta(days=-9, hours=-1), -10, True, "overdue", "overdue"),
        ("later today", timedelta(hours=5), 0, False, "due_soon", "0–7 days"),
        ("in a week", timedelta(days=7, hours=1), 7, False, "due_soon", "0–7 days"),
        ("in eight days", timedelta(days=8, hours=1), 8, False, "on_track", "8–14 days"),
        ("in a month", timedelta(days=31), 31, False, "on_track", "over 30 days"),
    ],
)
def test_urgency_counts_whole_days_and_flags_overdue(_case, left, days, overdue, band, bucket):
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)

    result = urgency(due=now + left, now=now)

    assert (result.days_left, result.is_overdue, result.band) == (days, overdue, band)
    assert result.days_overdue == (-days if overdue else 0)
    assert chart_bucket(result.days_left) == bucket
