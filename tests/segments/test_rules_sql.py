"""The rule compiler: every operator and condition type gives, in one SQL statement, the same
members as an independent pandas evaluation of the same data (tests/segments/reference.py);
the expected ids are also written out, so SQLite and PostgreSQL must agree with each other."""

from __future__ import annotations

from datetime import timedelta

import pytest

from segments.models import Segment, SegmentMembership
from segments.selectors.rules import rule_tree_profiles_qs

from . import builders as b
from .reference import evaluate, load

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def world():
    """Six people with traits, events, orders, consent, identifiers and one segment."""
    now = b.NOW
    ada = b.profile(
        {"country": "DE", "age": 36, "vip": True, "signup": "2025-06-01", "city": "Berlin"}
    )
    bob = b.profile({"country": "FR", "age": 52, "vip": False, "signup": "2024-01-10T08:00:00Z"})
    cyd = b.profile({"country": "DE", "age": 19.5, "signup": "2025-05-20", "city": "Hamburg"})
    dee = b.profile({"country": "US", "city": "New York"})
    eve = b.profile({})
    fay = b.profile({"country": "de", "age": "unknown", "vip": True})
    for days, total in ((2, 120.0), (20, 80.0), (60, 40.0), (200, 300.0)):
        b.event(ada, "Order Completed", now - days * DAY, {"total": total, "currency": "EUR"})
        b.order(ada, now - days * DAY, total, category="shoes" if days < 100 else "bags")
    b.event(bob, "Order Completed", now - 100 * DAY, {"total": 999, "coupon": "SUMMER"})
    b.order(bob, now - 100 * DAY, 999.0, category="bags")
    b.event(cyd, "Order Completed", now - 5 * DAY, {"total": "12.50"})  # a string: no number
    b.event(cyd, "Email Opened", now - 3 * DAY, {"campaign_id": "c1"})
    b.event(ada, "Email Opened", now - 40 * DAY, {"campaign_id": "c0"})
    b.event(dee, "Product Added", now - 10 * DAY, {"sku": "S1", "price": 30})
    b.event(dee, "Order Completed", now - 10 * DAY + timedelta(minutes=20), {"total": 30})
    b.event(eve, "Product Added", now - 8 * DAY, {"sku": "S2", "price": 45})
    b.event(eve, "Order Completed", now - 6 * DAY, {"total": 45})
    b.event(fay, "Page Viewed", now - 1 * DAY, {"path": "/"})
    b.consent(ada, "email_marketing")
    b.consent(cyd, "email_marketing")
    b.consent(bob, "email_marketing", granted=False)
    b.identifier(ada, "email", "ada@example.com")
    b.identifier(dee, "email", "dee@example.com")
    b.identifier(bob, "phone", "+33612345678")
    lapsed = Segment.objects.create(name="Lapsed", rule_tree={"all": []})
    SegmentMembership.objects.create(
        segment=lapsed, profile=bob, entered_at=now, entered_by="refresh"
    )
    SegmentMembership.objects.create(
        segment=lapsed,
        profile=ada,
        entered_at=now - 9 * DAY,
        exited_at=now - DAY,
        entered_by="refresh",
    )
    b.finish(now)
    names = {"ada": ada, "bob": bob, "cyd": cyd, "dee": dee, "eve": eve, "fay": fay}
    return {"ids": {name: p.pk for name, p in names.items()}, "lapsed": lapsed.pk}


def _members(world, tree):
    found = set(rule_tree_profiles_qs(tree, now=b.NOW).values_list("pk", flat=True))
    expected = evaluate(tree, load(), b.NOW)
    assert found == expected, "SQL and the pandas reference disagree"
    by_id = {pk: name for name, pk in world["ids"].items()}
    return sorted(by_id[pk] for pk in found)


def _trait(name, op, value=None):
    node = {"type": "trait", "trait": name, "op": op}
    if value is not None:
        node["value"] = value
    return {"all": [node]}


TRAIT_CASES = [
    ("_string_eq", _trait("country", "eq", "DE"), ["ada", "cyd"]),
    ("_string_neq_excludes_missing", _trait("country", "neq", "DE"), ["bob", "dee", "fay"]),
    ("_string_in", _trait("country", "in", ["FR", "US"]), ["bob", "dee"]),
    ("_string_not_in", _trait("country", "not_in", ["FR", "US"]), ["ada", "cyd", "fay"]),
    ("_string_contains_any_case", _trait("city", "contains", "BUR"), ["cyd"]),
    ("_is_set", _trait("city", "is_set"), ["ada", "cyd", "dee"]),
    ("_not_set", _trait("city", "not_set"), ["bob", "eve", "fay"]),
    ("_number_gt_skips_strings", _trait("age", "gt", 20), ["ada", "bob"]),
    ("_number_lte_fraction", _trait("age", "lte", 19.5), ["cyd"]),
    ("_number_between", _trait("age", "between", [19, 40]), ["ada", "cyd"]),
    ("_number_eq", _trait("age", "eq", 52), ["bob"]),
    ("_number_neq", _trait("age", "neq", 52), ["ada", "cyd"]),
    ("_number_in", _trait("age", "in", [36, 52]), ["ada", "bob"]),
    ("_boolean_eq_true", _trait("vip", "eq", True), ["ada", "fay"]),
    ("_boolean_neq_true", _trait("vip", "neq", True), ["bob"]),
    ("_date_before", _trait("signup", "before", "2025-05-21"), ["bob", "cyd"]),
    ("_date_after", _trait("signup", "after", "2025-05-20"), ["ada"]),
    ("_date_within_days", _trait("signup", "within_days", 20), ["ada"]),
    ("_date_between", _trait("signup", "between", ["2024-01-01", "2025-05-20"]), ["bob", "cyd"]),
]


