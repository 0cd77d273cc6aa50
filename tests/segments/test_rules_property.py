"""Property-based: random rule trees (nested all/any/not over every condition type) select in
one SQL statement exactly the profiles the independent pandas evaluation selects."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segments.selectors.rules import rule_tree_profiles_qs

from . import builders as b
from .reference import evaluate, load
from .test_rules_sql import world  # noqa: F401 (the shared fixture)

pytestmark = pytest.mark.django_db

NUMBER_OPS = ("eq", "neq", "lt", "lte", "gt", "gte")
COUNT_OPS = (*NUMBER_OPS, "between")
EVENTS = ("Order Completed", "Email Opened", "Product Added", "Page Viewed")
DATES = ("2024-01-01", "2025-05-20", "2025-06-01", "2025-06-10")


def _number_leaf(kind: str, name: str, values: st.SearchStrategy) -> st.SearchStrategy:
    single = st.builds(
        lambda op, v: {"type": kind, "trait": name, "op": op, "value": v},
        st.sampled_from(NUMBER_OPS),
        values,
    )
    between = st.builds(
        lambda a, c: {"type": kind, "trait": name, "op": "between", "value": sorted([a, c])},
        values,
        values,
    )
    return single | between


TRAITS = st.one_of(
    st.builds(
        lambda op, v: {"type": "trait", "trait": "country", "op": op, "value": v},
        st.sampled_from(("eq", "neq", "contains")),
        st.sampled_from(("DE", "FR", "US", "de", "e")),
    ),
    st.builds(
        lambda op, v: {"type": "trait", "trait": "country", "op": op, "value": v},
        st.sampled_from(("in", "not_in")),
        st.lists(st.sampled_from(("DE", "FR", "US")), min_size=1, max_size=2),
    ),
    st.builds(
        lambda name, op: {"type": "trait", "trait": name, "op": op},
        st.sampled_from(("country", "city", "age", "vip")),
        st.sampled_from(("is_set", "not_set")),
    ),
    _number_leaf("trait", "age", st.sampled_from((19, 19.5, 36, 40, 52))),
    st.builds(
        lambda op, v: {"type": "trait", "trait": "vip", "op": op, "value": v},
        st.sampled_from(("eq", "neq")),
        st.booleans(),
    ),
    st.builds(
        lambda op, v: {"type": "trait", "trait": "signup", "op": op, "value": v},
        st.sampled_from(("before", "after")),
        st.sampled_from(DATES),
    ),
    st.builds(
        lambda days: {"type": "trait", "trait": "signup", "op": "within_days", "value": days},
        st.sampled_from((5, 30, 400)),
    ),
)
COMPUTED = st.one_of(
    _number_leaf("computed", "orders_90d", st.integers(0, 4)),
    _number_leaf("computed", "lifetime_value", st.sampled_from((0, 45, 540, 999))),
    st.builds(
        lambda op, v: {"type": "computed", "trait": "recency_days", "op": op, "value": v},
        st.sampled_from(("lt", "lte", "gt", "gte")),
        st.sampled_from((1, 3, 30, 150)),
    ),
)


def _event(event, performed, count, window, where):
    node = {"type": "event", "event": event, "performed": performed}
    if count is not None:
        node["count"] = count
    if window is not None:
        node["within_days"] = window
    if where is not None and event == "Order Completed":
        node["where"] = [where]
    return node


EVENT = st.builds(
    _event,
    st.sampled_from(EVENTS),
    st.booleans(),
    st.none()
    | st.builds(
        lambda op, v: {"op": op, "value": v}, st.sampled_from(NUMBER_OPS), st.integers(0, 4)
    )
    | st.builds(
        lambda a, c: {"op": "between", "value": sorted([a, c])},
        st.integers(0, 4),
        st.integers(0, 4),
    ),
    st.none() | st.sampled_from((1, 10, 30, 90, 365)),
    st.none()
    | st.builds(
        lambda op, v: {"property": "total", "op": op, "value": v},
        st.sampled_from(NUMBER_OPS),
        st.sampled_from((30, 45, 100)),
    ),
)
AGGREGATE = st.builds(
    lambda fn, op, v, window: {
        "type": "event",
        "event": "Order Completed",
        "aggregate": {"fn": fn, "property": "total", "op": op, "value": v},
        **({"within_days": window} if window else {}),
    },
    st.sampled_from(("sum", "avg", "min", "max")),
    st.sampled_from(COUNT_OPS[:-1]),
    st.sampled_from((0, 30, 45, 120, 540)),
    st.none() | st.sampled_from((30, 90)),
)
SEQUENCE = st.builds(
    lambda gap, performed, window: {
        "type": "sequence",
        "steps": [{"event": "Product Added"}, {"event": "Order Completed"}],
        "performed": performed,
        **({"within": {"value": gap, "unit": "hours"}} if gap else {}),
        **({"within_days": window} if window else {}),
    },
    st.none() | st.sampled_from((1, 48)),
    st.booleans(),
    st.none() | st.sampled_from((9, 30)),
)
OTHERS = st.one_of(
    st.builds(
        lambda granted: {"type": "consent", "purpose": "email_marketing", "granted": granted},
        st.booleans(),
    ),
    st.builds(
        lambda kind, present: {"type": "identifier", "identifier": kind, "present": present},
        st.sampled_from(("email", "phone")),
        st.booleans(),
    ),
)
LEAVES = TRAITS | COMPUTED | EVENT | AGGREGATE | SEQUENCE | OTHERS
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(children, max_size=3)),
        st.builds(lambda child: {"not": child}, children),
    ),
    max_leaves=6,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=TREES)
def test_random_trees_select_what_the_reference_selects(world, tree):  # noqa: F811
    frames = load()
    found = set(rule_tree_profiles_qs(tree, now=b.NOW).values_list("pk", flat=True))

    assert found == evaluate(tree, frames, b.NOW)
