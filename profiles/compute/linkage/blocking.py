"""Compute layer: blocking keys and candidate pairs for record linkage (vectorised, capped)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jellyfish
import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

from .arrays import block_pair_positions, combine_codes, recode, string_codes, transform_uniques
from .records import (
    BIRTH_DATE,
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    LEFT,
    LOYALTY_ID,
    PHONE,
    POSTAL_CODE,
    RIGHT,
    STREET,
    check_records,
    cleaned_codes,
)

RULE = "rule"
PAIRS = "pairs"
NEW_PAIRS = "new_pairs"
SKIPPED_BLOCKS = "skipped_blocks"
SKIPPED_RECORDS = "skipped_records"
LARGEST_SKIPPED_BLOCK = "largest_skipped_block"

DEFAULT_MAX_BLOCK_SIZE = 500
MAX_RULES = 62
_NON_DIGITS = re.compile(r"\D")
TRANSFORMS = ("exact", "nysiis", "metaphone", "soundex", "year", "initial", "local_part", "digits")


@dataclass(frozen=True, kw_only=True)
class KeyPart:
    """One component of a blocking key: columns passed through a transform.

    With several columns the transformed values form an unordered set, so (first, last) and
    (last, first) give the same key: that is how swapped names meet in one block.
    """

    columns: tuple[str, ...]
    transform: str = "exact"

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise ValueError(f"unknown blocking transform {self.transform!r}")
        if not self.columns:
            raise ValueError("a key part needs at least one column")


@dataclass(frozen=True, kw_only=True)
class BlockingRule:
    """A named blocking key: records whose parts all agree (and are non-null) become pairs."""

    name: str
    parts: tuple[KeyPart, ...]

    @property
    def columns(self) -> frozenset[str]:
        """Every column the key reads."""
        return frozenset(column for part in self.parts for column in part.columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "name": self.name,
            "parts": [{"columns": list(p.columns), "transform": p.transform} for p in self.parts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlockingRule:
        """Inverse of to_dict."""
        parts = tuple(
            KeyPart(columns=tuple(p["columns"]), transform=p["transform"]) for p in data["parts"]
        )
        return cls(name=data["name"], parts=parts)


def _part(column: str, transform: str = "exact") -> KeyPart:
    return KeyPart(columns=(column,), transform=transform)


DEFAULT_RULES: tuple[BlockingRule, ...] = (
    BlockingRule(name="phone", parts=(_part(PHONE, "digits"),)),
    BlockingRule(name="email_local_part", parts=(_part(EMAIL, "local_part"),)),
    BlockingRule(name="loyalty_id", parts=(_part(LOYALTY_ID),)),
    BlockingRule(
        name="surname_phonetic_birth_date",
        parts=(_part(LAST_NAME, "nysiis"), _part(BIRTH_DATE)),
    ),
    BlockingRule(
        name="surname_phonetic_birth_year_initial",
        parts=(_part(LAST_NAME, "nysiis"), _part(BIRTH_DATE, "year"), _part(FIRST_NAME, "initial")),
    ),
    BlockingRule(
        name="swapped_names_soundex_birth_year",
        parts=(
            KeyPart(columns=(FIRST_NAME, LAST_NAME), transform="soundex"),
            _part(BIRTH_DATE, "year"),
        ),
    ),
    BlockingRule(name="birth_date_postcode", parts=(_part(BIRTH_DATE), _part(POSTAL_CODE))),
    BlockingRule(name="postcode_street", parts=(_part(POSTAL_CODE), _part(STREET))),
    BlockingRule(
        name="first_name_phonetic_birth_date",
        parts=(_part(FIRST_NAME, "nysiis"), _part(BIRTH_DATE)),
    ),
)


def _year(text: str) -> str | None:
    return text[:4] if len(text) >= 4 and text[:4].isdigit() else None


def _local_part(text: str) -> str | None:
    local, at, _ = text.rpartition("@")
    return local if at else None


def _digits(text: str) -> str | None:
    bare = text.lstrip("+")
    return bare if bare.isdigit() else (_NON_DIGITS.sub("", bare) or None)


def _transform_function(name: str) -> Callable[[str], str | None]:
    functions: dict[str, Callable[[str], str | None]] = {
        "nysiis": jellyfish.nysiis,
        "metaphone": jellyfish.metaphone,
        "soundex": jellyfish.soundex,
        "year": _year,
        "initial": lambda text: text[0],
        "local_part": _local_part,
        "digits": _digits,
    }
    return functions[name]


Codes = tuple[np.ndarray, np.ndarray]


class _KeyCache:
    """Per-call memo of cleaned and transformed column codes, shared by the rules."""

    def __init__(self, records: pd.DataFrame, cleaned: Mapping[str, Codes] | None = None) -> None:
        self.records = records
        self.memo: dict[tuple[str, str], Codes] = {
            (column, "exact"): codes for column, codes in (cleaned or {}).items()
        }

    def codes(self, column: str, transform: str) -> Codes:
        """Codes and uniques of `column` after clean_text and `transform` (on uniques only)."""
        key = (column, transform)
        if key not in self.memo:
            if transform == "exact":
                self.memo[key] = cleaned_codes(self.records[column])
            else:
                codes, uniques = self.codes(column, "exact")
                function = _transform_function(transform)
                self.memo[key] = transform_uniques(codes, uniques, function)
        return self.memo[key]


def _part_codes(cache: _KeyCache, part: KeyPart) -> list[np.ndarray]:
    per_column = [cache.codes(column, part.transform) for column in part.columns]
    if len(per_column) == 1:
        return [per_column[0][0]]
    # Unordered set: bring the columns into one code space, then sort each record's codes.
    joint, _ = string_codes(np.concatenate([uniques for _, uniques in per_column]))
    offsets = np.cumsum([0] + [uniques.size for _, uniques in per_column[:-1]])
    stacked = np.stack(
        [
            recode(codes, joint[offset : offset + uniques.size]) if uniques.size else codes
            for (codes, uniques), offset in zip(per_column, offsets, strict=True)
        ]
    )
    ordered = np.sort(stacked, axis=0)
    ordered[:, (stacked < 0).any(axis=0)] = -1
    return list(ordered)


def _rule_keys(cache: _KeyCache, rule: BlockingRule) -> np.ndarray:
    codes = [code for part in rule.parts for code in _part_codes(cache, part)]
    combined = combine_codes(codes)
    dense = pd.factorize(combined)[0].astype(np.int64)
    dense[combined < 0] = -1
    return dense


def blocking_keys(records: pd.DataFrame, rule: BlockingRule) -> np.ndarray:
    """Dense int64 key per record for `rule` (-1 where any part is missing)."""
    require_columns(records, rule.columns)
    return _rule_keys(_KeyCache(records), rule)


@dataclass(frozen=True, kw_only=True, eq=False)
class CandidatePositions:
    """Unique candidate pairs as positions into the records frame (left < right), plus stats.

    `rule_mask` has bit i set when rule i put the pair in one of its blocks.
    """

    left: np.ndarray
    right: np.ndarray
    rule_mask: np.ndarray
    stats: pd.DataFrame


def _rule_pairs(
    records: pd.DataFrame,
    rules: Sequence[BlockingRule],
    max_block_size: int,
    is_new: np.ndarray | None,
    cleaned: Mapping[str, Codes] | None,
) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    size = len(records)
    encoded: list[np.ndarray] = []
    rows: list[dict[str, Any]] = []
    require_columns(records, frozenset().union(*(rule.columns for rule in rules)))
    cache = _KeyCache(records, cleaned)
    for index, rule in enumerate(rules):
        keys = _rule_keys(cache, rule)
        left, right, skipped = block_pair_positions(keys, max_block_size, is_new)
        low = np.minimum(left, right).astype(np.int64)
        high = np.maximum(left, right).astype(np.int64)
        encoded.append((low * size + high) * len(rules) + index)
        rows.append(
            {
                RULE: rule.name,
                PAIRS: int(left.size),
                SKIPPED_BLOCKS: int(skipped.size),
                SKIPPED_RECORDS: int(skipped.sum()),
                LARGEST_SKIPPED_BLOCK: int(skipped.max(initial=0)),
            }
        )
    return encoded, rows


def candidate_positions(
    records: pd.DataFrame,
    rules: Sequence[BlockingRule],
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    is_new: np.ndarray | None = None,
    cleaned: Mapping[str, Codes] | None = None,
) -> CandidatePositions:
    """Unique unordered pairs of positions over all rules, with per-rule counts.

    `new_pairs` counts pairs a rule found that no earlier rule had found. `cleaned` may pass
    already cleaned column codes (PreparedRecords.cleaned) so they are not computed again.
    """
    check_records(records)
    if not 0 < len(rules) <= MAX_RULES:
        raise ValueError(f"need between 1 and {MAX_RULES} blocking rules")
    size = len(records)
    encoded, rows = _rule_pairs(records, rules, max_block_size, is_new, cleaned)
    ordered = np.sort(np.concatenate(encoded)) if encoded else np.empty(0, np.int64)
    pair_key = ordered // len(rules)
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = pair_key[1:] != pair_key[:-1]
    new_counts = np.bincount(ordered[first] % len(rules), minlength=len(rules))
    unique_keys = pair_key[first]
    rule_bits = np.left_shift(np.int64(1), ordered % len(rules))
    rule_mask = (
        np.bitwise_or.reduceat(rule_bits, np.flatnonzero(first)) if ordered.size else rule_bits
    )
    stats = pd.DataFrame(rows)
    stats.insert(2, NEW_PAIRS, new_counts.astype(np.int64))
    return CandidatePositions(
        left=(unique_keys // size).astype(np.int32),
        right=(unique_keys % size).astype(np.int32),
        rule_mask=rule_mask,
        stats=stats,
    )


def pairs_frame(record_ids: np.ndarray, left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
    """Record-id pairs (left < right), sorted, from position pairs."""
    left_ids = record_ids[left]
    right_ids = record_ids[right]
    low = np.minimum(left_ids, right_ids)
    high = np.maximum(left_ids, right_ids)
    if not (np.all(low == left_ids) and _is_sorted(low, high)):
        order = np.lexsort((high, low))
        low, high = low[order], high[order]
    return pd.DataFrame({LEFT: low, RIGHT: high})


def _is_sorted(low: np.ndarray, high: np.ndarray) -> bool:
    if low.size < 2:
        return True
    step = np.diff(low)
    return bool(np.all((step > 0) | ((step == 0) & (np.diff(high) > 0))))


def candidate_pairs(
    records: pd.DataFrame,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate pairs (record ids, left < right, unique) and per-rule stats.

    Stats columns: rule, pairs, new_pairs (not found by an earlier rule), skipped_blocks,
    skipped_records and largest_skipped_block (blocks over `max_block_size` are skipped).
    """
    ids = check_records(records)
    found = candidate_positions(records, rules, max_block_size=max_block_size)
    return pairs_frame(ids, found.left, found.right), found.stats


