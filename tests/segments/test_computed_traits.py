"""Computed traits on the profile: exact values from SQL aggregates, incremental refresh when
events are processed, the full recompute, custom traits against pandas, the catalogue."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
import time_machine

from profiles.models import CatalogueEntry, ComputedTraits, Event, Profile
from profiles.services.computed_traits import (
    CustomTraitSpec,
    computed_scores_write,
    computed_traits_recompute_all,
    computed_traits_refresh,
    custom_traits_refresh,
)
from profiles.services.ingest import events_ingest

from . import builders as b

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def shopper():
    who = b.profile({"country": "DE"})
    now = b.NOW
    for days, total, category, status in (
        (2, 100.0, "shoes", "completed"),
        (40, 50.0, "shoes", "completed"),
        (200, 30.0, "bags", "completed"),
        (10, 999.0, "bags", "refunded"),
    ):
        b.order(who, now - days * DAY, total, category=category, status=status)
    # Two sessions of page views in the last 30 days (a 40-minute gap splits them).
    start = now - 3 * DAY
    for offset in (0, 5, 10):
        b.event(who, "", start + offset * MINUTE, kind="page")
    for offset in (50, 52):
        b.event(who, "", start + offset * MINUTE, kind="page")
    b.event(who, "", now - 45 * DAY, kind="page")  # outside the 30-day window
    for days in (5, 20):
        b.event(who, "Email Delivered", now - days * DAY)
        b.event(who, "Email Opened", now - days * DAY + MINUTE)
    b.event(who, "Email Clicked", now - 5 * DAY + 2 * MINUTE)
    b.event(who, "Email Delivered", now - 100 * DAY)  # outside the 90-day window
    b.event(who, "Checkout Started", now - 6 * DAY)  # abandoned
    b.event(who, "Checkout Started", now - 4 * DAY)
    b.event(who, "Order Completed", now - 4 * DAY + 20 * MINUTE)  # completed within the hour
    b.event(who, "Checkout Started", now - 30 * MINUTE)  # too recent to call abandoned
    return who


def test_built_in_traits_are_exact(shopper):
    computed_traits_refresh(profile_ids=[shopper.pk], now=b.NOW)

    row = ComputedTraits.objects.get(profile=shopper)
    assert (row.orders_count, float(row.lifetime_value), float(row.average_order_value)) == (
        3,
        180.0,
        60.0,
    )
    assert (row.orders_30d, row.orders_90d, row.orders_365d) == (1, 2, 3)
    assert (float(row.revenue_30d), float(row.revenue_90d), float(row.revenue_365d)) == (
        100.0,
        150.0,
        180.0,
    )
    assert (row.first_order_at, row.last_order_at) == (b.NOW - 200 * DAY, b.NOW - 2 * DAY)
    assert row.favourite_category == "shoes"
    assert row.purchase_velocity == pytest.approx(3 / (200 / 30))
    assert (row.sessions_30d, row.avg_session_seconds, row.pages_per_session) == (2, 360.0, 2.5)
    assert (row.email_opens_90d, row.email_clicks_90d) == (2, 1)
    assert (row.email_open_rate, row.email_click_rate) == (1.0, 0.5)
    assert row.cart_abandonments_30d == 1
    assert row.first_seen_at == b.NOW - 100 * DAY
    assert row.last_seen_at == b.NOW - 30 * MINUTE
    visit = 0.5 ** ((30 / 1440) / 14)
    assert row.engagement_score == pytest.approx(
        round(100 * (0.3 * visit + 0.25 * 2 / 8 + 0.25 * 2 / 3 + 0.2 * 1 / 4), 2)
    )


def test_a_profile_without_activity_gets_zeros_and_blanks():
    quiet = b.profile()

    computed_traits_refresh(profile_ids=[quiet.pk], now=b.NOW)

    row = ComputedTraits.objects.get(profile=quiet)
    assert (row.orders_count, row.sessions_30d, row.engagement_score) == (0, 0, 0.0)
    assert (row.average_order_value, row.purchase_velocity, row.email_open_rate) == (
        None,
        None,
        None,
    )
    assert (row.last_order_at, row.favourite_category) == (None, "")


def test_recompute_all_equals_the_incremental_refresh_and_is_idempotent(shopper):
    other = b.profile()
    b.order(other, b.NOW - DAY, 10.0)
    computed_traits_refresh(profile_ids=[shopper.pk, other.pk], now=b.NOW)
    incremental = list(ComputedTraits.objects.order_by("pk").values())

    assert computed_traits_recompute_all(chunk_size=1, now=b.NOW) == 2
    assert computed_traits_recompute_all(chunk_size=1, now=b.NOW) == 2

    assert list(ComputedTraits.objects.order_by("pk").values()) == incremental


def test_processing_events_refreshes_the_touched_profiles(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with time_machine.travel(b.NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[
                {"type": "identify", "userId": "u1", "traits": {"country": "Germany", "vip": True}},
                {
                    "type": "track",
                    "userId": "u1",
                    "event": "Order Completed",
                    "timestamp": "2025-06-14T10:00:00Z",
                    "properties": {
                        "order_id": "o1",
                        "total": 80,
                        "category": "hats",
                        "currency": "EUR",
                    },
                },
            ],
        )

    profile = Profile.objects.get()
    row = ComputedTraits.objects.get(profile=profile)
    assert (row.orders_count, float(row.lifetime_value), row.favourite_category) == (
        1,
        80.0,
        "hats",
    )
    assert set(CatalogueEntry.objects.values_list("kind", "event", "name")) >= {
        ("event", "", "Order Completed"),
        ("property", "Order Completed", "total"),
        ("property", "Order Completed", "category"),
        ("trait", "", "country"),
        ("trait", "", "vip"),
    }
    assert CatalogueEntry.objects.get(kind="trait", name="vip").value_type == "boolean"
    assert Event.objects.filter(status="processed").count() == 2


def test_custom_traits_match_pandas(shopper):
    other = b.profile()
    rows = [
        (shopper, 3, {"price": 10, "sku": "a"}),
        (shopper, 8, {"price": 30, "sku": "b"}),
        (shopper, 40, {"price": 99, "sku": "a"}),
        (other, 1, {"price": "n/a", "sku": "c"}),
    ]
    for who, days, properties in rows:
        b.event(who, "Product Viewed", b.NOW - days * DAY, properties)
    computed_traits_refresh(profile_ids=[shopper.pk, other.pk], now=b.NOW)
    specs = [
        CustomTraitSpec(
            key="views_30d", event="Product Viewed", property="", aggregate="count", window_days=30
        ),
        CustomTraitSpec(
            key="spend_viewed",
            event="Product Viewed",
            property="price",
            aggregate="sum",
            window_days=None,
        ),
        CustomTraitSpec(
            key="avg_price_30d",
            event="Product Viewed",
            property="price",
            aggregate="avg",
            window_days=30,
        ),
        CustomTraitSpec(
            key="max_price",
            event="Product Viewed",
            property="price",
            aggregate="max",
            window_days=None,
        ),
        CustomTraitSpec(
            key="skus",
            event="Product Viewed",
            property="sku",
            aggregate="distinct",
            window_days=None,
        ),
    ]

    with time_machine.travel(b.NOW, tick=False):
        custom_traits_refresh(traits=specs)

    frame = pd.DataFrame(
        [(who.pk, days, props.get("price"), props["sku"]) for who, days, props in rows],
        columns=["profile_id", "days", "price", "sku"],
    )
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce")
    recent = frame.loc[frame["days"] <= 30]
    expected = {
        "views_30d": recent.groupby("profile_id").size(),
        "spend_viewed": frame.groupby("profile_id")["price"].sum(min_count=1),
        "avg_price_30d": recent.groupby("profile_id")["price"].mean(),
        "max_price": frame.groupby("profile_id")["price"].max(),
        "skus": frame.groupby("profile_id")["sku"].nunique(),
    }
    for who in (shopper, other):
        custom = ComputedTraits.objects.get(profile=who).custom
        for key, series in expected.items():
            value = series.get(who.pk)
            assert custom[key] == (None if pd.isna(value) else pytest.approx(float(value))), (
                key,
                who,
            )


def test_scores_are_written_and_cleared(shopper):
    computed_traits_refresh(profile_ids=[shopper.pk], now=b.NOW)
    scores = pd.DataFrame(
        {
            "profile_id": [shopper.pk],
            "r_score": [5],
            "f_score": [4],
            "m_score": [3],
            "rfm_segment": ["Champions"],
        }
    )

    computed_scores_write(scores=scores, scored_at=b.NOW)
    row = ComputedTraits.objects.get(profile=shopper)
    assert (row.r_score, row.f_score, row.m_score, row.rfm_segment, row.scored_at) == (
        5,
        4,
        3,
        "Champions",
        b.NOW,
    )

    cleared = scores.assign(r_score=[None], rfm_segment=[""])
    computed_scores_write(scores=cleared, scored_at=b.NOW)
    row.refresh_from_db()
    assert (row.r_score, row.f_score, row.rfm_segment) == (None, 4, "")
