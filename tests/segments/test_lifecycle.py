"""Tests for segments.compute.lifecycle: stage rules at each boundary and their precedence."""

from __future__ import annotations

import pandas as pd
import pytest

from segments.compute.lifecycle import LifecycleThresholds, lifecycle_stages
from segments.compute.rfm import customer_rfm

AS_OF = pd.Timestamp("2024-06-01T12:00:00Z")
DAY = pd.Timedelta(days=1)
SECOND = pd.Timedelta(seconds=1)


def _frame(rows: list[tuple[int, pd.Timedelta | None, pd.Timedelta | None]]) -> pd.DataFrame:
    """Rows of (frequency, time since first order, time since last order)."""
    return pd.DataFrame(
        {
            "profile_id": range(1, len(rows) + 1),
            "frequency": [r[0] for r in rows],
            "first_order_at": pd.Series(
                [AS_OF - r[1] if r[1] is not None else pd.NaT for r in rows],
                dtype="datetime64[ns, UTC]",
            ),
            "last_order_at": pd.Series(
                [AS_OF - r[2] if r[2] is not None else pd.NaT for r in rows],
                dtype="datetime64[ns, UTC]",
            ),
        }
    )


@pytest.mark.parametrize(
    ("_case", "frequency", "since_first", "since_last", "expected"),
    [
        ("no order", 0, None, None, "prospect"),
        ("first order exactly new_days ago", 1, 30 * DAY, 30 * DAY, "new"),
        ("first order just over new_days ago", 1, 30 * DAY + SECOND, 30 * DAY, "active"),
        ("last order exactly active_days ago", 2, 200 * DAY, 90 * DAY, "active"),
        ("last order just over active_days ago", 2, 200 * DAY, 90 * DAY + SECOND, "at_risk"),
        ("last order exactly lapsed_days ago", 2, 200 * DAY, 180 * DAY, "at_risk"),
        ("last order just over lapsed_days ago", 2, 200 * DAY, 180 * DAY + SECOND, "lapsed"),
        ("exactly loyal_min_orders, recent", 5, 300 * DAY, 10 * DAY, "loyal"),
        ("one order short of loyal", 4, 300 * DAY, 10 * DAY, "active"),
        ("loyal count but at risk", 9, 300 * DAY, 91 * DAY, "at_risk"),
        ("loyal count but lapsed", 9, 400 * DAY, 181 * DAY, "lapsed"),
        ("new beats loyal", 6, 20 * DAY, 1 * DAY, "new"),
        ("new customer with single order long ago is lapsed", 1, 365 * DAY, 365 * DAY, "lapsed"),
        ("order at as_of", 1, 0 * DAY, 0 * DAY, "new"),
    ],
)
def test_stage_rules_at_each_boundary(_case, frequency, since_first, since_last, expected):
    frame = _frame([(frequency, since_first, since_last)])

    stages = lifecycle_stages(frame, as_of=AS_OF, thresholds=LifecycleThresholds())

    assert stages.tolist() == [expected]


def test_missing_frequency_and_nat_mean_prospect_and_index_is_kept():
    frame = _frame([(3, 10 * DAY, 5 * DAY), (0, None, None)])
    frame.loc[1, "frequency"] = None
    frame.index = pd.Index([40, 41])

    stages = lifecycle_stages(frame, as_of=AS_OF)

    assert stages.index.tolist() == [40, 41]
    assert stages.name == "lifecycle_stage"
    assert stages.tolist() == ["new", "prospect"]


def test_custom_thresholds_move_the_boundaries():
    thresholds = LifecycleThresholds(new_days=7, active_days=14, lapsed_days=28, loyal_min_orders=3)
    frame = _frame(
        [
            (1, 7 * DAY, 7 * DAY),
            (1, 8 * DAY, 8 * DAY),
            (3, 60 * DAY, 14 * DAY),
            (3, 60 * DAY, 15 * DAY),
            (3, 60 * DAY, 29 * DAY),
        ]
    )

    stages = lifecycle_stages(frame, as_of=AS_OF, thresholds=thresholds)

    assert stages.tolist() == ["new", "active", "loyal", "at_risk", "lapsed"]


def test_prospects_come_from_a_left_join_of_all_profiles_onto_customer_rfm():
    orders = pd.DataFrame(
        {
            "profile_id": pd.Series([1, 1, 2, 3], dtype="int64"),
            "placed_at": pd.to_datetime(
                [
                    "2024-05-20T00:00:00Z",
                    "2023-01-01T00:00:00Z",
                    "2024-01-01T00:00:00Z",
                    "2024-05-30T00:00:00Z",
                ],
                utc=True,
            ),
            "total": [1.0, 2.0, 3.0, 4.0],
            "status": ["completed", "completed", "completed", "cancelled"],
        }
    )
    profiles = pd.DataFrame({"profile_id": pd.Series([1, 2, 3, 4], dtype="int64")})
    rfm = profiles.merge(customer_rfm(orders, as_of=AS_OF), on="profile_id", how="left")

    stages = lifecycle_stages(rfm, as_of=AS_OF)

    assert stages.tolist() == ["active", "at_risk", "prospect", "prospect"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"new_days": 0},
        {"new_days": 100},
        {"active_days": 180},
        {"loyal_min_orders": 1},
    ],
)
def test_inconsistent_thresholds_are_rejected(kwargs):
    with pytest.raises(ValueError, match=r"must|need"):
        LifecycleThresholds(**kwargs)


def test_orders_after_as_of_are_rejected():
    frame = _frame([(1, -DAY, -DAY)])
    with pytest.raises(ValueError, match="after as_of"):
        lifecycle_stages(frame, as_of=AS_OF)
