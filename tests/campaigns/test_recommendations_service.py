"""Recommendations: blended ranking (pure) and the refresh from views and purchases."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import time_machine

from campaigns.compute.blend import blend_recommendations
from campaigns.models import Recommendation
from campaigns.services.recommendations import recommendations_refresh

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_blend_puts_co_purchases_first_then_categories_then_popular_without_duplicates():
    co = pd.DataFrame(
        {
            "profile_id": [1, 1, 1],
            "product_id": ["x", "y", "z"],
            "score": [0.9, 0.0, 0.0],
            "rank": [1, 2, 3],
            "source": ["co_purchase", "popularity", "popularity"],
        }
    )
    by_category = pd.DataFrame(
        {"profile_id": [1, 1], "product_id": ["y", "w"], "score": [0.5, 0.4], "rank": [1, 2]}
    )
    categories = pd.DataFrame(
        {"product_id": ["x", "y", "z", "w"], "category": ["a", "b", "c", "b"]}
    )

    blended = blend_recommendations(co, by_category, categories, n=3)

    assert blended[["product_id", "rank", "method", "category"]].values.tolist() == [
        ["x", 1, "co_purchase", "a"],
        ["y", 2, "category", "b"],
        ["w", 3, "category", "b"],
    ]


@pytest.mark.django_db
def test_refresh_recommends_what_similar_buyers_bought_and_replaces_old_rows(person, track):
    ids = {}
    with time_machine.travel(T0 - timedelta(days=3), tick=False):
        for user_id, products in (("a", ["p1", "p2"]), ("b", ["p1", "p2"]), ("c", ["p1"])):
            ids[user_id] = person(user_id)
            track(
                user_id,
                "Order Completed",
                order_id=f"o-{user_id}",
                total=10,
                currency="EUR",
                products=[{"product_id": pid, "category": "shoes"} for pid in products],
            )
        ids["v"] = person("v")
        track("v", "Product Viewed", product_id="p3", category="hats")
    Recommendation.objects.create(profile_id=999, rank=1, product_id="old", method="category")

    with time_machine.travel(T0, tick=False):
        stored = recommendations_refresh(n=2)
        assert recommendations_refresh(n=2) == stored  # idempotent

    def ranked(user_id):
        rows = Recommendation.objects.filter(profile_id=ids[user_id]).order_by("rank")
        return list(rows.values_list("product_id", "method"))

    assert ranked("c") == [("p2", "co_purchase")]  # bought together with p1 by a and b
    assert ranked("v") == [("p3", "category"), ("p1", "popularity")]  # viewed, then popular
    assert ranked("a") == []  # bought everything there is in its categories
    assert not Recommendation.objects.filter(profile_id=999).exists()
    assert Recommendation.objects.count() == stored == 3
