"""Compute layer: record linkage for identity resolution (blocking, Fellegi-Sunter, clustering).

Pure functions over DataFrames: no Django, no I/O. The service layer reads records, calls
`link` (or `candidate_pairs_against` + `score_pairs` with stored `ModelParams` for new
records), and stores the clusters, review pairs and parameters it returns.
"""

from .blocking import (
    DEFAULT_MAX_BLOCK_SIZE,
    DEFAULT_RULES,
    BlockingRule,
    KeyPart,
    blocking_keys,
    blocking_recall,
    candidate_pairs,
    candidate_pairs_against,
)
from .clustering import (
    LinkageDecisions,
    PairwiseScores,
    Thresholds,
    decide_links,
    pairwise_scores,
)
from .comparisons import DEFAULT_COMPARISONS, ComparisonSpec, comparison_levels
from .fellegi_sunter import EmFit, expectation_maximisation, score_pairs
from .params import ComparisonParams, ModelParams, TrainingSession
from .pipeline import LinkageConfig, LinkageResult, link
from .records import GUARD_COLUMNS, RECORD_COLUMNS

__all__ = [
    "DEFAULT_COMPARISONS",
    "DEFAULT_MAX_BLOCK_SIZE",
    "DEFAULT_RULES",
    "GUARD_COLUMNS",
    "RECORD_COLUMNS",
    "BlockingRule",
    "ComparisonParams",
    "ComparisonSpec",
    "EmFit",
    "KeyPart",
    "LinkageConfig",
    "LinkageDecisions",
    "LinkageResult",
    "ModelParams",
    "PairwiseScores",
    "Thresholds",
    "TrainingSession",
    "blocking_keys",
    "blocking_recall",
    "candidate_pairs",
    "candidate_pairs_against",
    "comparison_levels",
    "decide_links",
    "expectation_maximisation",
    "link",
    "pairwise_scores",
    "score_pairs",
]
