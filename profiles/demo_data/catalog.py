"""Demo data: the retailer's product catalogue and how customers pick products from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .personas import CATEGORIES

PRODUCTS_PER_CATEGORY = 60
MEDIAN_PRICE = (95.0, 55.0, 60.0, 85.0, 30.0, 22.0, 20.0, 35.0, 25.0)  # per CATEGORIES entry
SKU_PREFIX = ("NS", "WW", "MW", "SH", "AC", "SL", "BT", "HM", "KD")


@dataclass(frozen=True, kw_only=True, eq=False)
class Catalog:
    """Products sorted by price inside each category, category c at rows c*N .. c*N+N-1."""

    product_id: np.ndarray  # object, e.g. "P10231"
    sku: np.ndarray  # object, e.g. "SH-48213"
    category: np.ndarray  # int index into CATEGORIES
    price: np.ndarray  # float, two decimals

    @classmethod
    def build(cls, rng: np.random.Generator) -> Catalog:
        """Draw PRODUCTS_PER_CATEGORY products per category with log-normal prices."""
        n = PRODUCTS_PER_CATEGORY
        categories = np.repeat(np.arange(len(CATEGORIES)), n)
        raw = np.exp(np.log(np.repeat(MEDIAN_PRICE, n)) + rng.normal(0, 0.5, categories.size))
        raw = np.sort(raw.reshape(len(CATEGORIES), n), axis=1).ravel()
        price = np.maximum(np.round(raw) - 0.05, 2.95)
        numbers = rng.choice(np.arange(10_000, 100_000), size=categories.size, replace=False)
        product_id = np.array([f"P{value}" for value in numbers.tolist()], dtype=object)
        sku = np.array(
            [
                f"{SKU_PREFIX[c]}-{v}"
                for c, v in zip(categories.tolist(), numbers.tolist(), strict=True)
            ],
            dtype=object,
        )
        return cls(product_id=product_id, sku=sku, category=categories, price=price)

    def pick(
        self, rng: np.random.Generator, *, category_preferences: np.ndarray, price_level: np.ndarray
    ) -> np.ndarray:
        """One product row per input row: category by preference, price near the price level.

        `category_preferences` is (rows, categories) with rows summing to 1; `price_level` is
        each row's quantile (0..1) inside a category's price range.
        """
        cumulative = np.cumsum(category_preferences, axis=1)
        draw = rng.random(len(price_level))[:, None]
        category = np.minimum((cumulative < draw).sum(axis=1), len(CATEGORIES) - 1)
        quantile = np.clip(price_level + rng.normal(0, 0.15, len(price_level)), 0.0, 0.999)
        return category * PRODUCTS_PER_CATEGORY + (quantile * PRODUCTS_PER_CATEGORY).astype(int)
