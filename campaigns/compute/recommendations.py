"""Campaigns compute layer: product recommendations (category affinity and co-purchase)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from cdp.core.frames import require_columns

PROFILE_ID = "profile_id"
PRODUCT_ID = "product_id"
CATEGORY = "category"
WEIGHT = "weight"
POPULARITY = "popularity"
AFFINITY = "affinity"
SCORE = "score"
RANK = "rank"
SOURCE = "source"
SOURCE_CO_PURCHASE = "co_purchase"
SOURCE_POPULARITY = "popularity"

RECOMMENDATION_COLUMNS = (PROFILE_ID, PRODUCT_ID, SCORE, RANK, SOURCE)
CATEGORY_RECOMMENDATION_COLUMNS = (PROFILE_ID, PRODUCT_ID, CATEGORY, SCORE, RANK)

# Scoring works on dense blocks of (profiles × products) of at most this many cells.
_BLOCK_CELLS = 1 << 22
# Item-item matrices up to this many cells are multiplied as dense arrays (faster when the
# co-purchase graph is dense); larger catalogues stay sparse.
_DENSE_CELLS = 1 << 24


@dataclass(frozen=True, kw_only=True, eq=False)
class ItemSimilarity:
    """Item-item cosine similarity of co-purchases.

    matrix[i, j] = (buyers of both i and j) / sqrt(buyers of i · buyers of j), zero diagonal;
    row and column i stand for product_ids[i], bought by purchasers[i] distinct profiles.
    """

    product_ids: np.ndarray
    matrix: sparse.csr_matrix
    purchasers: np.ndarray


def _check_positive_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def _check_non_negative(frame: pd.DataFrame, column: str) -> None:
    values = pd.to_numeric(frame[column], errors="coerce")
    if not (np.isfinite(values.to_numpy(dtype=np.float64)) & (values >= 0).to_numpy()).all():
        raise ValueError(f"{column} must be finite and non-negative")


def category_affinity(interactions: pd.DataFrame) -> pd.DataFrame:
    """Share of each profile's interaction weight per category (sums to 1 per profile).

    Returns [profile_id, category, affinity] sorted by profile, then affinity descending.
    Profiles whose weights sum to zero are left out. Raises ValueError for negative weights.
    """
    require_columns(interactions, {PROFILE_ID, CATEGORY, WEIGHT})
    _check_non_negative(interactions, WEIGHT)
    totals = (
        interactions.groupby([PROFILE_ID, CATEGORY], sort=False, observed=True)[WEIGHT]
        .sum()
        .astype(np.float64)
        .rename(AFFINITY)
        .reset_index()
    )
    per_profile = totals.groupby(PROFILE_ID, sort=False)[AFFINITY].transform("sum")
    totals[AFFINITY] = totals[AFFINITY] / per_profile
    totals = totals[per_profile > 0]
    return totals.sort_values(
        [PROFILE_ID, AFFINITY, CATEGORY], ascending=[True, False, True], ignore_index=True
    )


def _ranked_catalogue(catalogue: pd.DataFrame) -> pd.DataFrame:
    if catalogue[PRODUCT_ID].duplicated().any():
        raise ValueError("catalogue lists a product_id more than once")
    _check_non_negative(catalogue, POPULARITY)
    ranked = catalogue[[PRODUCT_ID, CATEGORY, POPULARITY]].sort_values(
        [CATEGORY, POPULARITY, PRODUCT_ID], ascending=[True, False, True], ignore_index=True
    )
    ranked["_position"] = ranked.groupby(CATEGORY, sort=False).cumcount()
    return ranked


def _category_candidates(
    affinity: pd.DataFrame, ranked: pd.DataFrame, exclude: pd.DataFrame, n: int
) -> pd.DataFrame:
    """Per (profile, category), the top n + (excluded there) products; never the whole
    category. Pairs are grouped by that limit rounded up to a power of two, so the join
    loops over at most ~log2(max exclusions) groups rather than over profiles."""
    excluded_here = (
        exclude.merge(ranked[[PRODUCT_ID, CATEGORY]], on=PRODUCT_ID)
        .groupby([PROFILE_ID, CATEGORY], sort=False)
        .size()
        .rename("_excluded")
        .reset_index()
    )
    pairs = affinity.merge(excluded_here, on=[PROFILE_ID, CATEGORY], how="left")
    pairs["_limit"] = n + pairs["_excluded"].fillna(0).astype(np.int64)
    groups = np.ceil(np.log2(pairs["_limit"].to_numpy(dtype=np.float64))).astype(np.int64)
    parts = []
    for group in np.unique(groups):
        subset = pairs[groups == group]
        top = ranked[ranked["_position"] < 2**group]
        joined = subset.merge(top, on=CATEGORY)
        parts.append(joined[joined["_position"] < joined["_limit"]])
    columns = [PROFILE_ID, CATEGORY, AFFINITY, PRODUCT_ID, POPULARITY]
    if not parts:
        return pd.DataFrame({column: [] for column in columns})
    return pd.concat(parts, ignore_index=True)[columns]


def recommend_by_category(
    affinity: pd.DataFrame,
    catalogue: pd.DataFrame,
    exclude: pd.DataFrame,
    n: int = 5,
) -> pd.DataFrame:
    """Top n products per profile by category affinity × popularity (scaled to max 1).

    Products listed in `exclude` for a profile (e.g. already bought) are skipped; ties go to
    the more popular product, then the smaller product_id. Returns [profile_id, product_id,
    category, score, rank]. Raises ValueError for duplicate products or negative popularity.
    """
    require_columns(affinity, {PROFILE_ID, CATEGORY, AFFINITY})
    require_columns(catalogue, {PRODUCT_ID, CATEGORY, POPULARITY})
    require_columns(exclude, {PROFILE_ID, PRODUCT_ID})
    _check_positive_n(n)
    if affinity.duplicated([PROFILE_ID, CATEGORY]).any():
        raise ValueError("affinity lists a (profile_id, category) pair more than once")
    ranked = _ranked_catalogue(catalogue)
    excluded = exclude[[PROFILE_ID, PRODUCT_ID]].drop_duplicates()
    candidates = _category_candidates(
        affinity[[PROFILE_ID, CATEGORY, AFFINITY]], ranked, excluded, n
    )
    if candidates.empty:
        return pd.DataFrame({column: [] for column in CATEGORY_RECOMMENDATION_COLUMNS})
    if not excluded.empty:
        candidates = candidates.merge(
            excluded, on=[PROFILE_ID, PRODUCT_ID], how="left", indicator=True
        )
        candidates = candidates[candidates["_merge"] == "left_only"]
    top_popularity = float(ranked[POPULARITY].max()) if len(ranked) else 0.0
    popularity_factor = (
        candidates[POPULARITY].astype(np.float64) / top_popularity if top_popularity > 0 else 1.0
    )
    candidates = candidates.assign(**{SCORE: candidates[AFFINITY] * popularity_factor})
    profile_codes = pd.factorize(candidates[PROFILE_ID], sort=True)[0]
    product_codes = pd.factorize(candidates[PRODUCT_ID], sort=True)[0]
    order = np.lexsort(
        (
            product_codes,
            -candidates[POPULARITY].to_numpy(dtype=np.float64),
            -candidates[SCORE].to_numpy(dtype=np.float64),
            profile_codes,
        )
    )
    rank = _rank_in_runs(profile_codes[order])
    best = candidates.iloc[order[rank <= n]].assign(**{RANK: rank[rank <= n]})
    return best[list(CATEGORY_RECOMMENDATION_COLUMNS)].reset_index(drop=True)


def _rank_in_runs(groups: np.ndarray) -> np.ndarray:
    """1, 2, 3, … within each run of equal consecutive values of `groups`."""
    if groups.size == 0:
        return np.ones(0, dtype=np.int64)
    starts = np.r_[True, groups[1:] != groups[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(groups.size), 0))
    return np.arange(groups.size, dtype=np.int64) - run_start + 1


def _purchase_matrix(
    profile_index: np.ndarray, product_index: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_matrix:
    ones = np.ones(profile_index.size, dtype=np.float64)
    matrix = sparse.csr_matrix((ones, (profile_index, product_index)), shape=shape)
    matrix.data[:] = 1.0  # repeated purchases of one product count once
    return matrix


def co_purchase_similarity(purchases: pd.DataFrame) -> ItemSimilarity:
    """Item-item cosine similarity of who bought what (binary profile × product matrix X).

    One sparse product XᵀX gives co-purchase counts; scaling by 1/sqrt(buyers) on both
    sides gives the cosine. Products are indexed in sorted product_id order.
    """
    require_columns(purchases, {PROFILE_ID, PRODUCT_ID})
    profile_index, _ = pd.factorize(purchases[PROFILE_ID], sort=True)
    product_index, product_ids = pd.factorize(purchases[PRODUCT_ID], sort=True)
    if (profile_index < 0).any() or (product_index < 0).any():
        raise ValueError("purchases must not contain missing profile_id or product_id")
    matrix = _purchase_matrix(
        profile_index, product_index, (int(profile_index.max(initial=-1)) + 1, len(product_ids))
    )
    co_counts = (matrix.T @ matrix).tocsr()
    purchasers = co_counts.diagonal().astype(np.int64)
    inverse_root = sparse.diags(1.0 / np.sqrt(np.maximum(purchasers, 1)))
    cosine = (inverse_root @ co_counts @ inverse_root).tocsr()
    cosine.setdiag(0.0)
    cosine.eliminate_zeros()
    return ItemSimilarity(product_ids=np.asarray(product_ids), matrix=cosine, purchasers=purchasers)


def _top_n_block(
    scores: np.ndarray, bought: sparse.csr_matrix, n: int, exclude_bought: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top n columns per row of `scores` (overwritten), by n passes of a row-wise argmax.

    Columns are sorted by popularity and argmax takes the first of equal values, so ties,
    including the zero scores of products without co-purchases, go to the more popular
    product: the popularity fallback needs no second pass. Returns (rows, columns, scores).
    """
    if exclude_bought:
        bought_rows, bought_columns = bought.nonzero()
        scores[bought_rows, bought_columns] = -np.inf
    height, width = scores.shape
    take = min(n, width)
    every_row = np.arange(height)
    chosen = np.empty((height, take), dtype=np.int64)
    values = np.empty((height, take), dtype=np.float64)
    for position in range(take):
        best = scores.argmax(axis=1)
        chosen[:, position] = best
        values[:, position] = scores[every_row, best]
        scores[every_row, best] = -np.inf
    valid = np.isfinite(values)  # -inf: nothing left to recommend in that row
    rows = np.broadcast_to(every_row[:, None], chosen.shape)
    return rows[valid], chosen[valid], values[valid]


