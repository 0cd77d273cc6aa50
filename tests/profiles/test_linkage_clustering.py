"""Decisions: thresholds, guarded components, privacy guards, survivors, pairwise scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.cluster import pair_confusion_matrix

from profiles.compute.linkage import Thresholds, decide_links, pairwise_scores

THRESHOLDS = Thresholds(auto_merge=0.99, review=0.5, contradiction=0.01, max_cluster_size=3)


def _records(n: int, **guards: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame({"record_id": np.arange(1, n + 1, dtype=np.int64)})
    for column, values in guards.items():
        frame[column] = pd.Series(values, dtype=object)
    return frame


def _scored(*rows: tuple[int, int, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["left", "right", "match_probability"])


def _review(decisions) -> list[tuple[int, int, str]]:
    frame = decisions.review_pairs
    return list(zip(frame["left"], frame["right"], frame["reason"].astype(str), strict=True))


def test_thresholds_split_merge_review_and_leave() -> None:
    scored = _scored((1, 2, 0.999), (3, 4, 0.7), (5, 6, 0.2))

    decisions = decide_links(scored, _records(6), THRESHOLDS)

    assert decisions.cluster_lists() == [(1, [1, 2])]
    assert _review(decisions) == [(3, 4, "between_thresholds")]
    assert decisions.counts["merged_records"] == 1


def test_a_chain_with_a_contradicting_pair_goes_to_review() -> None:
    scored = _scored((1, 2, 0.999), (2, 3, 0.999), (1, 3, 0.001), (4, 5, 0.999))

    decisions = decide_links(scored, _records(5), THRESHOLDS)

    assert decisions.cluster_lists() == [(4, [4, 5])]
    assert _review(decisions) == [
        (1, 2, "weak_link_in_component"),
        (2, 3, "weak_link_in_component"),
    ]
    assert decisions.counts["rejected_components"] == 1


def test_an_unsure_pair_inside_a_component_does_not_block_it() -> None:
    scored = _scored((1, 2, 0.999), (2, 3, 0.999), (1, 3, 0.2))

    decisions = decide_links(scored, _records(3), THRESHOLDS)

    assert decisions.cluster_lists() == [(1, [1, 2, 3])]
    assert decisions.review_pairs.empty


def test_components_over_the_size_cap_go_to_review() -> None:
    scored = _scored((1, 2, 0.999), (2, 3, 0.999), (3, 4, 0.999))

    decisions = decide_links(scored, _records(4), THRESHOLDS)

    assert decisions.clusters.empty
    assert {reason for _, _, reason in _review(decisions)} == {"component_too_large"}


def test_a_consent_conflict_is_never_auto_merged() -> None:
    records = _records(4, consent_signature=["email=1", "email=0", None, "email=1"])
    scored = _scored((1, 2, 0.9999), (3, 4, 0.9999))

    decisions = decide_links(scored, records, THRESHOLDS)

    assert decisions.cluster_lists() == [(3, [3, 4])]
    assert _review(decisions) == [(1, 2, "consent_conflict")]


def test_a_component_joining_two_consents_through_an_unknown_one_goes_to_review() -> None:
    records = _records(3, consent_signature=["email=1", None, "email=0"])
    scored = _scored((1, 2, 0.9999), (2, 3, 0.9999))

    decisions = decide_links(scored, records, THRESHOLDS)

    assert decisions.clusters.empty
    assert _review(decisions) == [(1, 2, "consent_conflict"), (2, 3, "consent_conflict")]


def test_a_jurisdiction_conflict_is_never_auto_merged() -> None:
    records = _records(2, jurisdiction=["DE", "US"])

    decisions = decide_links(_scored((1, 2, 0.9999)), records, THRESHOLDS)

    assert decisions.clusters.empty
    assert _review(decisions) == [(1, 2, "jurisdiction_conflict")]


def test_a_pair_whose_identity_fields_all_disagree_goes_to_review() -> None:
    scored = _scored((1, 2, 0.9999), (3, 4, 0.9999))
    scored["first_name_weight"] = [-5.0, -5.0]
    scored["birth_date_weight"] = [-4.0, 3.0]

    decisions = decide_links(scored, _records(4), THRESHOLDS)

    assert decisions.cluster_lists() == [(3, [3, 4])]
    assert _review(decisions) == [(1, 2, "identity_conflict")]


def test_the_survivor_is_the_smallest_id_unless_a_priority_says_otherwise() -> None:
    scored = _scored((5, 9, 0.999), (2, 9, 0.999))
    records = _records(9)

    by_id = decide_links(scored, records, THRESHOLDS)
    by_priority = decide_links(
        scored, records, THRESHOLDS, survivor_priority=pd.Series({9: 0, 5: 1})
    )

    assert by_id.cluster_lists() == [(2, [2, 5, 9])]
    assert by_priority.cluster_lists() == [(9, [2, 5, 9])]
    assert by_priority.clusters["survivor_id"].tolist() == [9, 9, 9]


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="contradiction <= review <= auto_merge"):
        Thresholds(auto_merge=0.5, review=0.9)


def test_pairwise_scores_agree_with_sklearn_pair_confusion() -> None:
    rng = np.random.default_rng(2)
    truth = pd.Series(rng.integers(0, 40, 300), index=np.arange(1000, 1300))
    predicted_labels = np.where(rng.random(300) < 0.8, truth.to_numpy(), rng.integers(0, 60, 300))
    in_a_cluster = rng.random(300) < 0.7
    clusters = pd.DataFrame(
        {"record_id": truth.index[in_a_cluster], "cluster_id": predicted_labels[in_a_cluster]}
    )

    scores = pairwise_scores(clusters, truth)

    full_prediction = np.where(in_a_cluster, predicted_labels, -1 - np.arange(300))
    (_, false_positive), (false_negative, true_positive) = pair_confusion_matrix(
        truth.to_numpy(), full_prediction
    )
    assert scores.precision == pytest.approx(true_positive / (true_positive + false_positive))
    assert scores.recall == pytest.approx(true_positive / (true_positive + false_negative))
    assert scores.true_positive_pairs == true_positive // 2


def test_pairwise_scores_on_a_hand_made_case() -> None:
    truth = pd.Series({1: "a", 2: "a", 3: "a", 4: "b", 5: "b"})
    clusters = pd.DataFrame({"record_id": [1, 2, 4, 5], "cluster_id": [0, 0, 0, 1]})

    scores = pairwise_scores(clusters, truth)

    assert (scores.true_positive_pairs, scores.predicted_pairs, scores.true_pairs) == (1, 3, 4)
    assert scores.f1 == pytest.approx(2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))
