from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from cdp.core.frames import MissingColumnsError
from profiles.compute.quality import (
    FieldIssue,
    birth_date_rule,
    check_amount,
    check_birth_date,
    check_crm_record,
    check_event_time,
    check_order,
    event_time_rule,
    known_currency_rule,
    not_negative_rule,
    oldest_plausible_birth_date,
    quality_summary,
)

TODAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _codes(issues):
    return [(issue.field, issue.code) for issue in issues]


def _age(birth, today):
    """Independent reference: completed years, the way people count birthdays."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@pytest.mark.parametrize(
    ("_case", "value", "expected"),
    [
        ("missing", None, []),
        ("ordinary", date(1985, 3, 14), []),
        ("born_today", TODAY, []),
        ("tomorrow", date(2025, 3, 11), [("birth_date", "birth_date_in_future")]),
        ("far_future", date(2090, 1, 1), [("birth_date", "birth_date_in_future")]),
        ("age_120_exactly", date(1905, 3, 10), []),
        ("age_120_and_364_days", date(1904, 3, 11), []),
        ("age_121", date(1904, 3, 10), [("birth_date", "implausible_birth_date")]),
        ("before_1900", date(1899, 12, 31), [("birth_date", "implausible_birth_date")]),
        (
            "datetime_counts_its_date",
            datetime(2025, 3, 11, 1, tzinfo=UTC),
            [("birth_date", "birth_date_in_future")],
        ),
    ],
)
def test_birth_date_rules(_case, value, expected):
    assert _codes(check_birth_date(value, today=TODAY)) == expected


def test_year_1900_is_plausible_while_nobody_born_then_is_over_120():
    assert check_birth_date(date(1900, 1, 1), today=date(2019, 6, 1)) == []
    assert check_birth_date(date(1899, 12, 31), today=date(2019, 6, 1)) == [
        FieldIssue(
            field="birth_date",
            code="implausible_birth_date",
            message="born before 1900 or more than 120 years ago",
        )
    ]


@pytest.mark.parametrize(
    "today",
    [
        date(2025, 3, 10),
        date(2024, 2, 29),  # today a leap day, 121 years earlier (1903) has none
        date(2025, 2, 28),  # the day before a leap-day birthday in 1904
        date(2025, 3, 1),
        date(2028, 2, 29),  # 1907 has no 29 February either
        date(2021, 1, 1),
        date(2019, 12, 31),  # the 1900 floor is the binding limit here
    ],
)
def test_oldest_plausible_birth_date_matches_counting_birthdays(today):
    oldest = oldest_plausible_birth_date(today)
    around = [oldest + timedelta(days=offset) for offset in range(-400, 400)]

    for birth in around:
        plausible = _age(birth, today) <= 120 and birth >= date(1900, 1, 1)
        assert (birth >= oldest) == plausible, birth


@pytest.mark.parametrize(
    ("_case", "value", "expected"),
    [
        ("missing", None, []),
        ("zero", Decimal("0.00"), []),
        ("positive", Decimal("12.50"), []),
        ("negative", Decimal("-0.01"), [("total", "negative_amount")]),
        ("nan_is_not_negative", Decimal("NaN"), []),
    ],
)
def test_amount_rule(_case, value, expected):
    assert _codes(check_amount(value, field="total")) == expected


@pytest.mark.parametrize(
    ("_case", "value", "max_future", "expected"),
    [
        ("missing", None, timedelta(days=1), []),
        ("now", NOW, timedelta(days=1), []),
        ("within_a_day", NOW + timedelta(hours=23), timedelta(days=1), []),
        ("exactly_the_limit", NOW + timedelta(days=1), timedelta(days=1), []),
        (
            "beyond_a_day",
            NOW + timedelta(days=1, seconds=1),
            timedelta(days=1),
            [("timestamp", "timestamp_in_future")],
        ),
        (
            "tighter_limit",
            NOW + timedelta(minutes=10),
            timedelta(minutes=5),
            [("timestamp", "timestamp_in_future")],
        ),
        ("start_of_2000", datetime(2000, 1, 1, tzinfo=UTC), timedelta(days=1), []),
        (
            "before_2000",
            datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
            timedelta(days=1),
            [("timestamp", "implausible_timestamp")],
        ),
        (
            "epoch_zero",
            datetime(1970, 1, 1, tzinfo=UTC),
            timedelta(days=1),
            [("timestamp", "implausible_timestamp")],
        ),
        (
            "naive_read_as_utc",
            datetime(2025, 3, 12, 13),  # noqa: DTZ001 - a naive input on purpose
            timedelta(days=1),
            [("timestamp", "timestamp_in_future")],
        ),
    ],
)
def test_event_time_rule(_case, value, max_future, expected):
    assert _codes(check_event_time(value, now=NOW, max_future=max_future)) == expected


@pytest.mark.parametrize(
    ("_case", "record", "expected"),
    [
        (
            "clean",
            {
                "total": Decimal("10.00"),
                "tax": Decimal("1.60"),
                "currency": "EUR",
                "placed_at": NOW,
            },
            [],
        ),
        ("empty", {}, []),
        (
            "negative_total_and_shipping",
            {"total": Decimal("-5"), "shipping": Decimal("-1"), "currency": "EUR"},
            [("total", "negative_amount"), ("shipping", "negative_amount")],
        ),
        ("amount_without_currency", {"total": Decimal("5")}, [("currency", "missing_currency")]),
        (
            "no_currency_code",
            {"total": Decimal("5"), "currency": "XXX"},
            [("currency", "unknown_currency")],
        ),
        (
            "raw_currency_text",
            {"total": Decimal("5"), "currency": "€"},
            [("currency", "unknown_currency")],
        ),
        ("unparsed_total", {"total": "5,00", "currency": "EUR"}, [("total", "wrong_type")]),
        (
            "order_in_the_future",
            {"total": Decimal("5"), "currency": "EUR", "placed_at": NOW + timedelta(days=30)},
            [("placed_at", "timestamp_in_future")],
        ),
        (
            "everything_wrong",
            {
                "total": Decimal("-1"),
                "currency": "ABC",
                "placed_at": datetime(1990, 1, 1, tzinfo=UTC),
            },
            [
                ("total", "negative_amount"),
                ("currency", "unknown_currency"),
                ("placed_at", "implausible_timestamp"),
            ],
        ),
    ],
)
def test_order_check_combines_the_rules(_case, record, expected):
    assert _codes(check_order(record, now=NOW)) == expected


@pytest.mark.parametrize(
    ("_case", "record", "expected"),
    [
        (
            "clean",
            {"email": "a@example.com", "birth_date": date(1985, 3, 14), "signup_at": NOW},
            [],
        ),
        ("phone_is_enough", {"phone": "+49301234567"}, []),
        ("loyalty_id_is_enough", {"loyalty_id": "L-1"}, []),
        (
            "no_identifier",
            {"email": None, "phone": "", "birth_date": date(1985, 3, 14)},
            [("identifier", "missing_identifier")],
        ),
        (
            "future_birth",
            {"email": "a@example.com", "birth_date": date(2030, 1, 1)},
            [("birth_date", "birth_date_in_future")],
        ),
        (
            "ancient_birth",
            {"email": "a@example.com", "birth_date": date(1850, 1, 1)},
            [("birth_date", "implausible_birth_date")],
        ),
        (
            "unparsed_birth",
            {"email": "a@example.com", "birth_date": "1985-03-14"},
            [("birth_date", "wrong_type")],
        ),
        (
            "crm_id_alone_is_not_matchable",
            {"crm_id": "C-1"},
            [("identifier", "missing_identifier")],
        ),
        (
            "bad_timestamps",
            {
                "email": "a@example.com",
                "signup_at": datetime(1995, 1, 1, tzinfo=UTC),
                "updated_at": NOW + timedelta(days=9),
            },
            [("signup_at", "implausible_timestamp"), ("updated_at", "timestamp_in_future")],
        ),
        (
            "unparsed_timestamp",
            {"email": "a@example.com", "updated_at": 1_700_000_000},
            [("updated_at", "wrong_type")],
        ),
    ],
)
def test_crm_record_check_combines_the_rules(_case, record, expected):
    assert _codes(check_crm_record(record, today=TODAY, now=NOW)) == expected


def test_field_issue_is_frozen_and_keyword_only():
    issue = FieldIssue(field="total", code="negative_amount", message="amount is negative")

    with pytest.raises(AttributeError):
        issue.code = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        FieldIssue("total", "negative_amount", "amount is negative")  # type: ignore[misc]


# --- vectorised rules and the summary --------------------------------------------------------


def _frame():
    return pd.DataFrame(
        {
            "birth_date": [
                date(1985, 3, 14),
                None,
                date(1850, 1, 1),
                date(2030, 1, 1),
                date(1985, 3, 14),
            ],
            "total": [Decimal("10.00"), Decimal("-2.00"), None, Decimal("0"), Decimal("3.50")],
            "currency": ["EUR", "XXX", None, "USD", "EUR"],
            "placed_at": [
                NOW,
                datetime(1999, 1, 1, tzinfo=UTC),
                None,
                NOW + timedelta(days=3),
                NOW,
            ],
            "note": [None, None, None, None, "gift"],
        }
    )


def _rules():
    return {
        "birth_date": [birth_date_rule(today=TODAY)],
        "total": [not_negative_rule()],
        "currency": [known_currency_rule()],
        "placed_at": [event_time_rule(now=NOW)],
    }


def test_quality_summary_scores_every_column():
    frame = _frame()
    before = frame.copy()

    summary = quality_summary(frame, rules=_rules())

    expected = pd.DataFrame(
        {
            "column": ["birth_date", "total", "currency", "placed_at", "note"],
            "rows": [5, 5, 5, 5, 5],
            "non_null": [4, 4, 4, 4, 1],
            "completeness": [0.8, 0.8, 0.8, 0.8, 0.2],
            "valid": pd.array([2, 3, 3, 2, pd.NA], dtype="Int64"),
            "validity": [2 / 4, 3 / 4, 3 / 4, 2 / 4, np.nan],
            "distinct": [3, 4, 3, 3, 1],
        }
    )
    pd.testing.assert_frame_equal(summary, expected)
    pd.testing.assert_frame_equal(frame, before)


def test_several_rules_on_one_column_must_all_pass():
    frame = pd.DataFrame({"total": [Decimal("5"), Decimal("-1"), Decimal("500")]})
    below_100 = lambda values: pd.to_numeric(values) < 100  # noqa: E731

    summary = quality_summary(frame, rules={"total": [not_negative_rule(), below_100]})

    assert summary.loc[0, "valid"] == 1
    assert summary.loc[0, "validity"] == pytest.approx(1 / 3)


def test_empty_frame_has_undefined_shares():
    summary = quality_summary(pd.DataFrame({"email": pd.Series([], dtype=object)}))

    assert summary[["rows", "non_null", "distinct"]].iloc[0].tolist() == [0, 0, 0]
    assert np.isnan(summary.loc[0, "completeness"])
    assert np.isnan(summary.loc[0, "validity"])


def test_rule_for_a_missing_column_is_refused():
    with pytest.raises(MissingColumnsError, match="total"):
        quality_summary(
            pd.DataFrame({"email": ["a@example.com"]}), rules={"total": [not_negative_rule()]}
        )


def test_vectorised_rules_agree_with_the_record_checks():
    births = [oldest_plausible_birth_date(TODAY) + timedelta(days=offset) for offset in (-1, 0, 1)]
    births += [date(1899, 12, 31), date(1900, 1, 1), TODAY, TODAY + timedelta(days=1)]
    times = [NOW + timedelta(days=1), NOW + timedelta(days=1, microseconds=1)]
    times += [datetime(2000, 1, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    amounts = [Decimal("-0.01"), Decimal("0"), Decimal("0.01")]

    birth_ok = birth_date_rule(today=TODAY)(pd.Series(births, dtype=object)).tolist()
    time_ok = event_time_rule(now=NOW)(pd.Series(times, dtype=object)).tolist()
    amount_ok = not_negative_rule()(pd.Series(amounts, dtype=object)).tolist()

    assert birth_ok == [not check_birth_date(value, today=TODAY) for value in births]
    assert time_ok == [not check_event_time(value, now=NOW) for value in times]
    assert amount_ok == [not check_amount(value, field="total") for value in amounts]
    assert birth_ok == [False, True, True, False, False, True, False]