def recommend_co_purchased(
    similarity: ItemSimilarity,
    purchases: pd.DataFrame,
    n: int = 5,
    exclude_bought: bool = True,
    *,
    profile_ids: pd.Series | np.ndarray | list[object] | None = None,
) -> pd.DataFrame:
    """Top n products per profile by summed similarity to what the profile bought.

    Scores are X·S in blocks of profiles (sparse products, no per-profile loop); picking the
    top n costs n row-wise argmax passes per block, so keep n small. Profiles with
    fewer than n co-purchase candidates, and cold-start profiles in `profile_ids` without any
    purchase, are filled with the most bought products (source "popularity", score 0).
    Products unknown to `similarity` are ignored. Ties between equal scores go to the more
    popular product. Returns [profile_id, product_id, score, rank, source] in profile order
    (`profile_ids`, default: sorted profiles of `purchases`).
    """
    require_columns(purchases, {PROFILE_ID, PRODUCT_ID})
    _check_positive_n(n)
    if profile_ids is None:
        profiles = np.sort(purchases[PROFILE_ID].dropna().unique())
    else:
        profiles = pd.Index(profile_ids).unique().to_numpy()
    by_popularity = np.lexsort((np.arange(similarity.purchasers.size), -similarity.purchasers))
    product_column = pd.Index(similarity.product_ids[by_popularity])
    profile_index = pd.Index(profiles).get_indexer(purchases[PROFILE_ID])
    product_index = product_column.get_indexer(purchases[PRODUCT_ID])
    known = (profile_index >= 0) & (product_index >= 0)
    bought = _purchase_matrix(
        profile_index[known], product_index[known], (len(profiles), len(product_column))
    )
    item_matrix = similarity.matrix[by_popularity][:, by_popularity]
    if len(product_column) ** 2 <= _DENSE_CELLS:
        item_matrix = item_matrix.toarray()
    rows_per_block = max(1, _BLOCK_CELLS // max(len(product_column), 1))
    parts = []
    for start in range(0, len(profiles), rows_per_block):
        block = bought[start : start + rows_per_block]
        product = block @ item_matrix
        scores = product.toarray() if sparse.issparse(product) else np.asarray(product)
        rows, columns, values = _top_n_block(scores, block, n, exclude_bought)
        parts.append((rows + start, columns, values))
    return _recommendation_frame(parts, profiles, product_column)


def _recommendation_frame(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    profiles: np.ndarray,
    product_column: pd.Index,
) -> pd.DataFrame:
    if not parts or len(product_column) == 0:
        return pd.DataFrame({column: [] for column in RECOMMENDATION_COLUMNS})
    rows = np.concatenate([part[0] for part in parts])
    columns = np.concatenate([part[1] for part in parts])
    scores = np.concatenate([part[2] for part in parts])
    return pd.DataFrame(
        {
            PROFILE_ID: profiles[rows],
            PRODUCT_ID: product_column.to_numpy()[columns],
            SCORE: np.where(scores > 0, scores, 0.0),
            RANK: _rank_in_runs(rows),
            SOURCE: pd.Categorical.from_codes(
                (scores <= 0).astype(np.int8), categories=[SOURCE_CO_PURCHASE, SOURCE_POPULARITY]
            ),
        }
    )
