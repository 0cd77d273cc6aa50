"""Compute layer: small numpy helpers shared by the linkage modules (codes, unique, blocks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

NULL_CODE = -1


def string_codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factorise strings into int32 codes (NULL_CODE for None, NaN and empty) and their uniques."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    codes = codes.astype(np.int32, copy=False)
    empty = np.flatnonzero(uniques == "")
    if empty.size:
        codes = codes.copy()
        codes[codes == empty[0]] = NULL_CODE
    return codes, uniques


def recode(codes: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """Map codes through `mapping` (indexed by code), keeping NULL_CODE as NULL_CODE."""
    out = np.full(codes.shape, NULL_CODE, dtype=np.int32)
    valid = codes >= 0
    out[valid] = mapping[codes[valid]]
    return out


def transform_uniques(
    codes: np.ndarray, uniques: np.ndarray, transform: Callable[[Any], str | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Apply a per-value string function to the uniques only, then re-factorise the codes.

    The function may return None or "" for a value that has no key; those rows become null.
    """
    mapped = np.array([transform(value) for value in uniques], dtype=object)
    new_codes, new_uniques = string_codes(mapped)
    return recode(codes, new_codes), new_uniques


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted unique values of an int array (sort-based: faster than np.unique for big arrays)."""
    if values.size == 0:
        return values.copy()
    ordered = np.sort(values)
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def combine_codes(parts: list[np.ndarray]) -> np.ndarray:
    """Combine several code arrays (NULL_CODE = null) into one int64 code, null if any is null."""
    combined = np.zeros(parts[0].shape, dtype=np.int64)
    is_null = np.zeros(parts[0].shape, dtype=bool)
    for part in parts:
        is_null |= part < 0
        radix = int(part.max(initial=0)) + 1
        if int(combined.max(initial=0)) * radix >= 2**62:
            combined = pd.factorize(combined)[0].astype(np.int64)
        combined = combined * radix + np.maximum(part, 0)
    combined[is_null] = NULL_CODE
    return combined


def block_pair_positions(
    keys: np.ndarray, max_block_size: int, is_new: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs of positions sharing a key, as (left, right, sizes of skipped blocks).

    Rows with a negative key take no part. Blocks larger than `max_block_size` are skipped.
    With `is_new`, only pairs with at least one new row are made (new x new and new x old).
    """
    rows = np.flatnonzero(keys >= 0)
    sort_key = keys[rows].astype(np.int64) * 2
    if is_new is not None:
        sort_key += ~is_new[rows]  # new rows first inside each block
    order = np.argsort(sort_key, kind="stable")
    rows = rows[order]
    block_key = keys[rows]
    if rows.size == 0:
        empty = np.empty(0, dtype=np.int32)
        return empty, empty, np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, block_key[1:] != block_key[:-1]])
    sizes = np.diff(np.r_[starts, rows.size])
    block_of = np.repeat(np.arange(starts.size), sizes)
    within = np.arange(rows.size) - starts[block_of]
    partners = sizes[block_of] - within - 1
    partners[sizes[block_of] > max_block_size] = 0
    if is_new is not None:
        partners[~is_new[rows]] = 0
    left_index = np.repeat(np.arange(rows.size), partners)
    first = np.cumsum(partners) - partners
    offsets = np.arange(left_index.size) - np.repeat(first, partners) + 1
    left = rows[left_index].astype(np.int32)
    right = rows[left_index + offsets].astype(np.int32)
    skipped = sizes[sizes > max_block_size].astype(np.int64)
    return left, right, skipped
