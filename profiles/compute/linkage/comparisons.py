"""Compute layer: comparison specs and per-field levels of candidate pairs (vectorised)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

from .field_levels import (
    NULL_LEVEL_CODE,
    NamePair,
    address_levels,
    birth_date_levels,
    email_levels,
    exact_levels,
    name_levels,
    orient_names,
)
from .records import (
    BIRTH_DATE,
    CITY,
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    LEFT,
    LOYALTY_ID,
    PHONE,
    POSTAL_CODE,
    RIGHT,
    STREET,
    PreparedRecords,
    positions_of,
    prepare_records,
)

NAMES_SWAPPED = "names_swapped"
NULL_LEVEL = "null"
DEFAULT_CHUNK_SIZE = 1_000_000
_EXACT_COLUMNS = (PHONE, LOYALTY_ID, POSTAL_CODE, EMAIL)
_METHOD_COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": (FIRST_NAME,),
    "last_name": (LAST_NAME,),
    "birth_date": (BIRTH_DATE,),
    "email": (EMAIL,),
    "address": (POSTAL_CODE, STREET, CITY),
}
METHODS = (*_METHOD_COLUMNS, "exact")


@dataclass(frozen=True, kw_only=True)
class ComparisonSpec:
    """How one field is compared; levels run from strongest to weakest, "null" is apart.

    Methods: first_name / last_name (Jaro-Winkler, crosswise when the names are swapped;
    first_name has a nickname level; thresholds descending), birth_date, email (exact / same
    local part / else), exact (one of phone, loyalty_id, postal_code, email: `column`),
    address (postcode, street and city as one comparison; thresholds = (street, city)).
    `term_frequency` replaces u of exact agreement (for address: same city) by the agreed
    value's relative frequency.
    """

    name: str
    method: str
    column: str | None = None
    thresholds: tuple[float, ...] = ()
    term_frequency: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown comparison method {self.method!r}")
        if self.method == "exact" and self.column not in _EXACT_COLUMNS:
            raise ValueError(f"exact comparison not available for column {self.column!r}")
        expected = {"first_name": None, "last_name": None, "address": 2}.get(self.method, 0)
        if expected is not None and len(self.thresholds) != expected:
            raise ValueError(f"{self.method} takes {expected} thresholds")
        if expected is None and list(self.thresholds) != sorted(self.thresholds, reverse=True):
            raise ValueError("name thresholds must be in descending order")

    @property
    def columns(self) -> tuple[str, ...]:
        """The record columns this comparison reads."""
        if self.method == "exact":
            return (str(self.column),)
        return _METHOD_COLUMNS[self.method]

    @property
    def levels(self) -> tuple[str, ...]:
        """Non-null level labels, strongest first (code 1 is the first label, 0 is null)."""
        fuzzy = tuple(f"similarity>={t:g}" for t in self.thresholds)
        if self.method in ("first_name", "last_name"):
            nickname = ("nickname",) if self.method == "first_name" else ()
            return ("exact", *nickname, *fuzzy, "else")
        if self.method == "address":
            street, city = self.thresholds
            return (
                "exact",
                f"same_postcode_street>={street:g}",
                "same_postcode",
                "same_city",
                f"city>={city:g}",
                "else",
            )
        by_method = {
            "birth_date": ("exact", "one_component_differs", "year_within_1", "else"),
            "email": ("exact", "same_local_part", "else"),
            "exact": ("exact", "else"),
        }
        return by_method[self.method]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "name": self.name,
            "method": self.method,
            "column": self.column,
            "thresholds": list(self.thresholds),
            "term_frequency": self.term_frequency,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComparisonSpec:
        """Inverse of to_dict."""
        return cls(
            name=data["name"],
            method=data["method"],
            column=data["column"],
            thresholds=tuple(float(t) for t in data["thresholds"]),
            term_frequency=bool(data["term_frequency"]),
        )


DEFAULT_COMPARISONS: tuple[ComparisonSpec, ...] = (
    ComparisonSpec(
        name="first_name", method="first_name", thresholds=(0.92, 0.80), term_frequency=True
    ),
    ComparisonSpec(
        name="last_name", method="last_name", thresholds=(0.92, 0.80), term_frequency=True
    ),
    ComparisonSpec(name="birth_date", method="birth_date"),
    # Email is exact-only by default: a shared local part (john.smith@a vs john.smith@b) mostly
    # repeats the name evidence, and counting it again lets same-name look-alikes merge.
    ComparisonSpec(name="email", method="exact", column=EMAIL),
    ComparisonSpec(name="phone", method="exact", column=PHONE),
    ComparisonSpec(name="loyalty_id", method="exact", column=LOYALTY_ID),
    ComparisonSpec(name="address", method="address", thresholds=(0.85, 0.90), term_frequency=True),
)


@dataclass(frozen=True, kw_only=True, eq=False)
class ComparisonVectors:
    """Levels of every pair (pairs x specs, int8, 0 = null); the agreed value's frequency
    where a term-frequency level applies (NaN elsewhere); and whether names were swapped."""

    specs: tuple[ComparisonSpec, ...]
    levels: np.ndarray
    term_frequency: np.ndarray
    names_swapped: np.ndarray


def _exact_codes(prepared: PreparedRecords, column: str | None) -> np.ndarray:
    codes = {
        PHONE: prepared.phone_code,
        LOYALTY_ID: prepared.loyalty_code,
        POSTAL_CODE: prepared.postal_code,
        EMAIL: prepared.email_code,
    }
    return codes[str(column)]


def _spec_levels(
    spec: ComparisonSpec,
    prepared: PreparedRecords,
    left: np.ndarray,
    right: np.ndarray,
    names: NamePair | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    if spec.method in ("first_name", "last_name") and names is not None:
        first = spec.method == "first_name"
        return name_levels(prepared, names, first=first, thresholds=spec.thresholds)
    if spec.method == "address":
        return address_levels(prepared, left, right, spec.thresholds)
    if spec.method == "birth_date":
        return birth_date_levels(prepared, left, right), None
    if spec.method == "email":
        return email_levels(prepared, left, right), None
    return exact_levels(_exact_codes(prepared, spec.column), left, right), None


def _compare_chunk(
    prepared: PreparedRecords,
    left: np.ndarray,
    right: np.ndarray,
    specs: Sequence[ComparisonSpec],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    uses_names = any(spec.method in ("first_name", "last_name") for spec in specs)
    names = orient_names(prepared, left, right) if uses_names else None
    levels = np.empty((left.size, len(specs)), dtype=np.int8)
    frequency = np.full((left.size, len(specs)), np.nan, dtype=np.float32)
    for index, spec in enumerate(specs):
        spec_levels, spec_frequency = _spec_levels(spec, prepared, left, right, names)
        levels[:, index] = spec_levels
        if spec.term_frequency and spec_frequency is not None:
            frequency[:, index] = spec_frequency
    swapped = names.swapped if names is not None else np.zeros(left.size, dtype=bool)
    return levels, frequency, swapped


def compare_positions(
    prepared: PreparedRecords,
    left: np.ndarray,
    right: np.ndarray,
    specs: Sequence[ComparisonSpec] = DEFAULT_COMPARISONS,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ComparisonVectors:
    """Comparison levels of position pairs, computed chunk by chunk to bound memory."""
    levels = np.empty((left.size, len(specs)), dtype=np.int8)
    frequency = np.empty((left.size, len(specs)), dtype=np.float32)
    swapped = np.empty(left.size, dtype=bool)
    for start in range(0, left.size, chunk_size):
        stop = min(start + chunk_size, left.size)
        chunk = _compare_chunk(prepared, left[start:stop], right[start:stop], specs)
        levels[start:stop], frequency[start:stop], swapped[start:stop] = chunk
    return ComparisonVectors(
        specs=tuple(specs), levels=levels, term_frequency=frequency, names_swapped=swapped
    )


def level_labels(spec: ComparisonSpec, codes: np.ndarray) -> pd.Categorical:
    """Level codes of one spec as a categorical of labels ("null" for code 0)."""
    return pd.Categorical.from_codes(codes, categories=(NULL_LEVEL, *spec.levels))


def comparison_levels(
    pairs: pd.DataFrame,
    records: pd.DataFrame,
    specs: Sequence[ComparisonSpec] = DEFAULT_COMPARISONS,
) -> pd.DataFrame:
    """Level label of every spec for each pair of record ids, plus whether names were swapped."""
    require_columns(pairs, {LEFT, RIGHT})
    prepared = prepare_records(records)
    left = positions_of(prepared.record_ids, pairs[LEFT].to_numpy())
    right = positions_of(prepared.record_ids, pairs[RIGHT].to_numpy())
    vectors = compare_positions(prepared, left, right, specs)
    out = pd.DataFrame({LEFT: pairs[LEFT].to_numpy(), RIGHT: pairs[RIGHT].to_numpy()})
    for index, spec in enumerate(specs):
        out[spec.name] = level_labels(spec, vectors.levels[:, index])
    out[NAMES_SWAPPED] = vectors.names_swapped
    return out


__all__ = [
    "DEFAULT_COMPARISONS",
    "LEFT",
    "NAMES_SWAPPED",
    "NULL_LEVEL",
    "NULL_LEVEL_CODE",
    "RIGHT",
    "ComparisonSpec",
    "ComparisonVectors",
    "compare_positions",
    "comparison_levels",
    "level_labels",
]
