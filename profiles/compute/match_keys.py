"""Compute layer: stable 64-bit hashes of the linkage engine's blocking keys, so the keys of
stored profiles can be kept in a table and a new record finds its block by index lookup.

The key of a record under a rule is exactly the engine's (same cleaning and transforms, names
as an unordered set); it is hashed with BLAKE2b per distinct value and combined with numpy, so a
million records cost seconds, and the hash is the same in every process and on every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

from .linkage.blocking import BlockingRule, KeyPart, _KeyCache
from .linkage.records import RECORD_ID, check_records

PROFILE_ID = "profile_id"
KEY = "key"
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MASK63 = np.uint64((1 << 63) - 1)


def _text_hash(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") | 1  # never 0: 0 marks "no key"


def _unique_hashes(uniques: np.ndarray) -> np.ndarray:
    return np.fromiter((_text_hash(str(value)) for value in uniques), np.uint64, uniques.size)


def _column_hashes(cache: _KeyCache, column: str, transform: str) -> np.ndarray:
    codes, uniques = cache.codes(column, transform)
    hashes = np.zeros(codes.size, dtype=np.uint64)
    valid = codes >= 0
    hashes[valid] = _unique_hashes(uniques)[codes[valid]]
    return hashes


def _part_hashes(cache: _KeyCache, part: KeyPart) -> np.ndarray:
    per_column = np.stack([_column_hashes(cache, c, part.transform) for c in part.columns])
    missing = (per_column == 0).any(axis=0)
    ordered = np.sort(per_column, axis=0)  # an unordered set: (a, b) and (b, a) hash alike
    combined = np.zeros(ordered.shape[1], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for row in ordered:
            combined = (combined ^ row) * _MULTIPLIER
    combined[missing] = 0
    return combined


def rule_key_hashes(records: pd.DataFrame, rule: BlockingRule, cache: _KeyCache) -> np.ndarray:
    """Per record: a positive int64 hash of (rule name, key), or 0 where the rule has no key."""
    combined = np.full(len(records), np.uint64(_text_hash(rule.name)), dtype=np.uint64)
    missing = np.zeros(len(records), dtype=bool)
    with np.errstate(over="ignore"):
        for part in rule.parts:
            hashes = _part_hashes(cache, part)
            missing |= hashes == 0
            combined = (combined ^ hashes) * _MULTIPLIER
    keys = (combined & _MASK63).astype(np.int64)
    keys[keys == 0] = 1
    keys[missing] = 0
    return keys


def match_key_frame(records: pd.DataFrame, rules: Sequence[BlockingRule]) -> pd.DataFrame:
    """One row per (record_id, key) over all rules; records without a key under a rule are
    left out. Columns: record_id, key (int64)."""
    ids = check_records(records)
    require_columns(records, frozenset().union(*(rule.columns for rule in rules)))
    cache = _KeyCache(records)
    frames = []
    for rule in rules:
        keys = rule_key_hashes(records, rule, cache)
        present = keys != 0
        frames.append(pd.DataFrame({RECORD_ID: ids[present], KEY: keys[present]}))
    if not frames:
        return pd.DataFrame({RECORD_ID: np.empty(0, np.int64), KEY: np.empty(0, np.int64)})
    return pd.concat(frames, ignore_index=True).drop_duplicates(ignore_index=True)
