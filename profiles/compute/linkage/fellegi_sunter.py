"""Compute layer: Fellegi-Sunter model (u from random pairs, m by EM, prior) and scoring.

Estimation choices, as Splink makes them by default:
- u (how often non-matches agree at each level) comes from uniformly random record pairs,
  which are almost all non-matches, and stays fixed while EM learns m.
- m is learnt by EM in one session per blocking rule, on that rule's candidate pairs, leaving
  out the comparisons of the fields the rule blocks on: inside a block those fields agree by
  construction, for matches and non-matches alike, so they carry no usable signal there. Each
  m is the mean over the sessions that estimated it.
- The prior is the probability that two random records match. With m and u fixed it is the
  one-parameter EM fixed point over all record pairs, where pairs outside the candidates
  count as non-matches (blocking recall close to 1).
Term-frequency adjustment (names, city): on exact agreement, u is replaced by the relative
frequency of the agreed value (floored at `tf_minimum_u`), so a common value weighs less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

from .comparisons import (
    LEFT,
    NAMES_SWAPPED,
    RIGHT,
    ComparisonSpec,
    ComparisonVectors,
    compare_positions,
    level_labels,
)
from .params import FLOOR, ComparisonParams, ModelParams, TrainingSession
from .records import PreparedRecords, positions_of, prepare_records

MATCH_WEIGHT = "match_weight"
MATCH_PROBABILITY = "match_probability"
LEVEL_SUFFIX = "_level"
WEIGHT_SUFFIX = "_weight"


@dataclass(frozen=True, kw_only=True, eq=False)
class EmFit:
    """Result of expectation_maximisation."""

    m: tuple[np.ndarray, ...]
    prior: float
    iterations: int
    converged: bool


def level_distribution(
    levels: np.ndarray,
    n_levels: int,
    weights: np.ndarray | None = None,
    *,
    pseudo_count: float = 0.0,
) -> np.ndarray:
    """Share of each non-null level (codes 1..n_levels) in a level column, optionally weighted,
    with `pseudo_count` added to every level's count."""
    counts = np.bincount(levels, weights=weights, minlength=n_levels + 1)[1:].astype(np.float64)
    counts += pseudo_count
    return counts / max(counts.sum(), FLOOR)


