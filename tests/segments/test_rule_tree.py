"""Pure rule-tree code: validation with clear issues, cron schedules, the dependency graph
(cycles, order), the real-time verdict and combining per-condition results."""

from __future__ import annotations

import datetime

import pytest

from segments.compute.cron import CronError, next_run, parse_cron
from segments.compute.rule_graph import (
    combine_results,
    dependency_order,
    find_cycle,
    realtime_verdict,
    referenced_segments,
)
from segments.compute.rule_tree import RuleTreeError, Vocabulary, validate_tree, validation_issues

VOCABULARY = Vocabulary(
    traits={"country": "string", "age": "number", "vip": "boolean", "signup": "date"},
    computed={"orders_90d": "number", "rfm_segment": "string"},
    events=frozenset({"Order Completed", "Product Added"}),
    properties={"Order Completed": {"total": "number", "coupon": "string"}},
    segments=frozenset({7}),
    purposes=frozenset({"email_marketing"}),
    identifiers=frozenset({"email"}),
)


def _codes(tree):
    return [(issue.path, issue.code) for issue in validation_issues(tree, VOCABULARY)]


VALID = [
    ("_empty", {"all": []}),
    ("_trait", {"all": [{"type": "trait", "trait": "age", "op": "between", "value": [18, 30]}]}),
    ("_date", {"any": [{"type": "trait", "trait": "signup", "op": "within_days", "value": 7}]}),
    (
        "_event",
        {
            "all": [
                {
                    "type": "event",
                    "event": "Order Completed",
                    "where": [{"property": "total", "op": "gt", "value": 5}],
                    "aggregate": {"fn": "sum", "property": "total", "op": "gte", "value": 10},
                    "between": ["2025-01-01", "2025-02-01"],
                }
            ]
        },
    ),
    (
        "_sequence",
        {
            "not": {
                "type": "sequence",
                "steps": [{"event": "Product Added"}, {"event": "Order Completed"}],
                "within": {"value": 1, "unit": "hours"},
            }
        },
    ),
    (
        "_others",
        {
            "all": [
                {"type": "consent", "purpose": "email_marketing", "granted": False},
                {"type": "segment", "segment_id": 7},
                {"type": "identifier", "identifier": "email", "present": True},
            ]
        },
    ),
]


@pytest.mark.parametrize(("_case", "tree"), VALID)
def test_valid_trees_have_no_issues(_case, tree):
    assert validation_issues(tree, VOCABULARY) == []


INVALID = [
    (
        "_unknown_trait",
        {"all": [{"type": "trait", "trait": "shoe", "op": "eq", "value": "x"}]},
        [("0", "unknown_trait")],
    ),
    (
        "_operator_for_type",
        {"all": [{"type": "trait", "trait": "vip", "op": "gt", "value": 1}]},
        [("0", "wrong_type")],
    ),
    (
        "_unknown_operator",
        {"all": [{"type": "trait", "trait": "age", "op": "~", "value": 1}]},
        [("0", "bad_operator")],
    ),
    (
        "_value_type",
        {"all": [{"type": "trait", "trait": "age", "op": "gt", "value": "3"}]},
        [("0", "bad_value")],
    ),
    (
        "_between_order",
        {"all": [{"type": "trait", "trait": "age", "op": "between", "value": [9, 1]}]},
        [("0", "bad_value")],
    ),
    (
        "_bad_date",
        {"all": [{"type": "trait", "trait": "signup", "op": "before", "value": "soon"}]},
        [("0", "bad_value")],
    ),
    (
        "_within_days",
        {"all": [{"type": "trait", "trait": "signup", "op": "within_days", "value": 0}]},
        [("0", "bad_value")],
    ),
    (
        "_empty_in",
        {"all": [{"type": "trait", "trait": "country", "op": "in", "value": []}]},
        [("0", "bad_value")],
    ),
    ("_unknown_event", {"all": [{"type": "event", "event": "Flew"}]}, [("0", "unknown_event")]),
    (
        "_unknown_property",
        {
            "all": [
                {
                    "type": "event",
                    "event": "Order Completed",
                    "where": [{"property": "x", "op": "eq", "value": 1}],
                }
            ]
        },
        [("0", "unknown_property")],
    ),
    (
        "_sum_of_text",
        {
            "all": [
                {
                    "type": "event",
                    "event": "Order Completed",
                    "aggregate": {"fn": "sum", "property": "coupon", "op": "gt", "value": 1},
                }
            ]
        },
        [("0", "wrong_type")],
    ),
    (
        "_negative_count",
        {
            "all": [
                {"type": "event", "event": "Order Completed", "count": {"op": "gte", "value": -1}}
            ]
        },
        [("0", "bad_value")],
    ),
    (
        "_two_windows",
        {
            "all": [
                {
                    "type": "event",
                    "event": "Order Completed",
                    "within_days": 3,
                    "between": ["2025-01-01", "2025-01-02"],
                }
            ]
        },
        [("0", "bad_window")],
    ),
    (
        "_short_sequence",
        {"all": [{"type": "sequence", "steps": [{"event": "Order Completed"}]}]},
        [("0", "bad_sequence")],
    ),
    (
        "_unknown_purpose",
        {"all": [{"type": "consent", "purpose": "spam"}]},
        [("0", "unknown_purpose")],
    ),
    (
        "_unknown_segment",
        {"all": [{"type": "segment", "segment_id": 8}]},
        [("0", "unknown_segment")],
    ),
    (
        "_unknown_identifier",
        {"all": [{"type": "identifier", "identifier": "fax"}]},
        [("0", "unknown_identifier")],
    ),
    ("_unknown_condition", {"all": [{"type": "weather"}]}, [("0", "unknown_condition")]),
    ("_bad_group", {"all": [], "any": []}, [("", "bad_group")]),
    ("_not_an_object", {"all": ["country = DE"]}, [("0", "not_an_object")]),
    (
        "_every_issue_with_its_path",
        {
            "any": [
                {"not": {"type": "trait", "trait": "nope", "op": "eq", "value": 1}},
                {"type": "segment", "segment_id": 1},
            ]
        },
        [("0.0", "unknown_trait"), ("1", "unknown_segment")],
    ),
]