def candidate_pairs_against(
    new_records: pd.DataFrame,
    existing_records: pd.DataFrame,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs touching at least one new record: new x existing and new x new, same keys.

    Block sizes count new and existing records together, as a full run would.
    Raises ValueError when a record_id is in both frames.
    """
    new_ids = check_records(new_records)
    old_ids = check_records(existing_records)
    if np.isin(new_ids, old_ids).any():
        raise ValueError("new and existing records share record_id values")
    combined = pd.concat([new_records, existing_records], ignore_index=True, sort=False)
    is_new = np.zeros(len(combined), dtype=bool)
    is_new[: len(new_records)] = True
    found = candidate_positions(combined, rules, max_block_size=max_block_size, is_new=is_new)
    ids = np.concatenate([new_ids, old_ids])
    return pairs_frame(ids, found.left, found.right), found.stats


def blocking_recall(pairs: pd.DataFrame, true_cluster_ids: pd.Series) -> float:
    """Share of true matching record pairs (same true cluster) present in `pairs`.

    `true_cluster_ids` maps record_id (index) to the true entity id. 1.0 when there are none.
    """
    require_columns(pairs, {LEFT, RIGHT})
    sizes = true_cluster_ids.value_counts().to_numpy(dtype=np.int64)
    true_pairs = int((sizes * (sizes - 1) // 2).sum())
    if true_pairs == 0:
        return 1.0
    left = true_cluster_ids.reindex(pairs[LEFT].to_numpy()).to_numpy()
    right = true_cluster_ids.reindex(pairs[RIGHT].to_numpy()).to_numpy()
    found = int(np.count_nonzero(pd.notna(left) & (left == right)))
    return found / true_pairs
