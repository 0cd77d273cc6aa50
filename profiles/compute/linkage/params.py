"""Compute layer: the trained linkage model's parameters and their JSON-able dict form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .comparisons import ComparisonSpec

PARAMS_VERSION = 1
FLOOR = 1e-9


@dataclass(frozen=True, kw_only=True)
class ComparisonParams:
    """m and u per non-null level of one comparison (same order as spec.levels)."""

    spec: ComparisonSpec
    m: tuple[float, ...]
    u: tuple[float, ...]

    def weights(self) -> np.ndarray:
        """log2(m/u) per level code; code 0 (null) weighs 0."""
        m = np.maximum(np.asarray(self.m, dtype=np.float64), FLOOR)
        u = np.maximum(np.asarray(self.u, dtype=np.float64), FLOOR)
        return np.concatenate([[0.0], np.log2(m / u)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"spec": self.spec.to_dict(), "m": list(self.m), "u": list(self.u)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComparisonParams:
        """Inverse of to_dict."""
        return cls(
            spec=ComparisonSpec.from_dict(data["spec"]),
            m=tuple(float(v) for v in data["m"]),
            u=tuple(float(v) for v in data["u"]),
        )


@dataclass(frozen=True, kw_only=True)
class TrainingSession:
    """One EM session: the blocking rule whose pairs it used and what it found."""

    rule: str
    pairs: int
    estimated: tuple[str, ...]
    block_prior: float
    iterations: int
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "rule": self.rule,
            "pairs": self.pairs,
            "estimated": list(self.estimated),
            "block_prior": self.block_prior,
            "iterations": self.iterations,
            "converged": self.converged,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSession:
        """Inverse of to_dict."""
        return cls(
            rule=str(data["rule"]),
            pairs=int(data["pairs"]),
            estimated=tuple(data["estimated"]),
            block_prior=float(data["block_prior"]),
            iterations=int(data["iterations"]),
            converged=bool(data["converged"]),
        )


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """A trained linkage model: stored as a JSON-able dict in a ModelRun row, never pickled.

    `prior` is the probability that two records drawn at random are the same entity.
    """

    comparisons: tuple[ComparisonParams, ...]
    prior: float
    tf_minimum_u: float
    u_sample_pairs: int
    sessions: tuple[TrainingSession, ...]

    @property
    def specs(self) -> tuple[ComparisonSpec, ...]:
        """The comparison specs, in model order."""
        return tuple(c.spec for c in self.comparisons)

    @property
    def prior_weight(self) -> float:
        """log2 of the prior odds that two random records match."""
        return float(np.log2(self.prior / (1.0 - self.prior)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (floats, ints, strings, bools, lists, dicts only)."""
        return {
            "version": PARAMS_VERSION,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "prior": self.prior,
            "tf_minimum_u": self.tf_minimum_u,
            "u_sample_pairs": self.u_sample_pairs,
            "sessions": [session.to_dict() for session in self.sessions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelParams:
        """Inverse of to_dict. Raises ValueError for an unknown version."""
        if data.get("version") != PARAMS_VERSION:
            raise ValueError(f"unsupported model params version {data.get('version')!r}")
        return cls(
            comparisons=tuple(ComparisonParams.from_dict(c) for c in data["comparisons"]),
            prior=float(data["prior"]),
            tf_minimum_u=float(data["tf_minimum_u"]),
            u_sample_pairs=int(data["u_sample_pairs"]),
            sessions=tuple(TrainingSession.from_dict(s) for s in data["sessions"]),
        )
