"""Compute layer: the level functions behind each comparison method (numpy + rapidfuzz)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from .records import PreparedRecords

NULL_LEVEL_CODE = 0
STRONG_NAME = 0.92
SWAP_MARGIN = 0.1
SWAP_FLOOR = 0.80
_DEDUPE_SAMPLE = 50_000

Scorer = Callable[..., float]


def _similarity(
    values: np.ndarray, left: np.ndarray, right: np.ndarray, scorer: Scorer
) -> np.ndarray:
    """Similarity in [0, 1] of non-null code pairs, once per distinct unordered value pair."""
    if left.size == 0:
        return np.empty(0, dtype=np.float32)
    low = np.minimum(left, right).astype(np.int64)
    high = np.maximum(left, right).astype(np.int64)
    combo = low * values.size + high
    sample = combo[:_DEDUPE_SAMPLE]
    scale = 100.0 if scorer is fuzz.token_sort_ratio else 1.0
    if pd.unique(sample).size > 0.6 * sample.size:  # mostly distinct: skip the dedupe
        scores = cpdist(values[low], values[high], scorer=scorer, workers=-1, dtype=np.float32)
        return scores / np.float32(scale)
    inverse, distinct = pd.factorize(combo)
    scores = cpdist(
        values[distinct // values.size],
        values[distinct % values.size],
        scorer=scorer,
        workers=-1,
        dtype=np.float32,
    )
    return scores[inverse] / np.float32(scale)


def pair_similarity(
    values: np.ndarray, left: np.ndarray, right: np.ndarray, scorer: Scorer
) -> np.ndarray:
    """1.0 where codes are equal, NaN where one is null, else the scorer's similarity."""
    out = np.full(left.size, np.nan, dtype=np.float32)
    valid = (left >= 0) & (right >= 0)
    out[valid & (left == right)] = 1.0
    todo = valid & (left != right)
    out[todo] = _similarity(values, left[todo], right[todo], scorer)
    return out


