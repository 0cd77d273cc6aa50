from datetime import UTC, date, datetime

import pytest

from campaigns.compute.offers import OfferRule, condition_holds, match_offer, validate_rules

RULES = [
    OfferRule(block_key="default", priority=0, conditions=[]),
    OfferRule(
        block_key="vip_shoes",
        priority=30,
        conditions=[("tier", "==", "gold"), ("favourite_categories", "contains", "shoes")],
    ),
    OfferRule(block_key="big_spender", priority=20, conditions=[("lifetime_value", ">=", 500)]),
    OfferRule(
        block_key="winback",
        priority=10,
        conditions=[("days_since_order", ">", 90), ("email", "is_set", True)],
    ),
]


@pytest.mark.parametrize(
    ("_case", "traits", "expected"),
    [
        (
            "every vip condition",
            {"tier": "gold", "favourite_categories": ["bags", "shoes"], "lifetime_value": 900},
            "vip_shoes",
        ),
        (
            "vip without shoes falls to the next priority",
            {"tier": "gold", "favourite_categories": ["bags"], "lifetime_value": 900},
            "big_spender",
        ),
        ("boundary value", {"lifetime_value": 500}, "big_spender"),
        ("just below", {"lifetime_value": 499.99}, "default"),
        ("winback", {"days_since_order": 120, "email": "a@example.com"}, "winback"),
        ("winback without email", {"days_since_order": 120}, "default"),
        ("winback with email None", {"days_since_order": 120, "email": None}, "default"),
        ("nothing known", {}, "default"),
    ],
)
def test_match_offer_takes_the_highest_priority_rule_that_fully_holds(_case, traits, expected):
    assert match_offer(traits, RULES) == expected


def test_no_rule_matching_gives_none():
    rules = [OfferRule(block_key="gold", priority=1, conditions=[("tier", "==", "gold")])]
    assert match_offer({"tier": "silver"}, rules) is None
    assert match_offer({"tier": "silver"}, []) is None


def test_equal_priorities_go_to_the_rule_listed_first():
    rules = [
        OfferRule(block_key="first", priority=5, conditions=[("tier", "is_set", True)]),
        OfferRule(block_key="second", priority=5, conditions=[("tier", "is_set", True)]),
    ]
    assert match_offer({"tier": "x"}, rules) == "first"
    assert match_offer({"tier": "x"}, rules[::-1]) == "second"


@pytest.mark.parametrize(
    ("_case", "traits", "condition", "expected"),
    [
        ("equal text", {"city": "Berlin"}, ("city", "==", "Berlin"), True),
        ("text is case sensitive", {"city": "berlin"}, ("city", "==", "Berlin"), False),
        ("int equals float", {"orders": 3}, ("orders", "==", 3.0), True),
        ("bool is not 1", {"vip": True}, ("vip", "==", 1), False),
        ("bool equals bool", {"vip": True}, ("vip", "==", True), True),
        ("not equal", {"city": "Paris"}, ("city", "!=", "Berlin"), True),
        ("not equal missing", {}, ("city", "!=", "Berlin"), False),
        ("less", {"age": 17}, ("age", "<", 18), True),
        ("less equal", {"age": 18}, ("age", "<=", 18), True),
        ("greater false", {"age": 18}, ("age", ">", 18), False),
        ("no coercion of text", {"age": "42"}, ("age", ">", 18), False),
        ("bool is not ordered", {"age": True}, ("age", ">=", 0), False),
        ("text ordering", {"tier": "b"}, ("tier", "<", "c"), True),
        ("dates", {"born": date(1990, 5, 1)}, ("born", "<", date(2000, 1, 1)), True),
        (
            "naive vs aware datetime",
            {"seen": datetime(2024, 1, 1)},  # noqa: DTZ001 - the point of the case
            ("seen", "<", datetime(2025, 1, 1, tzinfo=UTC)),
            False,
        ),
        ("date is not a datetime", {"d": date(2024, 1, 1)}, ("d", "<", datetime.now(UTC)), False),
        ("in list", {"country": "DE"}, ("country", "in", ["DE", "AT"]), True),
        ("not in list", {"country": "FR"}, ("country", "in", ["DE", "AT"]), False),
        ("in keeps bools apart", {"n": 1}, ("n", "in", [True]), False),
        ("substring", {"email": "ann@shop.example"}, ("email", "contains", "@shop."), True),
        ("list member", {"tags": ["a", "b"]}, ("tags", "contains", "b"), True),
        ("not a member", {"tags": ["a", "b"]}, ("tags", "contains", "c"), False),
        ("number contains nothing", {"n": 123}, ("n", "contains", "2"), False),
        ("is set", {"phone": "+49"}, ("phone", "is_set", True), True),
        ("is set with falsy value", {"count": 0}, ("count", "is_set", True), True),
        ("not set", {}, ("phone", "is_set", False), True),
        ("None is not set", {"phone": None}, ("phone", "is_set", False), True),
        ("set is not unset", {"phone": "+49"}, ("phone", "is_set", False), False),
        ("missing fails comparisons", {}, ("age", "<", 18), False),
    ],
)
def test_condition_holds(_case, traits, condition, expected):
    assert condition_holds(traits, condition) is expected


