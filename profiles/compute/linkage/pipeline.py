"""Compute layer: the whole linkage run (block, compare, train, score, decide) in one call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .blocking import DEFAULT_MAX_BLOCK_SIZE, DEFAULT_RULES, BlockingRule, candidate_positions
from .clustering import (
    DEFAULT_IDENTITY_FIELDS,
    LinkageDecisions,
    PairGraph,
    Thresholds,
    decide_positions,
)
from .comparisons import DEFAULT_COMPARISONS, ComparisonSpec, compare_positions
from .fellegi_sunter import (
    ModelParams,
    TrainingBlock,
    pair_weights,
    scored_frame,
    train_model,
)
from .records import check_records, prepare_records

StageHook = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class LinkageConfig:
    """Everything a linkage run needs besides the records and the random state."""

    rules: tuple[BlockingRule, ...] = DEFAULT_RULES
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE
    comparisons: tuple[ComparisonSpec, ...] = DEFAULT_COMPARISONS
    thresholds: Thresholds = field(default_factory=Thresholds)
    u_sample_pairs: int = 1_000_000
    em_max_pairs: int = 1_000_000
    em_max_iterations: int = 100
    tf_minimum_u: float = 1e-4
    identity_fields: tuple[str, ...] = DEFAULT_IDENTITY_FIELDS

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "rules": [rule.to_dict() for rule in self.rules],
            "max_block_size": self.max_block_size,
            "comparisons": [spec.to_dict() for spec in self.comparisons],
            "thresholds": self.thresholds.to_dict(),
            "u_sample_pairs": self.u_sample_pairs,
            "em_max_pairs": self.em_max_pairs,
            "em_max_iterations": self.em_max_iterations,
            "tf_minimum_u": self.tf_minimum_u,
            "identity_fields": list(self.identity_fields),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkageConfig:
        """Inverse of to_dict."""
        return cls(
            rules=tuple(BlockingRule.from_dict(rule) for rule in data["rules"]),
            max_block_size=int(data["max_block_size"]),
            comparisons=tuple(ComparisonSpec.from_dict(spec) for spec in data["comparisons"]),
            thresholds=Thresholds.from_dict(data["thresholds"]),
            u_sample_pairs=int(data["u_sample_pairs"]),
            em_max_pairs=int(data["em_max_pairs"]),
            em_max_iterations=int(data["em_max_iterations"]),
            tf_minimum_u=float(data["tf_minimum_u"]),
            identity_fields=tuple(data["identity_fields"]),
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class LinkageResult:
    """A full run: trained parameters, blocking stats, every scored pair, and the decisions."""

    params: ModelParams
    blocking_stats: pd.DataFrame
    scored_pairs: pd.DataFrame
    decisions: LinkageDecisions


def identity_conflicts(
    specs: tuple[ComparisonSpec, ...], weights: np.ndarray, fields: tuple[str, ...]
) -> np.ndarray:
    """Pairs whose comparisons named in `fields` all weigh against a match (weight < 0).

    Raises ValueError for a field that is not one of the comparisons.
    """
    names = [spec.name for spec in specs]
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise ValueError(f"identity fields are not comparisons: {unknown}")
    conflict = np.full(weights.shape[0], bool(fields))
    for field_name in fields:
        conflict &= weights[:, names.index(field_name)] < 0
    return conflict


def _no_hook(stage: str) -> None:
    return None


def link(
    records: pd.DataFrame,
    config: LinkageConfig | None = None,
    *,
    random_state: int,
    on_stage: StageHook = _no_hook,
) -> LinkageResult:
    """Block, compare, learn the model, score every candidate pair and decide merges.

    `on_stage` is called with each finished stage's name (preparing, blocking, comparing,
    training, scoring, clustering): a hook for progress and timing, not needed for the result.
    """
    check_records(records)
    config = config or LinkageConfig()
    prepared = prepare_records(records)
    on_stage("preparing")
    found = candidate_positions(
        records, config.rules, max_block_size=config.max_block_size, cleaned=prepared.cleaned
    )
    on_stage("blocking")
    vectors = compare_positions(prepared, found.left, found.right, config.comparisons)
    on_stage("comparing")
    blocks = [
        TrainingBlock(
            rule=rule.name,
            columns=rule.columns,
            rows=np.flatnonzero(found.rule_mask & (1 << index)),
        )
        for index, rule in enumerate(config.rules)
    ]
    params = train_model(
        prepared,
        vectors,
        blocks,
        u_sample_pairs=config.u_sample_pairs,
        em_max_pairs=config.em_max_pairs,
        em_max_iterations=config.em_max_iterations,
        tf_minimum_u=config.tf_minimum_u,
        random_state=random_state,
    )
    on_stage("training")
    weights = pair_weights(vectors, params)
    ids = prepared.record_ids
    left_ids, right_ids = ids[found.left], ids[found.right]
    scored = scored_frame(
        np.minimum(left_ids, right_ids), np.maximum(left_ids, right_ids), vectors, weights
    )
    on_stage("scoring")
    graph = PairGraph(
        record_ids=ids,
        consent_code=prepared.consent_code,
        jurisdiction_code=prepared.jurisdiction_code,
        left=found.left,
        right=found.right,
        probability=weights.match_probability,
        identity_conflict=identity_conflicts(
            vectors.specs, weights.weights, config.identity_fields
        ),
    )
    decisions = decide_positions(graph, config.thresholds)
    on_stage("clustering")
    return LinkageResult(
        params=params, blocking_stats=found.stats, scored_pairs=scored, decisions=decisions
    )