def jaro_winkler(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaro-Winkler similarity of code pairs (see pair_similarity)."""
    return pair_similarity(values, left, right, JaroWinkler.normalized_similarity)


def street_similarity(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Best of normalised Levenshtein and token_sort_ratio ("12 main st" ~ "main st 12")."""
    levenshtein = pair_similarity(values, left, right, Levenshtein.normalized_similarity)
    token_sort = pair_similarity(values, left, right, fuzz.token_sort_ratio)
    return np.fmax(levenshtein, token_sort)


def graded(
    exact: np.ndarray, similarity: np.ndarray, thresholds: Sequence[float], null: np.ndarray
) -> np.ndarray:
    """Level codes: 1 exact, then one level per threshold, then else; 0 where null."""
    levels = np.full(exact.size, len(thresholds) + 2, dtype=np.int8)
    for index, threshold in reversed(list(enumerate(thresholds))):
        levels[similarity >= threshold] = index + 2
    levels[exact] = 1
    levels[null] = NULL_LEVEL_CODE
    return levels


def value_frequency_at(mask: np.ndarray, codes: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """frequency[code] where mask holds, NaN elsewhere (float32)."""
    out = np.full(mask.size, np.nan, dtype=np.float32)
    out[mask] = frequency[codes[mask]]
    return out


@dataclass(frozen=True, kw_only=True, eq=False)
class NamePair:
    """Names of each pair, oriented: right first/last are swapped where names were swapped."""

    left_first: np.ndarray
    right_first: np.ndarray
    left_last: np.ndarray
    right_last: np.ndarray
    first_similarity: np.ndarray
    last_similarity: np.ndarray
    swapped: np.ndarray


def _name_score(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaro-Winkler of two name code arrays, 1.0 for known nicknames of each other."""
    score = jaro_winkler(prepared.names, left, right)
    group = prepared.nickname_group
    left_group, right_group = group[np.maximum(left, 0)], group[np.maximum(right, 0)]
    nickname = (left >= 0) & (right >= 0) & (left_group >= 0) & (left_group == right_group)
    score[nickname] = 1.0
    return score


def orient_names(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> NamePair:
    """Compare names directly, and crosswise where that fits clearly better (swapped names):
    crosswise sum above the direct sum by SWAP_MARGIN, each crosswise score >= SWAP_FLOOR."""
    lf, rf = prepared.first_code[left], prepared.first_code[right]
    ll, rl = prepared.last_code[left], prepared.last_code[right]
    direct_first = _name_score(prepared, lf, rf)
    direct_last = _name_score(prepared, ll, rl)
    complete = (lf >= 0) & (rf >= 0) & (ll >= 0) & (rl >= 0)
    candidate = np.flatnonzero(complete & (np.fmin(direct_first, direct_last) < STRONG_NAME))
    cross_first = _name_score(prepared, lf[candidate], rl[candidate])
    cross_last = _name_score(prepared, ll[candidate], rf[candidate])
    direct_sum = direct_first[candidate] + direct_last[candidate]
    better = (cross_first + cross_last > direct_sum + SWAP_MARGIN) & (
        np.fmin(cross_first, cross_last) >= SWAP_FLOOR
    )
    flipped = candidate[better]
    swapped = np.zeros(left.size, dtype=bool)
    swapped[flipped] = True
    first_similarity, last_similarity = direct_first.copy(), direct_last.copy()
    first_similarity[flipped] = cross_first[better]
    last_similarity[flipped] = cross_last[better]
    return NamePair(
        left_first=lf,
        right_first=np.where(swapped, rl, rf),
        left_last=ll,
        right_last=np.where(swapped, rf, rl),
        first_similarity=first_similarity,
        last_similarity=last_similarity,
        swapped=swapped,
    )


def name_levels(
    prepared: PreparedRecords, names: NamePair, *, first: bool, thresholds: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Levels (exact, [nickname], fuzzy..., else) and the term frequency of exact agreements.

    The frequency is the value's share of its column; for swapped names, the larger of its
    shares of the two name columns.
    """
    if first:
        left, right, similarity = names.left_first, names.right_first, names.first_similarity
        frequency = prepared.first_frequency
    else:
        left, right, similarity = names.left_last, names.right_last, names.last_similarity
        frequency = prepared.last_frequency
    null = (left < 0) | (right < 0)
    exact = ~null & (left == right)
    levels = graded(exact, similarity, thresholds, null)
    term_frequency = value_frequency_at(exact, left, frequency)
    either = np.maximum(prepared.first_frequency, prepared.last_frequency)
    swapped_exact = exact & names.swapped
    term_frequency[swapped_exact] = either[left[swapped_exact]]
    if first:  # the nickname level sits between exact and the fuzzy levels
        group = prepared.nickname_group
        left_group, right_group = group[np.maximum(left, 0)], group[np.maximum(right, 0)]
        nickname = ~exact & ~null & (left_group >= 0) & (left_group == right_group)
        levels = np.where(levels >= 2, levels + 1, levels).astype(np.int8)
        levels[nickname] = 2
    return levels, term_frequency


def birth_date_levels(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """1 exact, 2 one component differs or day/month swapped, 3 year within 1, 4 else."""
    y1, m1, d1 = prepared.birth_year[left], prepared.birth_month[left], prepared.birth_day[left]
    y2, m2, d2 = prepared.birth_year[right], prepared.birth_month[right], prepared.birth_day[right]
    same = (y1 == y2).astype(np.int8) + (m1 == m2) + (d1 == d2)
    day_month_swapped = (y1 == y2) & (m1 == d2) & (d1 == m2)
    levels = np.full(left.size, 4, dtype=np.int8)
    levels[np.abs(y1.astype(np.int32) - y2) <= 1] = 3
    levels[(same == 2) | day_month_swapped] = 2
    levels[same == 3] = 1
    levels[(y1 < 0) | (y2 < 0)] = NULL_LEVEL_CODE
    return levels


def exact_levels(codes: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """1 equal, 2 different, 0 where either is null."""
    a, b = codes[left], codes[right]
    levels = np.where(a == b, 1, 2).astype(np.int8)
    levels[(a < 0) | (b < 0)] = NULL_LEVEL_CODE
    return levels


def email_levels(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """1 exact, 2 same local part (other domain), 3 else."""
    levels = exact_levels(prepared.email_code, left, right)
    local_left, local_right = prepared.email_local_code[left], prepared.email_local_code[right]
    same_local = (levels == 2) & (local_left >= 0) & (local_left == local_right)
    levels[(levels == 2) & ~same_local] = 3
    return levels


def address_levels(
    prepared: PreparedRecords,
    left: np.ndarray,
    right: np.ndarray,
    thresholds: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """One comparison for postcode, street and city, so one address is not counted thrice.

    1 same postcode and street, 2 same postcode and street similarity >= thresholds[0],
    3 same postcode, 4 same city (term-frequency adjusted), 5 city Jaro-Winkler >=
    thresholds[1], 6 else; 0 when either side has none of the three.
    """
    street_threshold, city_threshold = thresholds
    post_a, post_b = prepared.postal_code[left], prepared.postal_code[right]
    street_a, street_b = prepared.street_code[left], prepared.street_code[right]
    city_a, city_b = prepared.city_code[left], prepared.city_code[right]
    same_post = (post_a >= 0) & (post_a == post_b)
    same_city = (city_a >= 0) & (city_a == city_b)
    levels = np.full(left.size, 6, dtype=np.int8)
    other_city = np.flatnonzero(~same_post & ~same_city)
    city_similarity = jaro_winkler(prepared.cities, city_a[other_city], city_b[other_city])
    levels[other_city[city_similarity >= city_threshold]] = 5
    levels[same_city] = 4
    levels[same_post] = 3
    near = np.flatnonzero(same_post & (street_a != street_b))
    similarity = street_similarity(prepared.streets, street_a[near], street_b[near])
    levels[near[similarity >= street_threshold]] = 2
    levels[same_post & (street_a >= 0) & (street_a == street_b)] = 1
    empty_a = (post_a < 0) & (street_a < 0) & (city_a < 0)
    empty_b = (post_b < 0) & (street_b < 0) & (city_b < 0)
    levels[empty_a | empty_b] = NULL_LEVEL_CODE
    return levels, value_frequency_at(levels == 4, city_a, prepared.city_frequency)
