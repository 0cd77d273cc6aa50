"""Compute layer: data-quality rules that flag anomalies in parsed records, and column scores."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import pandas as pd

from cdp.core.frames import require_columns
from profiles.compute.normalise import iso_currency_codes

BIRTH_DATE_IN_FUTURE = "birth_date_in_future"
IMPLAUSIBLE_BIRTH_DATE = "implausible_birth_date"
NEGATIVE_AMOUNT = "negative_amount"
TIMESTAMP_IN_FUTURE = "timestamp_in_future"
IMPLAUSIBLE_TIMESTAMP = "implausible_timestamp"
UNKNOWN_CURRENCY = "unknown_currency"
MISSING_CURRENCY = "missing_currency"
MISSING_IDENTIFIER = "missing_identifier"
WRONG_TYPE = "wrong_type"

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
MAX_AGE_YEARS = 120
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_MAX_FUTURE = timedelta(days=1)

BIRTH_DATE_FIELD = "birth_date"
ORDER_AMOUNT_FIELDS = ("total", "subtotal", "tax", "shipping")
ORDER_CURRENCY_FIELD = "currency"
ORDER_TIME_FIELD = "placed_at"
CRM_IDENTIFIER_FIELDS = ("email", "phone", "loyalty_id")  # what matching can join on
CRM_TIME_FIELDS = ("signup_at", "updated_at")

COLUMN = "column"
ROWS = "rows"
NON_NULL = "non_null"
COMPLETENESS = "completeness"
VALID = "valid"
VALIDITY = "validity"
DISTINCT = "distinct"
SUMMARY_COLUMNS = (COLUMN, ROWS, NON_NULL, COMPLETENESS, VALID, VALIDITY, DISTINCT)

_T = TypeVar("_T")

ColumnRule = Callable[[pd.Series], pd.Series]
"""A vectorised rule: given a column's non-null values, True where the value passes."""


@dataclass(frozen=True, kw_only=True)
class FieldIssue:
    """One anomaly in one field of a parsed record; `code` is stable, `message` has no PII."""

    field: str
    code: str
    message: str


def oldest_plausible_birth_date(today: date) -> date:
    """The earliest birth date whose age on `today` is at most MAX_AGE_YEARS (and not pre-1900)."""
    year = today.year - MAX_AGE_YEARS - 1
    day = today.day if (today.month, today.day) != (2, 29) or _is_leap(year) else 28
    too_old = date(year, today.month, day)  # the latest birth date that is MAX_AGE_YEARS + 1 old
    return max(EARLIEST_BIRTH_DATE, too_old + timedelta(days=1))


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def check_birth_date(
    value: date | None, *, today: date, field: str = BIRTH_DATE_FIELD
) -> list[FieldIssue]:
    """Flag a birth date in the future, before 1900, or giving an age over 120 on `today`."""
    if value is None:
        return []
    birth = value.date() if isinstance(value, datetime) else value
    if birth > today:
        return [FieldIssue(field=field, code=BIRTH_DATE_IN_FUTURE, message="born after today")]
    if birth < oldest_plausible_birth_date(today):
        message = f"born before 1900 or more than {MAX_AGE_YEARS} years ago"
        return [FieldIssue(field=field, code=IMPLAUSIBLE_BIRTH_DATE, message=message)]
    return []


def check_amount(value: Decimal | None, *, field: str) -> list[FieldIssue]:
    """Flag a negative amount (refunds belong in their own records, not negative orders)."""
    if value is None or (isinstance(value, Decimal) and value.is_nan()) or value >= 0:
        return []
    return [FieldIssue(field=field, code=NEGATIVE_AMOUNT, message="amount is negative")]


def check_event_time(
    value: datetime | None,
    *,
    now: datetime,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    field: str = "timestamp",
) -> list[FieldIssue]:
    """Flag a timestamp more than `max_future` after `now`, or before 2000. Naive means UTC."""
    if value is None:
        return []
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if moment > now + max_future:
        message = f"more than {max_future} after now"
        return [FieldIssue(field=field, code=TIMESTAMP_IN_FUTURE, message=message)]
    if moment < EARLIEST_EVENT_TIME:
        return [FieldIssue(field=field, code=IMPLAUSIBLE_TIMESTAMP, message="before 2000")]
    return []


def _typed(
    record: Mapping[str, object], field: str, kind: type[_T]
) -> tuple[_T | None, list[FieldIssue]]:
    value = record.get(field)
    if value is None or isinstance(value, kind):
        return value, []
    message = f"expected a parsed {kind.__name__}, got {type(value).__name__}"
    return None, [FieldIssue(field=field, code=WRONG_TYPE, message=message)]


