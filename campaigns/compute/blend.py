"""Campaigns compute layer: blend collaborative and content-based recommendations into one
ranked list per profile (bought-together first, then category affinity, then popular)."""

from __future__ import annotations

import pandas as pd

from campaigns.compute.recommendations import (
    CATEGORY,
    PRODUCT_ID,
    PROFILE_ID,
    RANK,
    SCORE,
    SOURCE,
    SOURCE_CO_PURCHASE,
)
from cdp.core.frames import require_columns

METHOD = "method"
METHOD_CO_PURCHASE = "co_purchase"
METHOD_CATEGORY = "category"
METHOD_POPULARITY = "popularity"
BLEND_COLUMNS = (PROFILE_ID, RANK, PRODUCT_ID, CATEGORY, SCORE, METHOD)
_ORDER = {METHOD_CO_PURCHASE: 0, METHOD_CATEGORY: 1, METHOD_POPULARITY: 2}


def blend_recommendations(
    co_purchase: pd.DataFrame,
    by_category: pd.DataFrame,
    categories: pd.DataFrame,
    n: int = 5,
) -> pd.DataFrame:
    """Top n distinct products per profile: co-purchase hits (score > 0) by their rank, then
    category-affinity picks by rank, then popularity fill-ins. `categories` maps product_id
    to category. Returns BLEND_COLUMNS with ranks 1..n. Raises ValueError for n < 1."""
    require_columns(co_purchase, {PROFILE_ID, PRODUCT_ID, SCORE, RANK, SOURCE})
    require_columns(by_category, {PROFILE_ID, PRODUCT_ID, SCORE, RANK})
    require_columns(categories, {PRODUCT_ID, CATEGORY})
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    collaborative = co_purchase.assign(
        **{
            METHOD: [
                METHOD_CO_PURCHASE
                if source == SOURCE_CO_PURCHASE and score > 0
                else METHOD_POPULARITY
                for source, score in zip(co_purchase[SOURCE], co_purchase[SCORE], strict=True)
            ]
        }
    )[[PROFILE_ID, PRODUCT_ID, SCORE, RANK, METHOD]]
    content = by_category.assign(**{METHOD: METHOD_CATEGORY})[
        [PROFILE_ID, PRODUCT_ID, SCORE, RANK, METHOD]
    ]
    combined = pd.concat([collaborative, content], ignore_index=True)
    if combined.empty:
        return pd.DataFrame({column: [] for column in BLEND_COLUMNS})
    combined["_order"] = combined[METHOD].map(_ORDER)
    combined = combined.sort_values([PROFILE_ID, "_order", RANK], kind="stable")
    combined = combined.drop_duplicates([PROFILE_ID, PRODUCT_ID], keep="first")
    combined[RANK] = combined.groupby(PROFILE_ID, sort=False).cumcount() + 1
    combined = combined[combined[RANK] <= n]
    lookup = categories.drop_duplicates(PRODUCT_ID).set_index(PRODUCT_ID)[CATEGORY]
    combined[CATEGORY] = combined[PRODUCT_ID].map(lookup).fillna("")
    return combined[list(BLEND_COLUMNS)].reset_index(drop=True)
