"""Campaigns compute layer: deterministic variant and holdout assignment, and the SRM check."""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

HOLDOUT = "holdout"
HOLDOUT_SALT_SUFFIX = ":holdout"
MAX_HOLDOUT_SHARE = 0.5

# PostHog's flag matching: the first 15 hex digits of a SHA-1 (60 bits) over this scale.
_LONG_SCALE = float(0xFFFFFFFFFFFFFFF)
# 0xFFF...F / scale is exactly 1.0 (and a few values below it round up to 1.0); those
# (probability about 2**-54) are clamped to the largest float below 1 to keep [0, 1).
_BELOW_ONE = math.nextafter(1.0, 0.0)


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One arm of a campaign and its relative weight (any positive number)."""

    key: str
    weight: float


@dataclass(frozen=True, kw_only=True)
class SrmResult:
    """Chi-square goodness of fit of observed arm sizes against the planned shares."""

    chi_square: float
    p_value: float
    alpha: float
    total: int
    observed: Mapping[str, int]
    expected: Mapping[str, float]
    has_sample_ratio_mismatch: bool


def bucket(campaign_key: str, subject_key: str, salt: str) -> float:
    """Map (campaign, subject, salt) to a number in [0, 1), as PostHog's flag matching does.

    sha1 of f"{campaign_key}.{subject_key}{salt}", first 15 hex digits / 0xFFFFFFFFFFFFFFF.
    Deterministic across processes, machines and Python versions (no `hash()`).
    """
    digest = hashlib.sha1(
        f"{campaign_key}.{subject_key}{salt}".encode(), usedforsecurity=False
    ).hexdigest()
    return min(int(digest[:15], 16) / _LONG_SCALE, _BELOW_ONE)


def validate_variants(variants: Sequence[Variant], holdout_share: float) -> None:
    """Raise ValueError unless the variants and the holdout share form a valid split."""
    if not variants:
        raise ValueError("at least one variant is needed")
    seen: set[str] = set()
    for variant in variants:
        if not isinstance(variant.key, str) or not variant.key:
            raise ValueError(f"variant key must be a non-empty string, got {variant.key!r}")
        if variant.key == HOLDOUT:
            raise ValueError(f"variant key {HOLDOUT!r} is reserved for the holdout")
        if variant.key in seen:
            raise ValueError(f"duplicate variant key {variant.key!r}")
        seen.add(variant.key)
        weight = variant.weight
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
            raise ValueError(f"variant {variant.key!r}: weight must be a number, got {weight!r}")
        if not math.isfinite(weight) or weight <= 0:
            raise ValueError(f"variant {variant.key!r}: weight must be positive, got {weight!r}")
    if isinstance(holdout_share, bool) or not isinstance(holdout_share, numbers.Real):
        raise ValueError(f"holdout_share must be a number, got {holdout_share!r}")
    if not 0.0 <= holdout_share <= MAX_HOLDOUT_SHARE:
        raise ValueError(f"holdout_share must be in [0, {MAX_HOLDOUT_SHARE}], got {holdout_share}")


def _cumulative_shares(variants: Sequence[Variant]) -> np.ndarray:
    weights = np.array([float(variant.weight) for variant in variants])
    cumulative = np.cumsum(weights) / weights.sum()
    cumulative[-1] = 1.0  # no float residue may leave a bucket without a variant
    return cumulative


def assign(
    campaign_key: str,
    subject_key: str,
    *,
    salt: str,
    variants: Sequence[Variant],
    holdout_share: float,
) -> str:
    """Return "holdout" or the key of the variant that `subject_key` falls into.

    The holdout is decided on its own bucket (salt + ":holdout"), so changing variant weights
    never moves anyone in or out of the holdout, and changing the holdout share never moves
    anyone between variants. Variants split the rest by cumulative normalised weights.
    Raises ValueError for invalid variants or a holdout share outside [0, 0.5].
    """
    validate_variants(variants, holdout_share)
    if bucket(campaign_key, subject_key, salt + HOLDOUT_SALT_SUFFIX) < holdout_share:
        return HOLDOUT
    position = bucket(campaign_key, subject_key, salt)
    index = int(np.searchsorted(_cumulative_shares(variants), position, side="right"))
    return variants[index].key


def _buckets_many(campaign_key: str, subject_keys: Sequence[str], salt: str) -> np.ndarray:
    """bucket() for many subjects: SHA-1 per key, then one numpy pass over the digests."""
    sha1 = hashlib.sha1
    digests = b"".join(
        [
            sha1(f"{campaign_key}.{subject_key}{salt}".encode(), usedforsecurity=False).digest()
            for subject_key in subject_keys
        ]
    )
    words = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 20)[:, :8]
    top_60_bits = np.ascontiguousarray(words).view(">u8").ravel() >> np.uint64(4)
    return np.minimum(top_60_bits.astype(np.float64) / _LONG_SCALE, _BELOW_ONE)


def assign_many(
    campaign_key: str,
    subject_keys: Iterable[str],
    *,
    salt: str,
    variants: Sequence[Variant],
    holdout_share: float,
) -> np.ndarray:
    """assign() for many subject keys at once; returns an object array of arm keys in order.

    Same results as calling assign() per key; validates once and hashes without per-key
    Python arithmetic. Raises ValueError like assign().
    """
    validate_variants(variants, holdout_share)
    keys = [str(key) for key in subject_keys]
    labels = np.array([variant.key for variant in variants] + [HOLDOUT], dtype=object)
    if not keys:
        return labels[:0]
    positions = _buckets_many(campaign_key, keys, salt)
    index = np.searchsorted(_cumulative_shares(variants), positions, side="right")
    if holdout_share > 0:
        holdout = _buckets_many(campaign_key, keys, salt + HOLDOUT_SALT_SUFFIX) < holdout_share
        index[holdout] = len(variants)
    return labels[index]


def planned_shares(variants: Sequence[Variant], holdout_share: float) -> dict[str, float]:
    """Expected share of each arm (variants and, if any, the holdout) under assign()."""
    validate_variants(variants, holdout_share)
    total = sum(float(variant.weight) for variant in variants)
    shares = {
        variant.key: (1.0 - holdout_share) * float(variant.weight) / total for variant in variants
    }
    if holdout_share > 0:
        shares[HOLDOUT] = float(holdout_share)
    return shares


def srm_check(
    observed: Mapping[str, int],
    expected_shares: Mapping[str, float],
    *,
    alpha: float = 0.001,
) -> SrmResult:
    """Sample ratio mismatch test: chi-square goodness of fit of arm counts to planned shares.

    `expected_shares` are normalised to sum to 1 and must name exactly the arms of `observed`.
    Flags a mismatch when p < alpha. Raises ValueError for mismatched keys, negative counts,
    non-positive shares, fewer than two arms or no subjects at all.
    """
    if set(observed) != set(expected_shares):
        raise ValueError(
            f"observed arms {sorted(observed)} differ from expected arms {sorted(expected_shares)}"
        )
    if len(observed) < 2:
        raise ValueError("the SRM check needs at least two arms")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    keys = sorted(observed)
    counts = np.array([observed[key] for key in keys], dtype=np.float64)
    shares = np.array([expected_shares[key] for key in keys], dtype=np.float64)
    if (counts < 0).any():
        raise ValueError("observed counts must be non-negative")
    if not np.isfinite(shares).all() or (shares <= 0).any():
        raise ValueError("expected shares must be positive")
    total = int(counts.sum())
    if total == 0:
        raise ValueError("no subjects observed")
    expected = shares / shares.sum() * total
    statistic, p_value = stats.chisquare(counts, expected)
    return SrmResult(
        chi_square=float(statistic),
        p_value=float(p_value),
        alpha=alpha,
        total=total,
        observed={key: int(observed[key]) for key in keys},
        expected={key: float(value) for key, value in zip(keys, expected, strict=True)},
        has_sample_ratio_mismatch=bool(p_value < alpha),
    )
