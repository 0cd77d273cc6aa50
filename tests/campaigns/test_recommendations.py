import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from campaigns.compute import recommendations
from campaigns.compute.recommendations import (
    category_affinity,
    co_purchase_similarity,
    recommend_by_category,
    recommend_co_purchased,
)
from cdp.core.frames import MissingColumnsError

NO_EXCLUSIONS = pd.DataFrame({"profile_id": [], "product_id": []})


def records(frame):
    return [tuple(row) for row in frame.itertuples(index=False)]


def test_category_affinity_is_the_weight_share_per_profile():
    interactions = pd.DataFrame(
        {
            "profile_id": ["p1", "p1", "p1", "p2", "p3", "p3"],
            "category": ["shoes", "bags", "shoes", "hats", "bags", "hats"],
            "weight": [2.0, 1.0, 1.0, 0.0, 0.5, 0.5],
        }
    )
    result = category_affinity(interactions)
    assert records(result) == [
        ("p1", "shoes", 0.75),
        ("p1", "bags", 0.25),
        ("p3", "bags", 0.5),
        ("p3", "hats", 0.5),
    ]
    assert interactions["weight"].tolist() == [2.0, 1.0, 1.0, 0.0, 0.5, 0.5]  # not mutated


def test_category_affinity_rejects_negative_weights_and_missing_columns():
    with pytest.raises(ValueError, match="weight must be finite and non-negative"):
        category_affinity(pd.DataFrame({"profile_id": [1], "category": ["a"], "weight": [-1.0]}))
    with pytest.raises(MissingColumnsError, match="weight"):
        category_affinity(pd.DataFrame({"profile_id": [1], "category": ["a"]}))


CATALOGUE = pd.DataFrame(
    {
        "product_id": ["s1", "s2", "s3", "b1", "b2"],
        "category": ["shoes", "shoes", "shoes", "bags", "bags"],
        "popularity": [100.0, 50.0, 10.0, 80.0, 40.0],
    }
)


def test_recommend_by_category_scores_affinity_times_scaled_popularity():
    affinity = pd.DataFrame(
        {
            "profile_id": ["p1", "p1", "p2"],
            "category": ["shoes", "bags", "bags"],
            "affinity": [0.75, 0.25, 1.0],
        }
    )
    exclude = pd.DataFrame({"profile_id": ["p1", "p2"], "product_id": ["s1", "s1"]})
    result = recommend_by_category(affinity, CATALOGUE, exclude, n=3)
    assert list(result.columns) == ["profile_id", "product_id", "category", "score", "rank"]
    assert result["score"].tolist() == pytest.approx([0.375, 0.2, 0.1, 0.8, 0.4], abs=1e-15)
    assert records(result.drop(columns="score")) == [
        ("p1", "s2", "shoes", 1),
        ("p1", "b1", "bags", 2),
        ("p1", "b2", "bags", 3),
        ("p2", "b1", "bags", 1),
        ("p2", "b2", "bags", 2),
    ]


def test_recommend_by_category_breaks_ties_by_popularity_then_product_id():
    catalogue = pd.DataFrame(
        {
            "product_id": ["z", "y", "x", "w"],
            "category": ["a", "a", "b", "b"],
            "popularity": [10.0, 10.0, 20.0, 5.0],
        }
    )
    affinity = pd.DataFrame({"profile_id": [1, 1], "category": ["a", "b"], "affinity": [0.5, 0.25]})
    result = recommend_by_category(affinity, catalogue, NO_EXCLUSIONS, n=4)
    # scores: y 0.25, z 0.25, x 0.25 (0.25 * 20/20), w 0.0625; x is the most popular
    assert result["product_id"].tolist() == ["x", "y", "z", "w"]