@pytest.mark.parametrize(("_case", "tree", "expected"), INVALID)
def test_invalid_trees_report_each_issue_at_its_path(_case, tree, expected):
    assert _codes(tree) == expected


def test_validate_raises_with_every_issue():
    tree = {"all": [{"type": "trait", "trait": "x", "op": "eq", "value": 1}, {"type": "weather"}]}

    with pytest.raises(RuleTreeError) as raised:
        validate_tree(tree, VOCABULARY)

    assert [issue.code for issue in raised.value.issues] == ["unknown_trait", "unknown_condition"]
    assert str(raised.value) == "0: unknown trait 'x'; 1: unknown condition type 'weather'"


UTC = datetime.UTC


@pytest.mark.parametrize(
    ("_case", "expression", "after", "expected"),
    [
        (
            "_hourly",
            "0 * * * *",
            datetime.datetime(2025, 1, 1, 10, 30, tzinfo=UTC),
            datetime.datetime(2025, 1, 1, 11, 0, tzinfo=UTC),
        ),
        (
            "_every_15",
            "*/15 * * * *",
            datetime.datetime(2025, 1, 1, 10, 15, tzinfo=UTC),
            datetime.datetime(2025, 1, 1, 10, 30, tzinfo=UTC),
        ),
        (
            "_weekdays_at_6",
            "0 6 * * 1-5",
            datetime.datetime(2025, 1, 3, 7, 0, tzinfo=UTC),
            datetime.datetime(2025, 1, 6, 6, 0, tzinfo=UTC),
        ),
        (
            "_daily_shortcut",
            "@daily",
            datetime.datetime(2025, 1, 31, 23, 59, tzinfo=UTC),
            datetime.datetime(2025, 2, 1, 0, 0, tzinfo=UTC),
        ),
        (
            "_day_or_weekday",
            "0 0 13 * 5",
            datetime.datetime(2025, 6, 1, tzinfo=UTC),
            datetime.datetime(2025, 6, 6, tzinfo=UTC),
        ),
        (
            "_list_and_range",
            "5,35 8-9 * * *",
            datetime.datetime(2025, 1, 1, 8, 35, tzinfo=UTC),
            datetime.datetime(2025, 1, 1, 9, 5, tzinfo=UTC),
        ),
    ],
)
def test_cron_next_run(_case, expression, after, expected):
    assert next_run(parse_cron(expression), after) == expected


@pytest.mark.parametrize(
    "expression", ["* * * *", "61 * * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *"]
)
def test_bad_cron_expressions_are_refused(expression):
    with pytest.raises(CronError):
        parse_cron(expression)


def test_a_cron_that_never_matches_is_refused_when_scheduling():
    with pytest.raises(CronError):
        next_run(parse_cron("0 0 31 2 *"), datetime.datetime(2025, 1, 1, tzinfo=UTC))


def test_references_cycles_and_order():
    tree = {
        "all": [{"type": "segment", "segment_id": 2}, {"not": {"type": "segment", "segment_id": 3}}]
    }

    assert referenced_segments(tree) == {2, 3}
    assert find_cycle({1: {2}, 2: {3}, 3: set()}) is None
    assert find_cycle({1: {2}, 2: {3}, 3: {1}}) == [1, 2, 3, 1]
    assert find_cycle({5: {5}}) == [5, 5]
    assert dependency_order({1: {2, 3}, 2: {3}, 3: set(), 4: set()}) == [3, 4, 2, 1]


def test_realtime_verdict_names_blockers_and_notes():
    tree = {
        "all": [
            {"type": "computed", "trait": "rfm_segment", "op": "eq", "value": "Lost"},
            {"type": "segment", "segment_id": 9},
            {"type": "event", "event": "Order Completed", "within_days": 3},
            {"type": "segment", "segment_id": 4},
        ]
    }

    verdict = realtime_verdict(tree, batch_traits={"rfm_segment"}, realtime_segments={4})

    assert verdict.is_realtime_capable is False
    assert verdict.blockers == (
        "condition 0: rfm_segment is scored by a nightly job",
        "condition 1: segment 9 is not real-time",
    )
    assert verdict.notes == (
        "condition 2: leaving the time window is seen at the scheduled refresh",
    )


def test_combine_results_evaluates_groups_from_leaves():
    tree = {"any": [{"not": {"type": "x"}}, {"all": [{"type": "y"}, {"type": "z"}]}]}

    results = combine_results(tree, {"0.0": True, "1.0": True, "1.1": False})

    assert results == {"0.0": True, "0": False, "1.0": True, "1.1": False, "1": False, "": False}
