import hashlib
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from scipy import stats

from campaigns.compute.assignment import (
    HOLDOUT,
    Variant,
    assign,
    assign_many,
    bucket,
    planned_shares,
    srm_check,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
AB = (Variant(key="a", weight=1), Variant(key="b", weight=1))
KEYS = [f"user-{index}" for index in range(20_000)]


def posthog_reference_hash(key: str, distinct_id: str, salt: str) -> float:
    """PostHog's get_hash, transcribed from posthog/models/feature_flag/flag_matching.py."""
    hash_key = f"{key}.{distinct_id}{salt}"
    hash_val = int(
        hashlib.sha1(hash_key.encode("utf-8"), usedforsecurity=False).hexdigest()[:15], 16
    )
    return hash_val / float(0xFFFFFFFFFFFFFFF)


def test_bucket_matches_the_posthog_formula_and_a_pinned_value():
    assert bucket("spring-sale", "user-1", "") == 0x3A139521B4D470F / float(0xFFFFFFFFFFFFFFF)
    assert bucket("spring-sale", "user-1", "") == 0.22686130593213405
    for subject in ("user-1", "42", "ünïcode@example.com", ""):
        for salt in ("", "s1", "s1:holdout"):
            assert bucket("spring-sale", subject, salt) == posthog_reference_hash(
                "spring-sale", subject, salt
            )


def test_bucket_is_the_same_in_another_process_with_another_hash_seed():
    code = (
        "from campaigns.compute.assignment import bucket;"
        "print(repr(bucket('spring-sale', 'user-1', 's1')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert float(output) == bucket("spring-sale", "user-1", "s1")
    assert float(output) == 0.810766779233643


def test_buckets_are_in_the_unit_interval_and_roughly_uniform():
    values = [bucket("c", key, "salt") for key in KEYS]
    assert min(values) >= 0.0
    assert max(values) < 1.0
    assert stats.kstest(values, "uniform").pvalue > 0.001


def test_assign_is_deterministic_and_splits_by_weight():
    variants = (Variant(key="a", weight=3), Variant(key="b", weight=1))
    arms = [assign("c", key, salt="s", variants=variants, holdout_share=0.2) for key in KEYS]
    again = [assign("c", key, salt="s", variants=variants, holdout_share=0.2) for key in KEYS]
    assert arms == again
    counts = Counter(arms)
    assert set(counts) == {"a", "b", HOLDOUT}
    result = srm_check(counts, planned_shares(variants, 0.2))
    assert not result.has_sample_ratio_mismatch
    assert abs(counts["a"] / len(KEYS) - 0.6) < 0.015
    assert abs(counts[HOLDOUT] / len(KEYS) - 0.2) < 0.015


def test_changing_variant_weights_never_moves_anyone_in_or_out_of_the_holdout():
    before = assign_many("c", KEYS, salt="s", variants=AB, holdout_share=0.1)
    reweighted = (
        Variant(key="a", weight=5),
        Variant(key="b", weight=1),
        Variant(key="c", weight=2),
    )
    after = assign_many("c", KEYS, salt="s", variants=reweighted, holdout_share=0.1)
    assert ((before == HOLDOUT) == (after == HOLDOUT)).all()
    assert (before != after).sum() > 1_000  # the variants themselves did move


def test_growing_the_holdout_only_takes_people_from_the_variants_without_reshuffling():
    small = assign_many("c", KEYS, salt="s", variants=AB, holdout_share=0.05)
    large = assign_many("c", KEYS, salt="s", variants=AB, holdout_share=0.2)
    assert ((small == HOLDOUT) <= (large == HOLDOUT)).all()
    in_both_variants = (small != HOLDOUT) & (large != HOLDOUT)
    assert (small[in_both_variants] == large[in_both_variants]).all()


def test_other_salt_gives_an_independent_assignment():
    first = assign_many("c", KEYS, salt="s1", variants=AB, holdout_share=0.0)
    second = assign_many("c", KEYS, salt="s2", variants=AB, holdout_share=0.0)
    agreement = (first == second).mean()
    assert 0.48 < agreement < 0.52


def test_assign_many_equals_assign_one_by_one():
    variants = (
        Variant(key="x", weight=0.2),
        Variant(key="y", weight=0.5),
        Variant(key="z", weight=1),
    )
    keys = [*KEYS[:5_000], "", "ünïcode"]
    many = assign_many("camp", keys, salt="v2", variants=variants, holdout_share=0.15)
    one_by_one = [
        assign("camp", key, salt="v2", variants=variants, holdout_share=0.15) for key in keys
    ]
    assert many.tolist() == one_by_one
    assert assign_many("camp", [], salt="v2", variants=variants, holdout_share=0.15).tolist() == []


def test_zero_holdout_puts_nobody_in_the_holdout():
    arms = assign_many("c", KEYS, salt="s", variants=AB, holdout_share=0.0)
    assert HOLDOUT not in set(arms.tolist())


@pytest.mark.parametrize(
    ("_case", "variants", "holdout_share", "message"),
    [
        ("no variants", (), 0.1, "at least one variant"),
        ("zero weight", (Variant(key="a", weight=0),), 0.1, "'a': weight must be positive"),
        ("negative weight", (Variant(key="a", weight=-1),), 0.1, "weight must be positive"),
        ("nan weight", (Variant(key="a", weight=float("nan")),), 0.1, "weight must be positive"),
        ("text weight", (Variant(key="a", weight="1"),), 0.1, "weight must be a number"),
        ("duplicate key", (Variant(key="a", weight=1),) * 2, 0.1, "duplicate variant key 'a'"),
        ("reserved key", (Variant(key="holdout", weight=1),), 0.1, "reserved"),
        ("empty key", (Variant(key="", weight=1),), 0.1, "non-empty string"),
        ("holdout too big", AB, 0.6, r"holdout_share must be in \[0, 0.5\]"),
        ("holdout negative", AB, -0.1, r"holdout_share must be in \[0, 0.5\]"),
    ],
)
def test_invalid_split_is_rejected_with_a_clear_message(_case, variants, holdout_share, message):
    with pytest.raises(ValueError, match=message):
        assign("c", "u", salt="s", variants=variants, holdout_share=holdout_share)
    with pytest.raises(ValueError, match=message):
        assign_many("c", ["u"], salt="s", variants=variants, holdout_share=holdout_share)


def test_planned_shares_spread_the_non_holdout_part_by_weight():
    variants = (Variant(key="a", weight=3), Variant(key="b", weight=1))
    assert planned_shares(variants, 0.2) == {"a": 0.6000000000000001, "b": 0.2, HOLDOUT: 0.2}
    assert planned_shares(variants, 0.0) == {"a": 0.75, "b": 0.25}


def test_srm_flags_a_52_48_split_at_100_000():
    result = srm_check({"a": 52_000, "b": 48_000}, {"a": 0.5, "b": 0.5})
    # hand: 2 * 2000**2 / 50000
    assert result.chi_square == 160.0
    assert result.p_value == pytest.approx(stats.chi2.sf(160.0, df=1), rel=1e-12)
    assert result.has_sample_ratio_mismatch
    assert result.expected == {"a": 50_000.0, "b": 50_000.0}
    assert result.total == 100_000


def test_srm_does_not_flag_a_fair_split():
    exact = srm_check({"a": 50_000, "b": 50_000}, {"a": 0.5, "b": 0.5})
    assert exact.chi_square == 0.0
    assert exact.p_value == 1.0
    assert not exact.has_sample_ratio_mismatch
    noisy = srm_check({"a": 50_150, "b": 49_850}, {"a": 1, "b": 1})
    assert noisy.chi_square == pytest.approx(0.9, rel=1e-12)  # 2 * 150**2 / 50000
    assert not noisy.has_sample_ratio_mismatch


def test_srm_with_unequal_planned_shares_and_a_holdout():
    shares = {"a": 0.45, "b": 0.45, HOLDOUT: 0.1}
    fair = srm_check({"a": 45_100, "b": 44_950, HOLDOUT: 9_950}, shares)
    assert not fair.has_sample_ratio_mismatch
    starved_holdout = srm_check({"a": 45_500, "b": 45_500, HOLDOUT: 9_000}, shares)
    assert starved_holdout.has_sample_ratio_mismatch


@pytest.mark.parametrize(
    ("_case", "observed", "shares", "message"),
    [
        ("other arms", {"a": 1, "b": 2}, {"a": 0.5, "c": 0.5}, "differ from expected arms"),
        ("one arm", {"a": 1}, {"a": 1.0}, "at least two arms"),
        ("negative count", {"a": -1, "b": 2}, {"a": 0.5, "b": 0.5}, "non-negative"),
        ("zero share", {"a": 1, "b": 2}, {"a": 0.0, "b": 1.0}, "must be positive"),
        ("nobody", {"a": 0, "b": 0}, {"a": 0.5, "b": 0.5}, "no subjects"),
    ],
)
def test_srm_rejects_bad_input(_case, observed, shares, message):
    with pytest.raises(ValueError, match=message):
        srm_check(observed, shares)