@pytest.mark.parametrize(("_case", "tree", "expected"), TRAIT_CASES)
def test_trait_operators_match_the_reference(world, _case, tree, expected):
    assert _members(world, tree) == expected


def _computed(name, op, value=None):
    node = {"type": "computed", "trait": name, "op": op}
    if value is not None:
        node["value"] = value
    return {"all": [node]}


COMPUTED_CASES = [
    ("_orders_90d_gte", _computed("orders_90d", "gte", 3), ["ada"]),
    ("_lifetime_value_gt", _computed("lifetime_value", "gt", 500), ["ada", "bob"]),
    ("_orders_count_eq_zero", _computed("orders_count", "eq", 0), ["cyd", "dee", "eve", "fay"]),
    ("_favourite_category", _computed("favourite_category", "eq", "shoes"), ["ada"]),
    ("_first_order_before", _computed("first_order_at", "before", "2025-01-01"), ["ada"]),
    ("_last_seen_within", _computed("last_seen_at", "within_days", 4), ["ada", "cyd", "fay"]),
    ("_recency_days_gt", _computed("recency_days", "gt", 30), ["bob"]),
    ("_recency_days_lt", _computed("recency_days", "lt", 30), ["ada"]),
    ("_recency_days_between", _computed("recency_days", "between", [1, 150]), ["ada", "bob"]),
    ("_recency_days_eq_whole_days", _computed("recency_days", "eq", 2), ["ada"]),
    ("_recency_days_not_set", _computed("recency_days", "not_set"), ["cyd", "dee", "eve", "fay"]),
    ("_days_since_seen_in", _computed("days_since_last_seen", "in", [1, 3]), ["cyd", "fay"]),
]


@pytest.mark.parametrize(("_case", "tree", "expected"), COMPUTED_CASES)
def test_computed_trait_operators_match_the_reference(world, _case, tree, expected):
    assert _members(world, tree) == expected


def _event(**node):
    return {"all": [{"type": "event", "event": "Order Completed", **node}]}


EVENT_CASES = [
    ("_did", _event(), ["ada", "bob", "cyd", "dee", "eve"]),
    ("_did_not", _event(performed=False), ["fay"]),
    ("_at_least_3_in_90_days", _event(count={"op": "gte", "value": 3}, within_days=90), ["ada"]),
    (
        "_at_most_1_includes_none",
        _event(count={"op": "lte", "value": 1}),
        ["bob", "cyd", "dee", "eve", "fay"],
    ),
    ("_exactly_zero", _event(count={"op": "eq", "value": 0}, within_days=30), ["bob", "fay"]),
    ("_count_between", _event(count={"op": "between", "value": [2, 3]}, within_days=90), ["ada"]),
    ("_count_neq", _event(count={"op": "neq", "value": 1}), ["ada", "fay"]),
    (
        "_within_window_and_where",
        _event(within_days=30, where=[{"property": "total", "op": "gte", "value": 45}]),
        ["ada", "eve"],
    ),
    (
        "_where_string_property",
        _event(where=[{"property": "coupon", "op": "eq", "value": "SUMMER"}]),
        ["bob"],
    ),
    ("_between_dates", _event(between=["2025-03-01", "2025-06-01"]), ["ada", "bob"]),
    (
        "_sum_ignores_non_numbers",
        _event(aggregate={"fn": "sum", "property": "total", "op": "gte", "value": 500}),
        ["ada", "bob"],
    ),
    (
        "_sum_lte_includes_no_events",
        _event(aggregate={"fn": "sum", "property": "total", "op": "lte", "value": 45}),
        ["cyd", "dee", "eve", "fay"],
    ),
    (
        "_avg",
        _event(aggregate={"fn": "avg", "property": "total", "op": "gt", "value": 100}),
        ["ada", "bob"],
    ),
    (
        "_min",
        _event(aggregate={"fn": "min", "property": "total", "op": "lt", "value": 45}),
        ["ada", "dee"],
    ),
    (
        "_max",
        _event(aggregate={"fn": "max", "property": "total", "op": "eq", "value": 45}),
        ["eve"],
    ),
]