def test_conditions_given_as_lists_are_stored_as_tuples():
    rule = OfferRule(block_key="b", priority=1, conditions=[["tier", "in", ["a", "b"]]])
    assert rule.conditions == (("tier", "in", ["a", "b"]),)
    assert match_offer({"tier": "b"}, [rule]) == "b"


@pytest.mark.parametrize(
    ("_case", "rule", "message"),
    [
        ("empty key", OfferRule(block_key="", priority=1), r"#1 \(''\): block_key"),
        ("text priority", OfferRule(block_key="x", priority="1"), "priority must be an integer"),
        ("bool priority", OfferRule(block_key="x", priority=True), "priority must be an integer"),
        (
            "unknown operator",
            OfferRule(block_key="x", priority=1, conditions=[("a", "=~", "b")]),
            r"#1 \('x'\): unknown operator '=~'",
        ),
        (
            "pair not triple",
            OfferRule(block_key="x", priority=1, conditions=[("a", "is_set")]),
            "not a \\(trait, operator, value\\) triple",
        ),
        (
            "empty trait",
            OfferRule(block_key="x", priority=1, conditions=[("", "==", 1)]),
            "trait must be a non-empty string",
        ),
        (
            "in without list",
            OfferRule(block_key="x", priority=1, conditions=[("a", "in", "DE")]),
            "trait 'a': in needs a non-empty list",
        ),
        (
            "in with empty list",
            OfferRule(block_key="x", priority=1, conditions=[("a", "in", [])]),
            "in needs a non-empty list",
        ),
        (
            "is_set with text",
            OfferRule(block_key="x", priority=1, conditions=[("a", "is_set", "yes")]),
            "is_set needs true or false",
        ),
        (
            "ordering with a list",
            OfferRule(block_key="x", priority=1, conditions=[("a", ">", [1])]),
            "> needs a number, text or date",
        ),
        (
            "ordering with a bool",
            OfferRule(block_key="x", priority=1, conditions=[("a", "<", False)]),
            "< needs a number, text or date",
        ),
        (
            "equality with None",
            OfferRule(block_key="x", priority=1, conditions=[("a", "==", None)]),
            "== needs text, a number or a boolean",
        ),
        (
            "nan",
            OfferRule(block_key="x", priority=1, conditions=[("a", ">=", float("nan"))]),
            "needs a finite number",
        ),
    ],
)
def test_validate_rules_names_the_bad_rule(_case, rule, message):
    rules = [RULES[0], rule]
    with pytest.raises(ValueError, match=message):
        validate_rules(rules)
    with pytest.raises(ValueError, match=message):
        match_offer({"a": 1}, rules)


def test_validate_rules_rejects_something_that_is_not_a_rule():
    with pytest.raises(ValueError, match=r"offer rule #0 \(None\): .* is not an OfferRule"):
        validate_rules([{"block_key": "x"}])


def test_valid_rules_pass_validation():
    validate_rules(RULES)  # raises on failure
    assert match_offer({"tier": "gold", "favourite_categories": "shoes"}, RULES) == "vip_shoes"