def brute_force_by_category(affinity, catalogue, exclude, n):
    top = catalogue["popularity"].max()
    excluded = set(zip(exclude["profile_id"], exclude["product_id"], strict=True))
    rows = []
    for profile, group in affinity.groupby("profile_id"):
        candidates = []
        for category, share in zip(group["category"], group["affinity"], strict=True):
            for product in catalogue[catalogue["category"] == category].itertuples():
                if (profile, product.product_id) not in excluded:
                    score = share * product.popularity / top
                    candidates.append((-score, -product.popularity, product.product_id))
        for rank, (score, _, product_id) in enumerate(sorted(candidates)[:n], start=1):
            rows.append((profile, product_id, -score, rank))
    return rows


def test_recommend_by_category_equals_brute_force_with_heavy_exclusions():
    rng = np.random.default_rng(5)
    catalogue = pd.DataFrame(
        {
            "product_id": np.arange(120),
            "category": rng.integers(0, 6, 120),
            "popularity": rng.integers(0, 50, 120).astype(float),
        }
    )
    interactions = pd.DataFrame(
        {
            "profile_id": rng.integers(0, 40, 400),
            "category": rng.integers(0, 7, 400),  # category 6 has no products
            "weight": rng.random(400),
        }
    )
    exclude = pd.DataFrame(
        {"profile_id": rng.integers(0, 40, 900), "product_id": rng.integers(0, 120, 900)}
    )
    affinity = category_affinity(interactions)
    for n in (1, 3, 7):
        result = recommend_by_category(affinity, catalogue, exclude, n=n)
        got = [(p, q, s, r) for p, q, _, s, r in records(result)]
        expected = brute_force_by_category(affinity, catalogue, exclude, n)
        assert [row[:2] + row[3:] for row in got] == [row[:2] + row[3:] for row in expected]
        assert [row[2] for row in got] == pytest.approx([row[2] for row in expected], abs=1e-12)


def test_recommend_by_category_with_nothing_to_recommend_is_empty():
    affinity = pd.DataFrame({"profile_id": [1], "category": ["unknown"], "affinity": [1.0]})
    result = recommend_by_category(affinity, CATALOGUE, NO_EXCLUSIONS)
    assert result.empty
    assert list(result.columns) == ["profile_id", "product_id", "category", "score", "rank"]


def test_recommend_by_category_rejects_a_product_listed_twice():
    catalogue = pd.concat([CATALOGUE, CATALOGUE.head(1)])
    affinity = pd.DataFrame({"profile_id": [1], "category": ["shoes"], "affinity": [1.0]})
    with pytest.raises(ValueError, match="more than once"):
        recommend_by_category(affinity, catalogue, NO_EXCLUSIONS)


PURCHASES = pd.DataFrame(
    {
        "profile_id": ["a", "a", "b", "b", "b", "c", "c", "d", "a"],
        "product_id": [1, 2, 1, 2, 3, 2, 3, 4, 1],  # a bought 1 twice: counts once
    }
)