def _amount_issues(record: Mapping[str, object], fields: Sequence[str]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for field in fields:
        value, wrong = _typed(record, field, Decimal)
        issues += wrong or check_amount(value, field=field)
    return issues


def _time_issues(
    record: Mapping[str, object], fields: Sequence[str], now: datetime
) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for field in fields:
        value, wrong = _typed(record, field, datetime)
        issues += wrong or check_event_time(value, now=now, field=field)
    return issues


def check_order(record: Mapping[str, object], *, now: datetime) -> list[FieldIssue]:
    """All issues of one parsed order: negative amounts, missing or unknown currency, bad time.

    Reads ORDER_AMOUNT_FIELDS (Decimal), ORDER_CURRENCY_FIELD (ISO code) and ORDER_TIME_FIELD.
    """
    issues = _amount_issues(record, ORDER_AMOUNT_FIELDS)
    currency = record.get(ORDER_CURRENCY_FIELD)
    if currency is None and any(record.get(field) is not None for field in ORDER_AMOUNT_FIELDS):
        message = "amounts without a currency"
        issues.append(
            FieldIssue(field=ORDER_CURRENCY_FIELD, code=MISSING_CURRENCY, message=message)
        )
    elif currency is not None and currency not in iso_currency_codes():
        message = "not an ISO 4217 currency"
        issues.append(
            FieldIssue(field=ORDER_CURRENCY_FIELD, code=UNKNOWN_CURRENCY, message=message)
        )
    return issues + _time_issues(record, (ORDER_TIME_FIELD,), now)


def check_crm_record(
    record: Mapping[str, object], *, today: date, now: datetime
) -> list[FieldIssue]:
    """All issues of one parsed CRM record: birth date, timestamps, no matchable identifier.

    Reads BIRTH_DATE_FIELD, CRM_TIME_FIELDS and CRM_IDENTIFIER_FIELDS.
    """
    birth, issues = _typed(record, BIRTH_DATE_FIELD, date)
    issues = issues or check_birth_date(birth, today=today)
    issues += _time_issues(record, CRM_TIME_FIELDS, now)
    if all(record.get(field) in (None, "") for field in CRM_IDENTIFIER_FIELDS):
        message = f"none of {', '.join(CRM_IDENTIFIER_FIELDS)}"
        issues.append(FieldIssue(field="identifier", code=MISSING_IDENTIFIER, message=message))
    return issues


# --- vectorised rules and the per-column report --------------------------------------------------


def birth_date_rule(*, today: date) -> ColumnRule:
    """Vectorised check_birth_date: True for birth dates from 1900 / age 120 up to `today`."""
    earliest = pd.Timestamp(oldest_plausible_birth_date(today))
    latest = pd.Timestamp(today)

    def rule(values: pd.Series) -> pd.Series:
        dates = pd.to_datetime(values, errors="coerce").dt.normalize()
        return (dates >= earliest) & (dates <= latest)

    return rule


def not_negative_rule() -> ColumnRule:
    """Vectorised check_amount: True for amounts at or above zero (non-numbers fail)."""

    def rule(values: pd.Series) -> pd.Series:
        return pd.to_numeric(values, errors="coerce") >= 0

    return rule


def event_time_rule(*, now: datetime, max_future: timedelta = DEFAULT_MAX_FUTURE) -> ColumnRule:
    """Vectorised check_event_time: True from 2000 up to `now + max_future` (naive means UTC)."""
    earliest = pd.Timestamp(EARLIEST_EVENT_TIME)
    latest = pd.Timestamp(now + max_future)

    def rule(values: pd.Series) -> pd.Series:
        moments = pd.to_datetime(values, errors="coerce", utc=True)
        return (moments >= earliest) & (moments <= latest)

    return rule


def known_currency_rule() -> ColumnRule:
    """Vectorised currency check: True for ISO 4217 codes normalise_currency accepts."""
    codes = sorted(iso_currency_codes())

    def rule(values: pd.Series) -> pd.Series:
        return values.isin(codes)

    return rule


def quality_summary(
    frame: pd.DataFrame, *, rules: Mapping[str, Sequence[ColumnRule]] | None = None
) -> pd.DataFrame:
    """Per column of `frame`: rows, completeness (share non-null), validity, distinct count.

    Validity is the share of NON-NULL values passing every rule of that column, so it does not
    double-count missing values; it is NaN for a column without rules or without values.
    """
    column_rules = rules or {}
    require_columns(frame, column_rules)
    rows = len(frame)
    report: list[dict[str, object]] = []
    for column in frame.columns:
        values = frame[column].dropna()
        valid: int | None = None
        if column_rules.get(column):
            passing = pd.Series(True, index=values.index)
            for rule in column_rules[column]:
                passing &= rule(values).fillna(False).astype(bool)
            valid = int(passing.sum())
        report.append(
            {
                COLUMN: column,
                ROWS: rows,
                NON_NULL: len(values),
                COMPLETENESS: len(values) / rows if rows else float("nan"),
                VALID: valid,
                VALIDITY: valid / len(values)
                if valid is not None and len(values)
                else float("nan"),
                DISTINCT: int(values.nunique()),
            }
        )
    return pd.DataFrame(report, columns=list(SUMMARY_COLUMNS)).astype({VALID: "Int64"})
