"""Tests for segments.compute.rfm: per-customer RFM, quantile scores and the segment map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdp.core.frames import MissingColumnsError
from segments.compute.rfm import (
    SEGMENT_GRID,
    SEGMENT_NAMES,
    customer_rfm,
    rfm_scores,
    rfm_segment,
    rfm_segments,
)

AS_OF = pd.Timestamp("2024-03-01T00:00:00Z")


def _orders(rows: list[tuple[int, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "profile_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "placed_at": pd.to_datetime([r[1] for r in rows], utc=True),
            "total": [r[2] for r in rows],
            "status": [r[3] for r in rows],
        }
    )


def test_customer_rfm_counts_completed_orders_before_as_of_only():
    orders = _orders(
        [
            (7, "2024-01-01T00:00:00Z", 10.0, "completed"),
            (7, "2024-02-20T12:00:00Z", 30.0, "completed"),
            (7, "2024-02-25T00:00:00Z", 99.0, "cancelled"),
            (7, "2024-03-01T00:00:00Z", 50.0, "completed"),  # at as_of: not before it
            (3, "2024-02-29T18:00:00Z", 5.5, "completed"),
            (9, "2024-02-01T00:00:00Z", 20.0, "refunded"),
        ]
    )

    rfm = customer_rfm(orders, as_of=AS_OF)

    assert rfm.columns.tolist() == [
        "profile_id",
        "recency_days",
        "frequency",
        "monetary",
        "first_order_at",
        "last_order_at",
        "aov",
    ]
    assert rfm["profile_id"].tolist() == [3, 7]
    assert rfm["recency_days"].tolist() == [0.25, 9.5]
    assert rfm["frequency"].tolist() == [1, 2]
    assert rfm["monetary"].tolist() == [5.5, 40.0]
    assert rfm["aov"].tolist() == [5.5, 20.0]
    assert rfm["first_order_at"].tolist() == [
        pd.Timestamp("2024-02-29T18:00:00Z"),
        pd.Timestamp("2024-01-01T00:00:00Z"),
    ]
    assert rfm["last_order_at"].tolist() == [
        pd.Timestamp("2024-02-29T18:00:00Z"),
        pd.Timestamp("2024-02-20T12:00:00Z"),
    ]


def test_customer_rfm_rejects_missing_columns_and_naive_times():
    orders = _orders([(1, "2024-01-01T00:00:00Z", 1.0, "completed")])
    with pytest.raises(MissingColumnsError, match="status"):
        customer_rfm(orders.drop(columns="status"), as_of=AS_OF)
    with pytest.raises(ValueError, match="as_of"):
        customer_rfm(orders, as_of=pd.Timestamp("2024-03-01"))
    naive = orders.assign(placed_at=orders["placed_at"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="placed_at"):
        customer_rfm(naive, as_of=AS_OF)


def _reference_scores(values: list[float], ids: list[int], bins: int, *, descending: bool):
    """Plain sorted loop: the k-th of n (ties by profile id) gets the first s with k/n <= s/bins."""
    keyed = sorted(
        zip(values, ids, strict=True), key=lambda v: ((-v[0] if descending else v[0]), v[1])
    )
    n = len(keyed)
    scores = {}
    for k, (_, profile_id) in enumerate(keyed, start=1):
        s = 1
        while k * bins > s * n:
            s += 1
        scores[profile_id] = s
    return [scores[i] for i in ids]


@pytest.mark.parametrize(
    ("_case", "n", "bins"), [("odd", 37, 5), ("three", 23, 3), ("small", 4, 5)]
)
def test_rfm_scores_match_a_sorted_loop_reference(_case, n, bins):
    rng = np.random.default_rng(n)
    ids = rng.permutation(np.arange(100, 100 + n)).tolist()
    rfm = pd.DataFrame(
        {
            "profile_id": ids,
            "recency_days": rng.integers(0, 6, n).astype(float),  # many ties
            "frequency": rng.integers(1, 4, n),
            "monetary": np.round(rng.gamma(2.0, 20.0, n), 0),
        },
        index=pd.RangeIndex(50, 50 + n),
    )
    before = rfm.copy()

    scores = rfm_scores(rfm, bins=bins)

    pd.testing.assert_frame_equal(rfm, before)
    assert scores.index.equals(rfm.index)
    assert scores["profile_id"].tolist() == ids
    recency = rfm["recency_days"].tolist()
    assert scores["r_score"].tolist() == _reference_scores(recency, ids, bins, descending=True)
    frequency = rfm["frequency"].tolist()
    assert scores["f_score"].tolist() == _reference_scores(frequency, ids, bins, descending=False)
    monetary = rfm["monetary"].tolist()
    assert scores["m_score"].tolist() == _reference_scores(monetary, ids, bins, descending=False)
    expected_cell = [f"{r}{f}{m}" for r, f, m in scores[["r_score", "f_score", "m_score"]].values]
    assert scores["rfm_cell"].tolist() == expected_cell


def test_rfm_scores_equal_pandas_qcut_on_first_ranks_when_bins_divide_n():
    rng = np.random.default_rng(5)
    n = 40
    rfm = pd.DataFrame(
        {
            "profile_id": np.arange(n),
            "recency_days": rng.integers(0, 10, n).astype(float),
            "frequency": rng.integers(1, 5, n),
            "monetary": rng.gamma(2.0, 20.0, n),
        }
    )

    scores = rfm_scores(rfm)

    for column, score in (("frequency", "f_score"), ("monetary", "m_score")):
        ranks = rfm[column].rank(method="first")
        reference = pd.qcut(ranks, 5, labels=[1, 2, 3, 4, 5]).astype(int)
        assert scores[score].tolist() == reference.tolist()
    recency_ranks = (-rfm["recency_days"]).rank(method="first")
    reference = pd.qcut(recency_ranks, 5, labels=[1, 2, 3, 4, 5]).astype(int)
    assert scores["r_score"].tolist() == reference.tolist()


def test_rfm_scores_use_every_score_with_fewer_distinct_values_than_bins():
    rfm = pd.DataFrame(
        {
            "profile_id": [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
            "recency_days": [3.0] * 10,
            "frequency": [1] * 10,
            "monetary": [10.0] * 5 + [20.0] * 5,
        }
    )

    scores = rfm_scores(rfm)

    # ties are split by ascending profile id, for recency as for the others
    assert scores["f_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scores["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scores["m_score"].tolist() == [3, 2, 2, 1, 1, 5, 5, 4, 4, 3]


def test_most_recent_customer_gets_the_highest_recency_score():
    rfm = pd.DataFrame(
        {
            "profile_id": [1, 2, 3, 4, 5],
            "recency_days": [400.0, 2.0, 90.0, 30.0, 200.0],
            "frequency": [1, 2, 3, 4, 5],
            "monetary": [5.0, 4.0, 3.0, 2.0, 1.0],
        }
    )

    scores = rfm_scores(rfm)

    assert scores["r_score"].tolist() == [1, 5, 3, 4, 2]
    assert scores["f_score"].tolist() == [1, 2, 3, 4, 5]
    assert scores["m_score"].tolist() == [5, 4, 3, 2, 1]
    assert scores["rfm_cell"].tolist() == ["115", "524", "333", "442", "251"]


def test_rfm_scores_of_an_empty_frame_are_empty_and_bad_bins_fail():
    empty = pd.DataFrame({"profile_id": [], "recency_days": [], "frequency": [], "monetary": []})
    assert len(rfm_scores(empty)) == 0
    with pytest.raises(ValueError, match="bins"):
        rfm_scores(empty, bins=0)


@pytest.mark.parametrize(
    ("r", "f", "expected"),
    [
        (5, 5, "Champions"),
        (5, 4, "Champions"),
        (4, 5, "Loyal"),
        (3, 4, "Loyal"),
        (5, 3, "Potential loyalists"),
        (4, 2, "Potential loyalists"),
        (5, 1, "New"),
        (4, 1, "Promising"),
        (3, 3, "Need attention"),
        (3, 2, "About to sleep"),
        (3, 1, "About to sleep"),
        (2, 4, "At risk"),
        (1, 3, "At risk"),
        (2, 5, "Can't lose them"),
        (1, 5, "Can't lose them"),
        (2, 2, "Hibernating"),
        (2, 1, "Hibernating"),
        (1, 2, "Lost"),
        (1, 1, "Lost"),
    ],
)
def test_segment_map_on_hand_picked_cells(r, f, expected):
    assert rfm_segment(r, f, 1) == expected
    assert rfm_segment(r, f, 5) == expected  # M does not move a customer between segments


def test_every_segment_name_is_reachable_and_no_other():
    assert {name for row in SEGMENT_GRID for name in row} == set(SEGMENT_NAMES)
    assert len(SEGMENT_NAMES) == 11


def test_vectorised_segments_agree_with_the_scalar_map_on_every_cell():
    cells = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    scores = pd.DataFrame(cells, columns=["r_score", "f_score", "m_score"], index=range(3, 128))

    segments = rfm_segments(scores)

    assert segments.index.equals(scores.index)
    assert segments.name == "rfm_segment"
    assert segments.tolist() == [rfm_segment(r, f, m) for r, f, m in cells]


def test_segments_reject_scores_outside_one_to_five():
    with pytest.raises(ValueError, match="r score"):
        rfm_segment(0, 3, 3)
    with pytest.raises(ValueError, match="f scores"):
        rfm_segments(pd.DataFrame({"r_score": [1], "f_score": [6], "m_score": [1]}))