def test_co_purchase_similarity_is_the_cosine_of_buyer_vectors():
    similarity = co_purchase_similarity(PURCHASES)
    assert similarity.product_ids.tolist() == [1, 2, 3, 4]
    assert similarity.purchasers.tolist() == [2, 3, 2, 1]
    buyers = np.array(
        [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=float
    )  # rows a, b, c, d
    expected = cosine_similarity(buyers.T)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(similarity.matrix.toarray(), expected, atol=1e-15)
    # hand: products 1 and 2 share buyers a and b: 2 / sqrt(2 * 3)
    assert similarity.matrix[0, 1] == pytest.approx(2 / np.sqrt(6), abs=1e-15)


def test_recommend_co_purchased_ranks_by_summed_similarity_and_fills_with_popular():
    similarity = co_purchase_similarity(PURCHASES)
    result = recommend_co_purchased(similarity, PURCHASES, n=2, profile_ids=["a", "c", "new"])
    s12, s13, s23 = 2 / np.sqrt(6), 1 / np.sqrt(4), 2 / np.sqrt(6)
    assert records(result.drop(columns="score")) == [
        ("a", 3, 1, "co_purchase"),  # a bought 1, 2: 3 scores s13 + s23
        ("a", 4, 2, "popularity"),  # nothing else co-bought: most bought left
        ("c", 1, 1, "co_purchase"),  # c bought 2, 3: 1 scores s12 + s13
        ("c", 4, 2, "popularity"),
        ("new", 2, 1, "popularity"),  # cold start: three buyers
        ("new", 1, 2, "popularity"),  # two buyers, as product 3, smaller id first
    ]
    assert result["score"].tolist() == pytest.approx([s13 + s23, 0, s12 + s13, 0, 0, 0])


def test_recommend_co_purchased_can_keep_bought_products():
    similarity = co_purchase_similarity(PURCHASES)
    result = recommend_co_purchased(similarity, PURCHASES, n=4, exclude_bought=False)
    for_a = result[result["profile_id"] == "a"]
    # a: 3 scores s13 + s23; 1 and 2 both score s12 (from each other), and 2 has more
    # buyers; 4 nothing
    assert for_a["product_id"].tolist() == [3, 2, 1, 4]
    assert result["profile_id"].unique().tolist() == ["a", "b", "c", "d"]


def test_recommend_co_purchased_returns_fewer_rows_when_everything_was_bought():
    similarity = co_purchase_similarity(PURCHASES)
    result = recommend_co_purchased(similarity, PURCHASES, n=10)
    assert result.groupby("profile_id").size().to_dict() == {"a": 2, "b": 1, "c": 2, "d": 3}


def brute_force_co_purchased(purchases, n):
    products = np.sort(purchases["product_id"].unique())
    profiles = np.sort(purchases["profile_id"].unique())
    matrix = np.zeros((profiles.size, products.size))
    matrix[
        np.searchsorted(profiles, purchases["profile_id"]),
        np.searchsorted(products, purchases["product_id"]),
    ] = 1.0
    similarity = cosine_similarity(matrix.T)
    np.fill_diagonal(similarity, 0.0)
    buyers = matrix.sum(axis=0)
    rows = []
    for index, profile in enumerate(profiles):
        bought = matrix[index] > 0
        scores = similarity[bought].sum(axis=0)
        keys = [
            (-round(scores[j], 12), -buyers[j], products[j])
            for j in range(products.size)
            if not bought[j]
        ]
        for rank, (_, _, product) in enumerate(sorted(keys)[:n], start=1):
            rows.append((profile, product, rank))
    return rows


def random_purchases(seed, profiles=60, products=40, size=250):
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, products + 1)
    return pd.DataFrame(
        {
            "profile_id": rng.integers(0, profiles, size),
            "product_id": rng.choice(products, size, p=weights / weights.sum()) * 10,
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recommend_co_purchased_equals_brute_force(seed):
    purchases = random_purchases(seed)
    result = recommend_co_purchased(co_purchase_similarity(purchases), purchases, n=6)
    assert [row[:2] + row[3:4] for row in records(result)] == brute_force_co_purchased(purchases, 6)


def test_blocks_and_sparse_scoring_give_the_same_result(monkeypatch):
    purchases = random_purchases(4)
    similarity = co_purchase_similarity(purchases)
    whole = recommend_co_purchased(similarity, purchases, n=5)
    monkeypatch.setattr(recommendations, "_BLOCK_CELLS", 7 * 40)  # blocks of 7 profiles
    monkeypatch.setattr(recommendations, "_DENSE_CELLS", 0)  # sparse item matrix
    blocked = recommend_co_purchased(similarity, purchases, n=5)
    pd.testing.assert_frame_equal(blocked, whole)


def test_products_unknown_to_the_similarity_are_ignored():
    similarity = co_purchase_similarity(PURCHASES)
    later = pd.concat(
        [PURCHASES, pd.DataFrame({"profile_id": ["d"], "product_id": [99]})], ignore_index=True
    )
    result = recommend_co_purchased(similarity, later, n=1, profile_ids=["d"])
    assert records(result.drop(columns="score")) == [("d", 2, 1, "popularity")]


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_n_must_be_a_positive_integer(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        recommend_co_purchased(co_purchase_similarity(PURCHASES), PURCHASES, n=n)