@pytest.mark.parametrize(("_case", "tree", "expected"), EVENT_CASES)
def test_event_conditions_match_the_reference(world, _case, tree, expected):
    assert _members(world, tree) == expected


def _sequence(**node):
    steps = [{"event": "Product Added"}, {"event": "Order Completed"}]
    return {"all": [{"type": "sequence", "steps": steps, **node}]}


SEQUENCE_CASES = [
    ("_then", _sequence(), ["dee", "eve"]),
    ("_then_within_an_hour", _sequence(within={"value": 1, "unit": "hours"}), ["dee"]),
    (
        "_not_followed_within_an_hour",
        _sequence(within={"value": 1, "unit": "hours"}, performed=False),
        ["ada", "bob", "cyd", "eve", "fay"],
    ),
    ("_first_step_in_window", _sequence(within_days=9), ["eve"]),
    (
        "_step_where",
        {
            "all": [
                {
                    "type": "sequence",
                    "steps": [
                        {
                            "event": "Product Added",
                            "where": [{"property": "price", "op": "gt", "value": 40}],
                        },
                        {"event": "Order Completed"},
                    ],
                }
            ]
        },
        ["eve"],
    ),
]


@pytest.mark.parametrize(("_case", "tree", "expected"), SEQUENCE_CASES)
def test_sequence_conditions_match_the_reference(world, _case, tree, expected):
    assert _members(world, tree) == expected


def test_consent_segment_and_identifier_conditions_match_the_reference(world):
    lapsed = world["lapsed"]
    cases = [
        ({"type": "consent", "purpose": "email_marketing"}, ["ada", "cyd"]),
        (
            {"type": "consent", "purpose": "email_marketing", "granted": False},
            ["bob", "dee", "eve", "fay"],
        ),
        ({"type": "segment", "segment_id": lapsed}, ["bob"]),
        (
            {"type": "segment", "segment_id": lapsed, "member": False},
            ["ada", "cyd", "dee", "eve", "fay"],
        ),
        ({"type": "identifier", "identifier": "email"}, ["ada", "dee"]),
        (
            {"type": "identifier", "identifier": "phone", "present": False},
            ["ada", "cyd", "dee", "eve", "fay"],
        ),
    ]
    for condition, expected in cases:
        assert _members(world, {"all": [condition]}) == expected, condition


GROUP_CASES = [
    ("_empty_all_is_everyone", {"all": []}, ["ada", "bob", "cyd", "dee", "eve", "fay"]),
    ("_empty_any_is_no_one", {"any": []}, []),
    (
        "_any",
        {"any": [_trait("country", "eq", "FR"), _trait("city", "eq", "New York")]},
        ["bob", "dee"],
    ),
    (
        "_not_is_the_exact_complement",
        {"not": _trait("age", "gt", 20)},
        ["cyd", "dee", "eve", "fay"],
    ),
    (
        "_nested",
        {
            "all": [
                {"any": [_trait("country", "eq", "DE"), _trait("vip", "eq", True)]},
                {"not": {"all": [{"type": "consent", "purpose": "email_marketing"}]}},
            ]
        },
        ["fay"],
    ),
]


@pytest.mark.parametrize(("_case", "tree", "expected"), GROUP_CASES)
def test_groups_match_the_reference(world, _case, tree, expected):
    assert _members(world, tree) == expected


def test_the_marketers_audience_is_one_statement(world, django_assert_num_queries):
    """German customers with 3+ orders in 90 days who opened an email in the last 30 days and
    gave email consent, but are not in Lapsed."""
    tree = {
        "all": [
            {"type": "trait", "trait": "country", "op": "eq", "value": "DE"},
            {
                "type": "event",
                "event": "Order Completed",
                "count": {"op": "gte", "value": 3},
                "within_days": 90,
            },
            {"type": "event", "event": "Email Opened", "within_days": 45},
            {"type": "consent", "purpose": "email_marketing"},
            {"type": "segment", "segment_id": world["lapsed"], "member": False},
        ]
    }
    audience = rule_tree_profiles_qs(tree, now=b.NOW)  # compiling reads the purpose once
    with django_assert_num_queries(1):
        ids = list(audience.values_list("pk", flat=True))
    assert ids == [world["ids"]["ada"]]


def test_restricting_to_profile_ids_gives_the_same_answer_for_them(world):
    tree = _event(count={"op": "lte", "value": 1})
    some = [world["ids"]["ada"], world["ids"]["bob"], world["ids"]["fay"]]
    restricted = set(
        rule_tree_profiles_qs(tree, now=b.NOW, profile_ids=some).values_list("pk", flat=True)
    )
    assert restricted == {world["ids"]["bob"], world["ids"]["fay"]}
