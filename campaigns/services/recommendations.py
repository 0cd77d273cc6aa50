"""Campaigns services: refresh product recommendations per profile from viewed and bought
products (events read in chunks; models fitted in campaigns.compute; rows replaced at once)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

import pandas as pd

from campaigns.compute.blend import CATEGORY, blend_recommendations
from campaigns.compute.recommendations import (
    POPULARITY,
    PRODUCT_ID,
    PROFILE_ID,
    WEIGHT,
    category_affinity,
    co_purchase_similarity,
    recommend_by_category,
    recommend_co_purchased,
)
from campaigns.models import Recommendation
from profiles import public as profiles_public

logger = logging.getLogger(__name__)
VIEW_EVENTS = {"Product Viewed": 1.0, "Product Added": 2.0}
ORDER_EVENT = "Order Completed"
ORDER_WEIGHT = 3.0
LOOKBACK = timedelta(days=180)


def _products(event: str, properties: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if event == ORDER_EVENT:
        for item in properties.get("products") or []:
            if isinstance(item, dict) and item.get("product_id"):
                yield str(item["product_id"]), str(item.get("category") or "")
    elif properties.get("product_id"):
        yield str(properties["product_id"]), str(properties.get("category") or "")


def interactions_frame(*, since: datetime) -> pd.DataFrame:
    """One row per (profile, product) interaction: profile_id, product_id, category, weight,
    is_purchase — read from processed events in chunks."""
    names = [*VIEW_EVENTS, ORDER_EVENT]
    rows = (
        profiles_public.events_qs()
        .filter(event__in=names, timestamp__gte=since)
        .values_list("profile_id", "event", "payload__properties")
        .iterator(chunk_size=20_000)
    )
    records = []
    for profile_id, event, properties in rows:
        if not isinstance(properties, dict):
            continue
        weight = ORDER_WEIGHT if event == ORDER_EVENT else VIEW_EVENTS[event]
        for product_id, category in _products(event, properties):
            records.append((profile_id, product_id, category, weight, event == ORDER_EVENT))
    return pd.DataFrame.from_records(
        records, columns=[PROFILE_ID, PRODUCT_ID, CATEGORY, WEIGHT, "is_purchase"]
    )


def recommendations_refresh(*, n: int = 5, now: datetime | None = None) -> int:
    """Beat: recompute every profile's top n products (co-purchase cosine similarity, then
    category affinity × popularity) and replace the stored rows in one transaction.
    Idempotent. Returns the number of rows stored."""
    now = now or timezone.now()
    interactions = interactions_frame(since=now - LOOKBACK)
    if interactions.empty:
        return 0
    purchases = interactions[interactions["is_purchase"]][[PROFILE_ID, PRODUCT_ID]]
    catalogue = (
        interactions.groupby(PRODUCT_ID)
        .agg(**{CATEGORY: (CATEGORY, "last"), POPULARITY: (WEIGHT, "sum")})
        .reset_index()
    )
    profiles = interactions[PROFILE_ID].unique()
    if purchases.empty:
        collaborative = pd.DataFrame(columns=[PROFILE_ID, PRODUCT_ID, "score", "rank", "source"])
    else:
        similarity = co_purchase_similarity(purchases)
        collaborative = recommend_co_purchased(similarity, purchases, n=n, profile_ids=profiles)
    by_category = recommend_by_category(
        category_affinity(interactions[[PROFILE_ID, CATEGORY, WEIGHT]]), catalogue, purchases, n=n
    )
    blended = blend_recommendations(collaborative, by_category, catalogue, n=n)
    rows = [
        Recommendation(
            profile_id=int(row.profile_id),
            rank=int(row.rank),
            product_id=str(row.product_id)[:100],
            category=str(row.category)[:100],
            score=float(row.score),
            method=str(row.method),
            computed_at=now,
        )
        for row in blended.itertuples(index=False)
    ]
    with transaction.atomic():
        Recommendation.objects.all().delete()
        Recommendation.objects.bulk_create(rows, batch_size=5_000)
    logger.info("recommendations_refreshed", extra={"rows": len(rows)})
    return len(rows)
