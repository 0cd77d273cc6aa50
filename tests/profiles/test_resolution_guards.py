"""Privacy and feedback guards on the linkage decisions, and the stored blocking-key hashes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from profiles.compute.linkage import DEFAULT_RULES, RECORD_COLUMNS, Thresholds
from profiles.compute.match_keys import match_key_frame
from profiles.compute.resolution_guards import (
    GRANTED,
    IDENTIFIER_COMPARISONS,
    UNKNOWN,
    WITHDRAWN,
    RecordGuards,
    guard_decisions,
)

THRESHOLDS = Thresholds(auto_merge=0.99, review=0.5)


def _records(count: int) -> pd.DataFrame:
    frame = pd.DataFrame({column: [None] * count for column in RECORD_COLUMNS})
    frame["record_id"] = np.arange(1, count + 1)
    return frame


def _pair(left: int, right: int, probability: float, *, email: str = "null", person: float = 20):
    return {
        "left": left,
        "right": right,
        "match_probability": probability,
        "match_weight": 10.0,
        "first_name_weight": person / 2,
        "last_name_weight": person / 2,
        "email_level": email,
        "email_weight": 16.0 if email == "exact" else 0.0,
    }


def _guards(count: int, consent: list[list[int]] | None = None, verified=None) -> RecordGuards:
    return RecordGuards(
        record_ids=np.arange(1, count + 1),
        consent=np.array(consent or [[]] * count, dtype=np.int8).reshape(count, -1),
        verified=np.zeros((count, len(IDENTIFIER_COMPARISONS)), dtype=bool)
        if verified is None
        else verified,
    )


def _decide(pairs, guards, rejected=None):
    scored = pd.DataFrame(pairs)
    return guard_decisions(
        scored, _records(guards.record_ids.size), guards, THRESHOLDS, rejected_pairs=rejected
    )


def test_strong_pairs_merge_without_guards():
    decisions = _decide([_pair(1, 2, 0.999)], _guards(2))

    assert decisions.cluster_lists() == [(1, [1, 2])]
    assert decisions.review_pairs.empty


@pytest.mark.parametrize(
    ("_case", "consent", "merged"),
    [
        ("granted_and_withdrawn", [[GRANTED], [WITHDRAWN]], False),
        ("granted_and_unknown", [[GRANTED], [UNKNOWN]], True),
        ("both_withdrawn", [[WITHDRAWN], [WITHDRAWN]], True),
    ],
)
def test_conflicting_consent_goes_to_review_unknown_does_not(_case, consent, merged):
    decisions = _decide([_pair(1, 2, 0.999)], _guards(2, consent))

    assert bool(decisions.cluster_lists()) is merged
    if not merged:
        assert decisions.review_pairs[["left", "right", "reason"]].values.tolist() == [
            [1, 2, "consent_conflict"]
        ]
        assert decisions.review_pairs["match_probability"].tolist() == [0.999]


def test_a_cluster_joining_conflicting_consent_through_a_third_record_is_reviewed():
    consent = [[GRANTED], [UNKNOWN], [WITHDRAWN]]
    pairs = [_pair(1, 2, 0.999), _pair(2, 3, 0.999)]

    decisions = _decide(pairs, _guards(3, consent))

    assert decisions.cluster_lists() == []
    assert set(decisions.review_pairs["reason"]) == {"consent_conflict"}
    assert decisions.counts["consent_demoted_clusters"] == 1


def test_an_unverified_shared_email_with_weak_person_evidence_is_reviewed():
    pairs = [_pair(1, 2, 0.9999, email="exact", person=1.0)]

    unverified = _decide(pairs, _guards(2))
    verified = _decide(pairs, _guards(2, verified=np.ones((2, 3), dtype=bool)))

    assert unverified.cluster_lists() == []
    assert unverified.review_pairs["reason"].tolist() == ["unverified_identifier"]
    assert verified.cluster_lists() == [(1, [1, 2])]


def test_a_rejected_pair_is_never_merged_and_blocks_its_cluster():
    pairs = [_pair(1, 2, 0.999), _pair(2, 3, 0.999), _pair(1, 3, 0.999)]
    rejected = pd.DataFrame({"left": [1], "right": [3]})

    decisions = _decide(pairs, _guards(3), rejected)

    assert decisions.cluster_lists() == []
    assert sorted(decisions.review_pairs[["left", "right"]].values.tolist()) == [[1, 2], [2, 3]]


def test_match_keys_are_stable_and_swapped_names_share_a_key():
    records = _records(3)
    records.loc[:, "first_name"] = ["Ada", "Lovelace", "Grace"]
    records.loc[:, "last_name"] = ["Lovelace", "Ada", "Hopper"]
    records.loc[:, "birth_date"] = ["1815-12-10", "1815-12-10", "1906-12-09"]

    first = match_key_frame(records, DEFAULT_RULES)
    second = match_key_frame(records.iloc[::-1].reset_index(drop=True), DEFAULT_RULES)

    assert sorted(first.itertuples(index=False)) == sorted(second.itertuples(index=False))
    keys = first.groupby("record_id")["key"].apply(set)
    assert keys[1] & keys[2]  # swapped names meet in one block
    assert not keys[1] & keys[3]
    assert (first["key"] > 0).all()
