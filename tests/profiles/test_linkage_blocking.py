"""Blocking: exact candidate pairs, the block-size cap, incremental pairs and recall."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import jellyfish
import numpy as np
import pandas as pd
import pytest

from cdp.core.frames import MissingColumnsError
from profiles.compute.linkage import (
    DEFAULT_RULES,
    BlockingRule,
    KeyPart,
    blocking_keys,
    blocking_recall,
    candidate_pairs,
    candidate_pairs_against,
)
from profiles.compute.linkage.records import RECORD_COLUMNS
from tests.profiles.linkage_synth import synthetic_linkage


def _records(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    frame["record_id"] = frame["record_id"].astype("int64")
    return frame.astype(dict.fromkeys(RECORD_COLUMNS[1:], object))


def _person(record_id: int, first: str | None, last: str | None, **fields: object) -> dict:
    return {"record_id": record_id, "first_name": first, "last_name": last, **fields}


def _pairs(frame: pd.DataFrame) -> list[tuple[int, int]]:
    return list(zip(frame["left"].tolist(), frame["right"].tolist(), strict=True))


PHONE = BlockingRule(name="phone", parts=(KeyPart(columns=("phone",), transform="digits"),))
POSTCODE_INITIAL = BlockingRule(
    name="postcode_initial",
    parts=(
        KeyPart(columns=("postal_code",)),
        KeyPart(columns=("first_name",), transform="initial"),
    ),
)
SWAPPED = BlockingRule(
    name="swapped",
    parts=(KeyPart(columns=("first_name", "last_name"), transform="soundex"),),
)
HAND_MADE = _records(
    [
        _person(1, "Anna", "Meyer", phone="+4911", postal_code="10115"),
        _person(2, "Anne", "Schulz", phone="+49 11", postal_code="80331"),
        _person(3, "Albert", "Kraus", postal_code="10115"),
        _person(4, "Meyer", "Anna"),
        _person(5, "Bernd", "Meyer", phone="+4922", postal_code="10115"),
        _person(6, "Brigitte", "Lang", postal_code="10115"),
    ]
)


def test_hand_made_frame_yields_exactly_the_expected_pairs_and_counts() -> None:
    pairs, stats = candidate_pairs(HAND_MADE, [PHONE, POSTCODE_INITIAL, SWAPPED])

    assert _pairs(pairs) == [(1, 2), (1, 3), (1, 4), (5, 6)]
    assert stats[["rule", "pairs", "new_pairs", "skipped_blocks"]].to_dict("records") == [
        {"rule": "phone", "pairs": 1, "new_pairs": 1, "skipped_blocks": 0},
        {"rule": "postcode_initial", "pairs": 2, "new_pairs": 2, "skipped_blocks": 0},
        {"rule": "swapped", "pairs": 1, "new_pairs": 1, "skipped_blocks": 0},
    ]


def test_pairs_found_by_an_earlier_rule_are_not_new() -> None:
    pairs, stats = candidate_pairs(HAND_MADE, [SWAPPED, PHONE, SWAPPED])

    assert _pairs(pairs) == [(1, 2), (1, 4)]
    assert stats["new_pairs"].tolist() == [1, 1, 0]
    assert stats["pairs"].tolist() == [1, 1, 1]


def test_swapped_names_share_one_unordered_key() -> None:
    keys = blocking_keys(HAND_MADE, SWAPPED)

    assert keys[0] == keys[3]
    assert len(set(keys.tolist())) == 5


def test_blocks_over_the_cap_are_skipped_and_reported() -> None:
    frame = _records([_person(i, "x", "y", phone="+4999") for i in (7, 3, 9, 5)])

    capped, capped_stats = candidate_pairs(frame, [PHONE], max_block_size=3)
    full, _ = candidate_pairs(frame, [PHONE], max_block_size=4)

    assert capped.empty
    assert capped_stats.loc[
        0, ["skipped_blocks", "skipped_records", "largest_skipped_block"]
    ].tolist() == [1, 4, 4]
    assert _pairs(full) == [(3, 5), (3, 7), (3, 9), (5, 7), (5, 9), (7, 9)]


def test_pairs_against_existing_records_skip_existing_with_existing() -> None:
    existing = _records([_person(i, "x", "y", phone="+4955") for i in (1, 2, 3)])
    new = _records([_person(i, "x", "y", phone="+4955") for i in (11, 10)])

    pairs, stats = candidate_pairs_against(new, existing, [PHONE])

    assert _pairs(pairs) == [(1, 10), (1, 11), (2, 10), (2, 11), (3, 10), (3, 11), (10, 11)]
    assert stats.loc[0, "pairs"] == 7


def test_pairs_against_refuses_shared_record_ids() -> None:
    frame = _records([_person(1, "x", "y")])

    with pytest.raises(ValueError, match="share record_id"):
        candidate_pairs_against(frame, frame, [PHONE])


def test_duplicate_ids_and_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        candidate_pairs(pd.concat([HAND_MADE, HAND_MADE]), [PHONE])
    with pytest.raises(MissingColumnsError, match="loyalty_id"):
        candidate_pairs(HAND_MADE.drop(columns="loyalty_id"), [PHONE])


def test_blocking_recall_counts_true_pairs_found() -> None:
    truth = pd.Series({1: "a", 2: "a", 3: "a", 4: "b", 5: "b", 6: "c"})
    pairs = pd.DataFrame({"left": [1, 4, 1], "right": [2, 5, 6]})

    assert blocking_recall(pairs, truth) == 2 / 4


def _reference_value(value: object, transform: str) -> str | None:
    """Plain-Python key transforms, written apart from the vectorised code."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.split()).casefold()
    if transform in ("nysiis", "soundex", "metaphone"):
        return getattr(jellyfish, transform)(text)
    if transform == "year":
        return text[:4]
    if transform == "initial":
        return text[0]
    if transform == "local_part":
        return text.rpartition("@")[0] if "@" in text else None
    if transform == "digits":
        return "".join(ch for ch in text if ch.isdigit())
    return text


def _reference_key(row: pd.Series, rule: BlockingRule) -> tuple | None:
    key: list[object] = []
    for part in rule.parts:
        values = [_reference_value(row[column], part.transform) for column in part.columns]
        if any(v is None for v in values):
            return None
        key.append(tuple(sorted(values)))  # several columns form an unordered set
    return tuple(key)


def test_default_rules_match_a_brute_force_reference_on_synthetic_records() -> None:
    records = synthetic_linkage(300, seed=7).records
    max_block_size = 4
    expected: set[tuple[int, int]] = set()
    for rule in DEFAULT_RULES:
        blocks: dict[tuple, list[int]] = defaultdict(list)
        for _, row in records.iterrows():
            key = _reference_key(row, rule)
            if key is not None:
                blocks[key].append(int(row["record_id"]))
        for members in blocks.values():
            if len(members) <= max_block_size:
                expected.update(combinations(sorted(members), 2))

    pairs, stats = candidate_pairs(records, DEFAULT_RULES, max_block_size=max_block_size)

    assert _pairs(pairs) == sorted(expected)
    assert stats["new_pairs"].sum() == len(expected)
    assert np.all(pairs["left"].to_numpy() < pairs["right"].to_numpy())
