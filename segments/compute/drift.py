"""Compute layer: drift of cluster centroids between runs and of feature populations over time.

Centroid drift: old and new centroids are matched one to one by the Hungarian algorithm on
Euclidean distance; each matched pair's shift is divided by the mean pairwise distance between
the OLD centroids. That scale is the typical gap between segments, so "0.10" reads as "moved a
tenth of the way towards a neighbouring segment" whatever the units; dividing by a centroid's
norm was rejected because standardised centroids sit near the origin, where norms are tiny and
the ratio explodes.

Population drift: PSI per feature on ten quantile bins of the reference (categorical features
use the reference's levels plus "other"), with the two-sample Kolmogorov-Smirnov statistic for
numeric ones. PSI reading, the usual convention: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, pdist
from scipy.stats import ks_2samp

from cdp.core.frames import require_columns

PSI_BINS = 10
PSI_FLOOR = 1e-4  # share given to an empty bin so that the log stays finite
PSI_MODERATE = 0.10
PSI_MAJOR = 0.25
OTHER_LEVEL = "other"
DRIFT_COLUMNS = (
    "kind",
    "psi",
    "level",
    "drifted",
    "ks_statistic",
    "ks_pvalue",
    "reference_missing_share",
    "current_missing_share",
    "bins",
)


@dataclass(frozen=True, kw_only=True)
class DriftReport:
    """How far each old centroid moved to its matched new centroid, relative to `scale`."""

    matching: tuple[tuple[int, int], ...]  # (old index, new index)
    shifts: tuple[float, ...]  # Euclidean distance per matched pair
    relative_shifts: tuple[float, ...]  # shift / scale
    scale: float  # mean pairwise distance between the old centroids
    max_relative_shift: float
    mean_relative_shift: float
    unmatched_old: tuple[int, ...]  # clusters that vanished (k went down)
    unmatched_new: tuple[int, ...]  # clusters that appeared (k went up)

    def params(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


def centroid_drift(old_centroids: np.ndarray, new_centroids: np.ndarray) -> DriftReport:
    """Match centroids (Hungarian) and measure each matched shift against the old spacing.

    Raises ValueError with fewer than two old centroids or mismatched widths.
    """
    old = np.asarray(old_centroids, dtype=np.float64)
    new = np.asarray(new_centroids, dtype=np.float64)
    if len(old) < 2 or old.ndim != 2 or new.ndim != 2 or old.shape[1] != new.shape[1]:
        raise ValueError("need 2+ old centroids and the same number of columns in both")
    cost = cdist(old, new)
    rows, cols = linear_sum_assignment(cost)
    scale = float(pdist(old).mean())
    shifts = cost[rows, cols]
    relative = shifts / scale if scale > 0 else np.full(len(shifts), np.inf)
    return DriftReport(
        matching=tuple((int(r), int(c)) for r, c in zip(rows, cols, strict=True)),
        shifts=tuple(float(v) for v in shifts),
        relative_shifts=tuple(float(v) for v in relative),
        scale=scale,
        max_relative_shift=float(relative.max()) if len(relative) else 0.0,
        mean_relative_shift=float(relative.mean()) if len(relative) else 0.0,
        unmatched_old=tuple(sorted(set(range(len(old))) - {int(r) for r in rows})),
        unmatched_new=tuple(sorted(set(range(len(new))) - {int(c) for c in cols})),
    )


def should_retrain(report: DriftReport, threshold: float = 0.10) -> bool:
    """True when a centroid moved more than `threshold` of the old spacing, or k changed."""
    return (
        report.max_relative_shift > threshold
        or bool(report.unmatched_old)
        or bool(report.unmatched_new)
    )


def population_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str],
    *,
    bins: int = PSI_BINS,
    psi_threshold: float = 0.2,
) -> pd.DataFrame:
    """One row per feature: PSI (reference quantile bins), its level, whether it passes
    `psi_threshold`, the KS statistic and p-value (numeric only), and missing shares.
    Missing values are left out of PSI and KS and reported as shares instead."""
    require_columns(reference, features)
    require_columns(current, features)
    rows: dict[str, dict[str, Any]] = {}
    for feature in features:
        ref, cur = reference[feature], current[feature]
        numeric = pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref)
        ref_present, cur_present = ref.dropna(), cur.dropna()
        if numeric:
            psi, n_bins = _numeric_psi(ref_present, cur_present, bins)
            ks = _ks(ref_present, cur_present)
        else:
            psi, n_bins = _categorical_psi(ref_present, cur_present)
            ks = (np.nan, np.nan)
        rows[feature] = {
            "kind": "numeric" if numeric else "categorical",
            "psi": psi,
            "level": _level(psi),
            "drifted": bool(psi >= psi_threshold),
            "ks_statistic": ks[0],
            "ks_pvalue": ks[1],
            "reference_missing_share": _missing_share(ref),
            "current_missing_share": _missing_share(cur),
            "bins": n_bins,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(DRIFT_COLUMNS))
    frame.index.name = "feature"
    return frame


def psi(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins (empty -> 1e-4)."""
    ref = np.maximum(np.asarray(reference_shares, dtype=np.float64), PSI_FLOOR)
    cur = np.maximum(np.asarray(current_shares, dtype=np.float64), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _numeric_psi(ref: pd.Series, cur: pd.Series, bins: int) -> tuple[float, int]:
    ref_values = ref.to_numpy(dtype=np.float64)
    cur_values = cur.to_numpy(dtype=np.float64)
    if ref_values.size == 0 or cur_values.size == 0:
        return float("nan"), 0
    edges = np.unique(np.quantile(ref_values, np.linspace(0, 1, bins + 1)[1:-1]))
    n_bins = len(edges) + 1
    ref_counts = np.bincount(np.searchsorted(edges, ref_values, side="right"), minlength=n_bins)
    cur_counts = np.bincount(np.searchsorted(edges, cur_values, side="right"), minlength=n_bins)
    return psi(ref_counts / ref_values.size, cur_counts / cur_values.size), n_bins


def _categorical_psi(ref: pd.Series, cur: pd.Series) -> tuple[float, int]:
    if ref.empty or cur.empty:
        return float("nan"), 0
    levels = sorted(ref.astype(str).unique())
    ref_shares = ref.astype(str).value_counts(normalize=True).reindex(levels, fill_value=0.0)
    cur_text = cur.astype(str)
    cur_shares = cur_text.value_counts(normalize=True).reindex(levels, fill_value=0.0)
    other = float((~cur_text.isin(levels)).mean())
    ref_vector = np.append(ref_shares.to_numpy(), 0.0)
    cur_vector = np.append(cur_shares.to_numpy(), other)
    return psi(ref_vector, cur_vector), len(levels) + 1


def _ks(ref: pd.Series, cur: pd.Series) -> tuple[float, float]:
    if ref.empty or cur.empty:
        return float("nan"), float("nan")
    result = ks_2samp(ref.to_numpy(dtype=np.float64), cur.to_numpy(dtype=np.float64))
    return float(result.statistic), float(result.pvalue)


def _level(value: float) -> str:
    if np.isnan(value):
        return "unknown"
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value < PSI_MAJOR else "major"


def _missing_share(column: pd.Series) -> float:
    return float(column.isna().mean()) if len(column) else 0.0