def random_pair_positions(
    size: int, n_pairs: int, *, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random pairs of distinct positions in [0, size)."""
    if size < 2:
        raise ValueError("need at least two records to sample pairs")
    rng = np.random.default_rng(random_state)
    left = rng.integers(0, size, n_pairs)
    right = (left + rng.integers(1, size, n_pairs)) % size
    return left.astype(np.int32), right.astype(np.int32)


def estimate_u(
    prepared: PreparedRecords,
    specs: Sequence[ComparisonSpec],
    *,
    n_pairs: int,
    random_state: int,
) -> tuple[np.ndarray, ...]:
    """u per level of each spec from random pairs (with half a pair added per level)."""
    left, right = random_pair_positions(prepared.size, n_pairs, random_state=random_state)
    vectors = compare_positions(prepared, left, right, specs)
    out = []
    for index, spec in enumerate(specs):
        counts = np.bincount(vectors.levels[:, index], minlength=len(spec.levels) + 1)[1:]
        smoothed = counts.astype(np.float64) + 0.5
        out.append(smoothed / smoothed.sum())
    return tuple(out)


def _start_m(n_levels: int) -> np.ndarray:
    start = 2.0 ** (-2.0 * np.arange(n_levels))
    return start / start.sum()


def _log_odds(
    levels: np.ndarray,
    m: Sequence[np.ndarray],
    u: Sequence[np.ndarray],
    prior: float,
    active: Sequence[bool],
) -> np.ndarray:
    total = np.full(levels.shape[0], np.log(prior / (1.0 - prior)))
    for index, (m_k, u_k) in enumerate(zip(m, u, strict=True)):
        if active[index]:
            ratio = np.maximum(m_k, FLOOR) / np.maximum(u_k, FLOOR)
            total += np.concatenate([[0.0], np.log(ratio)])[levels[:, index]]
    return total


def expectation_maximisation(
    levels: np.ndarray,
    u: Sequence[np.ndarray],
    *,
    active: Sequence[bool] | None = None,
    prior_start: float = 0.5,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
    pseudo_count: float = 1.0,
) -> EmFit:
    """Learn m and the mixing share by EM on a (pairs x comparisons) level matrix, u fixed.

    Only `active` comparisons (default: all) take part; the others keep their start m.
    Null levels (code 0) carry no evidence and are left out of each m. `pseudo_count` pairs
    are added to every level so a level unseen among matches gets a small m, not zero.
    """
    active = [True] * len(u) if active is None else list(active)
    m = [_start_m(u_k.size) for u_k in u]
    prior = prior_start
    for iteration in range(1, max_iterations + 1):
        match = 1.0 / (1.0 + np.exp(-_log_odds(levels, m, u, prior, active)))
        new_m = [
            level_distribution(levels[:, k], u_k.size, weights=match, pseudo_count=pseudo_count)
            if active[k]
            else m[k]
            for k, u_k in enumerate(u)
        ]
        new_prior = float(np.clip(match.mean(), 1e-9, 1 - 1e-9))
        changes = [abs(new_prior - prior)]
        changes += [float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True)]
        m, prior = new_m, new_prior
        if max(changes) < tolerance:
            return EmFit(m=tuple(m), prior=prior, iterations=iteration, converged=True)
    return EmFit(m=tuple(m), prior=prior, iterations=max_iterations, converged=False)


def estimate_prior(
    evidence: np.ndarray, total_pairs: float, *, max_iterations: int = 200, tolerance: float = 1e-9
) -> float:
    """Probability that two random records match, from the evidence (bits) of candidate pairs.

    One-parameter EM over all `total_pairs` record pairs with m and u fixed; pairs outside
    `evidence` are taken as non-matches. Returns the fixed point of
    prior = sum(posterior(prior)) / total_pairs.
    """
    if evidence.size == 0:
        return 1.0 / max(total_pairs, 2.0)
    prior = max(float(np.count_nonzero(evidence > 0)), 1.0) / total_pairs
    for _ in range(max_iterations):
        log_odds = np.log2(prior / (1.0 - prior)) + evidence
        new_prior = float((1.0 / (1.0 + np.exp2(-log_odds))).sum()) / total_pairs
        new_prior = min(max(new_prior, 1e-15), 0.5)
        if abs(np.log(new_prior / prior)) < tolerance:
            return new_prior
        prior = new_prior
    return prior


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainingBlock:
    """The candidate pairs (row indices into the comparison vectors) one blocking rule made,
    and the columns that rule blocks on."""

    rule: str
    columns: frozenset[str]
    rows: np.ndarray


def _session(
    block: TrainingBlock,
    vectors: ComparisonVectors,
    u: Sequence[np.ndarray],
    *,
    max_pairs: int,
    max_iterations: int,
    rng: np.random.Generator,
) -> tuple[TrainingSession, EmFit, list[bool]]:
    rows = block.rows
    if rows.size > max_pairs:
        rows = np.sort(rng.choice(rows, max_pairs, replace=False))
    active = [not block.columns.intersection(spec.columns) for spec in vectors.specs]
    fit = expectation_maximisation(
        vectors.levels[rows], u, active=active, max_iterations=max_iterations
    )
    session = TrainingSession(
        rule=block.rule,
        pairs=int(rows.size),
        estimated=tuple(s.name for s, a in zip(vectors.specs, active, strict=True) if a),
        block_prior=fit.prior,
        iterations=fit.iterations,
        converged=fit.converged,
    )
    return session, fit, active


def learn_m(
    vectors: ComparisonVectors,
    u: Sequence[np.ndarray],
    blocks: Sequence[TrainingBlock],
    *,
    max_pairs_per_session: int,
    max_iterations: int,
    random_state: int,
) -> tuple[tuple[np.ndarray, ...], tuple[TrainingSession, ...]]:
    """m per comparison: the mean over one EM session per blocking rule (see module doc).

    A comparison that no session could estimate (every rule blocks on it, or too few pairs)
    keeps the generic start m (2**-2k, normalised); ModelParams.sessions show which did.
    """
    rng = np.random.default_rng(random_state)
    sums = [np.zeros(u_k.size) for u_k in u]
    counts = np.zeros(len(u), dtype=np.int64)
    sessions = []
    for block in blocks:
        if block.rows.size == 0:
            continue
        session, fit, active = _session(
            block,
            vectors,
            u,
            max_pairs=max_pairs_per_session,
            max_iterations=max_iterations,
            rng=rng,
        )
        sessions.append(session)
        for k in np.flatnonzero(active):
            sums[k] += fit.m[k]
            counts[k] += 1
    m = tuple(
        total / n if n else _start_m(total.size) for total, n in zip(sums, counts, strict=True)
    )
    return m, tuple(sessions)


def train_model(
    prepared: PreparedRecords,
    vectors: ComparisonVectors,
    blocks: Sequence[TrainingBlock],
    *,
    u_sample_pairs: int,
    em_max_pairs: int,
    em_max_iterations: int,
    tf_minimum_u: float,
    random_state: int,
) -> ModelParams:
    """u from random pairs, m by EM per blocking rule, then the prior over all record pairs."""
    specs = vectors.specs
    u = estimate_u(prepared, specs, n_pairs=u_sample_pairs, random_state=random_state)
    m, sessions = learn_m(
        vectors,
        u,
        blocks,
        max_pairs_per_session=max(1, em_max_pairs // max(len(blocks), 1)),
        max_iterations=em_max_iterations,
        random_state=random_state + 1,
    )
    comparisons = tuple(
        ComparisonParams(spec=spec, m=tuple(map(float, m_k)), u=tuple(map(float, u_k)))
        for spec, m_k, u_k in zip(specs, m, u, strict=True)
    )
    evidence = comparison_weights(vectors, comparisons, tf_minimum_u).sum(axis=1, dtype=np.float64)
    total_pairs = prepared.size * (prepared.size - 1) / 2.0
    return ModelParams(
        comparisons=comparisons,
        prior=estimate_prior(evidence, total_pairs),
        tf_minimum_u=tf_minimum_u,
        u_sample_pairs=u_sample_pairs,
        sessions=sessions,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class PairWeights:
    """Per-pair weight of each comparison (pairs x comparisons) and the totals."""

    weights: np.ndarray
    match_weight: np.ndarray
    match_probability: np.ndarray


def comparison_weights(
    vectors: ComparisonVectors, comparisons: Sequence[ComparisonParams], tf_minimum_u: float
) -> np.ndarray:
    """Weight in bits of each pair's level on each comparison, term-frequency adjusted."""
    if vectors.specs != tuple(c.spec for c in comparisons):
        raise ValueError("comparison vectors were made with other specs than the model's")
    weights = np.empty(vectors.levels.shape, dtype=np.float32)
    for index, comparison in enumerate(comparisons):
        column = vectors.levels[:, index]
        weights[:, index] = comparison.weights()[column]
        if comparison.spec.term_frequency:
            frequency = vectors.term_frequency[:, index]
            adjusted = np.flatnonzero(~np.isnan(frequency) & (column > 0))
            m_value = np.maximum(np.asarray(comparison.m)[column[adjusted] - 1], FLOOR)
            u_value = np.maximum(frequency[adjusted].astype(np.float64), tf_minimum_u)
            weights[adjusted, index] = np.log2(m_value / u_value)
    return weights


def pair_weights(vectors: ComparisonVectors, params: ModelParams) -> PairWeights:
    """Weights of compared pairs under `params`: per comparison, total, and probability."""
    weights = comparison_weights(vectors, params.comparisons, params.tf_minimum_u)
    total = weights.sum(axis=1, dtype=np.float64) + params.prior_weight
    probability = 1.0 / (1.0 + np.exp2(-total))
    return PairWeights(weights=weights, match_weight=total, match_probability=probability)


def scored_frame(
    left_ids: np.ndarray, right_ids: np.ndarray, vectors: ComparisonVectors, scored: PairWeights
) -> pd.DataFrame:
    """The per-pair explanation frame: totals, then each comparison's level label and weight."""
    columns: dict[str, Any] = {
        LEFT: left_ids,
        RIGHT: right_ids,
        MATCH_PROBABILITY: scored.match_probability,
        MATCH_WEIGHT: scored.match_weight,
        NAMES_SWAPPED: vectors.names_swapped,
    }
    for index, spec in enumerate(vectors.specs):
        columns[spec.name + LEVEL_SUFFIX] = level_labels(spec, vectors.levels[:, index])
        columns[spec.name + WEIGHT_SUFFIX] = scored.weights[:, index]
    return pd.DataFrame(columns)


def score_pairs(pairs: pd.DataFrame, records: pd.DataFrame, params: ModelParams) -> pd.DataFrame:
    """Score pairs of record ids with a trained model.

    Returns left, right, match_probability, match_weight, names_swapped, and per comparison
    `<name>_level` (label) and `<name>_weight` (bits), so a UI can explain each score.
    Term frequencies come from `records`: pass every record the pairs are drawn from.
    """
    require_columns(pairs, {LEFT, RIGHT})
    prepared = prepare_records(records)
    left = positions_of(prepared.record_ids, pairs[LEFT].to_numpy())
    right = positions_of(prepared.record_ids, pairs[RIGHT].to_numpy())
    vectors = compare_positions(prepared, left, right, params.specs)
    return scored_frame(
        pairs[LEFT].to_numpy(), pairs[RIGHT].to_numpy(), vectors, pair_weights(vectors, params)
    )
