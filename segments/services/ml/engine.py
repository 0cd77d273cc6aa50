"""Segments services (ML): the clustering run as one pure sequence over a feature frame — fit the
pipeline, transform in chunks, choose k, fit, validate, profile, name and picture — shared by
the run service and bench/ml.py. No ORM here: the caller reads the frame and stores the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns
from segments.compute import clustering as cl
from segments.compute.drift import DriftReport, centroid_drift, should_retrain
from segments.compute.features import (
    FittedPipeline,
    PipelineSpec,
    describe_steps,
    fit_pipeline,
    transform,
)

PROFILE_ID = "profile_id"
KMEANS, MINIBATCH, AGGLOMERATIVE, DBSCAN = "kmeans", "minibatch", "agglomerative", "dbscan"
ALGORITHMS = (KMEANS, MINIBATCH, AGGLOMERATIVE, DBSCAN)
LARGE_BASE_ROWS = 100_000  # above this, k is chosen with Mini-Batch K-Means
TRANSFORM_CHUNK_ROWS = 100_000
STABILITY_SAMPLE = 5_000
PCA_PICTURE_ROWS = 3_000
TSNE_PICTURE_ROWS = 1_000
K_DISTANCE_SAMPLE = 5_000

Progress = Callable[[str, float], None]


@dataclass(frozen=True, kw_only=True)
class ClusteringSettings:
    """How to cluster: algorithm and its settings (mirrors a ClusterDefinition row)."""

    algorithm: str = KMEANS
    k: int | None = None
    k_min: int = 2
    k_max: int = 8
    eps: float | None = None
    min_samples: int = 10
    random_state: int = 0
    sample_size: int = 20_000
    stability_boots: int = 8
    pictures: tuple[str, ...] = ("pca", "tsne")

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}")
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError("need 2 <= k_min <= k_max")
        if self.k is not None and self.k < 2:
            raise ValueError("k must be at least 2")


@dataclass(frozen=True, kw_only=True, eq=False)
class ClusteringOutcome:
    """Everything a run stores: the fitted pipeline and model, the rows it labelled, the
    validation figures, the cluster profiles and names, and the 2-D pictures."""

    fitted: FittedPipeline
    fit: cl.ClusterFit
    profile_ids: np.ndarray
    matrix: np.ndarray
    selection: cl.KSelection | None
    k_distance: cl.KDistance | None
    stability: cl.StabilityReport | None
    profiles: cl.ClusterProfiles
    names: list[str]
    projections: dict[str, cl.Projection] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)

    @property
    def n_excluded(self) -> int:
        return self.fitted.n_excluded


def _quiet(stage: str, fraction: float) -> None:
    """The default progress callback: ignore."""


def transform_chunked(frame: pd.DataFrame, fitted: FittedPipeline) -> tuple[np.ndarray, pd.Index]:
    """The model matrix of the kept rows and their index, transformed chunk by chunk (the same
    bits as one pass: the pipeline is row-wise)."""
    matrices: list[np.ndarray] = []
    indexes: list[pd.Index] = []
    for start in range(0, len(frame), TRANSFORM_CHUNK_ROWS):
        part = transform(frame.iloc[start : start + TRANSFORM_CHUNK_ROWS], fitted)
        matrices.append(part.matrix)
        indexes.append(part.index)
    if not matrices:
        return np.empty((0, len(fitted.columns))), pd.Index([])
    return np.vstack(matrices), indexes[0].append(indexes[1:])


def choose_k(matrix: np.ndarray, settings: ClusteringSettings) -> tuple[int, cl.KSelection | None]:
    """The k to fit: the fixed one, or the recommendation of k_selection over k_min..k_max
    (Mini-Batch K-Means on large bases; DBSCAN has no k)."""
    if settings.algorithm == DBSCAN:
        return 0, None
    k_max = min(settings.k_max, len(matrix) - 1)
    if settings.k is not None or k_max < max(settings.k_min, 2):
        return settings.k or settings.k_min, None
    large = settings.algorithm == MINIBATCH or len(matrix) > LARGE_BASE_ROWS
    selection = cl.k_selection(
        matrix,
        k_range=range(settings.k_min, k_max + 1),
        random_state=settings.random_state,
        sample_size=settings.sample_size,
        algorithm=MINIBATCH if large else KMEANS,
    )
    return selection.recommended_k, selection


def fit_model(
    matrix: np.ndarray, k: int, settings: ClusteringSettings
) -> tuple[cl.ClusterFit, cl.KDistance | None]:
    """Fit the chosen algorithm; DBSCAN runs on a sample (eps from the k-distance knee unless
    given) and the other rows join the nearest cluster mean."""
    seed, sample = settings.random_state, settings.sample_size
    if settings.algorithm == KMEANS:
        return cl.fit_kmeans(matrix, k=k, random_state=seed, sample_size=sample), None
    if settings.algorithm == MINIBATCH:
        return cl.fit_minibatch_kmeans(matrix, k=k, random_state=seed, sample_size=sample), None
    if settings.algorithm == AGGLOMERATIVE:
        return cl.fit_agglomerative(matrix, k=k, random_state=seed, sample_size=sample), None
    return _fit_dbscan(matrix, settings)


def _fit_dbscan(
    matrix: np.ndarray, settings: ClusteringSettings
) -> tuple[cl.ClusterFit, cl.KDistance]:
    distances = cl.k_distance(
        matrix,
        settings.min_samples - 1 if settings.min_samples > 1 else 1,
        sample_size=K_DISTANCE_SAMPLE,
        random_state=settings.random_state,
    )
    eps = settings.eps or distances.suggested_eps or float(np.median(distances.distances))
    rows = _sample(len(matrix), settings.sample_size, settings.random_state)
    fit = cl.fit_dbscan(matrix[rows], eps, settings.min_samples, random_state=settings.random_state)
    labels = np.full(len(matrix), cl.NOISE, dtype=np.int64)
    labels[rows] = fit.labels
    others = np.setdiff1d(np.arange(len(matrix)), rows, assume_unique=True)
    if fit.k and others.size:
        labels[others] = cl.assign(matrix[others], fit.centroids)
    settings_out = {**fit.settings, "dbscan_sample_size": len(rows)}
    full = cl.ClusterFit(
        algorithm=fit.algorithm,
        k=fit.k,
        labels=labels,
        centroids=fit.centroids,
        counts=np.bincount(labels[labels != cl.NOISE], minlength=fit.k).astype(np.float64),
        inertia=fit.inertia,
        metrics=fit.metrics,
        settings=settings_out,
    )
    return full, distances


def _sample(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def stability_of(
    matrix: np.ndarray, fit: cl.ClusterFit, settings: ClusteringSettings
) -> cl.StabilityReport | None:
    """Bootstrap ARI between refits (K-Means on STABILITY_SAMPLE rows); None for DBSCAN or
    when stability is switched off."""
    if settings.algorithm == DBSCAN or settings.stability_boots < 2 or fit.k < 2:
        return None
    return cl.bootstrap_stability(
        matrix,
        k=fit.k,
        n_boot=settings.stability_boots,
        sample_size=STABILITY_SAMPLE,
        random_state=settings.random_state,
    )


def pictures(
    matrix: np.ndarray, labels: np.ndarray, settings: ClusteringSettings
) -> dict[str, cl.Projection]:
    """PCA of PCA_PICTURE_ROWS rows and t-SNE of TSNE_PICTURE_ROWS rows, as asked."""
    sizes = {"pca": PCA_PICTURE_ROWS, "tsne": TSNE_PICTURE_ROWS}
    return {
        method: cl.project_2d(
            matrix,
            labels,
            method=method,
            sample_size=sizes[method],
            random_state=settings.random_state,
        )
        for method in settings.pictures
        if method in sizes and len(matrix) >= 5
    }


def run_clustering(
    frame: pd.DataFrame,
    spec: PipelineSpec,
    settings: ClusteringSettings,
    *,
    progress: Progress = _quiet,
) -> ClusteringOutcome:
    """The whole clustering sequence over `frame` (profile_id + the spec's features).

    Deterministic for a given frame, spec and settings (with single-threaded BLAS). Raises
    FeatureSpecError (pipeline), ValueError (too few rows for k, no cluster found).
    """
    require_columns(frame, (PROFILE_ID, *spec.feature_names))
    frame = frame.reset_index(drop=True)
    progress("fitting the feature pipeline", 0.0)
    fitted = fit_pipeline(frame, spec)
    matrix, kept = transform_chunked(frame, fitted)
    if len(matrix) < 3:
        raise ValueError("fewer than 3 profiles have enough features to cluster")
    progress("choosing k (elbow, silhouette, CH, DB)", 0.1)
    k, selection = choose_k(matrix, settings)
    progress(f"fitting {settings.algorithm}", 0.55)
    fit, distances = fit_model(matrix, k, settings)
    if fit.k < 1:
        raise ValueError("no cluster found: DBSCAN labelled every row as noise (raise eps)")
    progress("bootstrap stability", 0.7)
    stability = stability_of(matrix, fit, settings)
    progress("profiling and naming the clusters", 0.85)
    numeric = [feature.name for feature in spec.numeric]
    raw = frame.loc[kept, numeric].reset_index(drop=True) if numeric else None
    basis = raw if raw is not None else pd.DataFrame(matrix, columns=list(fitted.columns))
    profiles = cl.profile_clusters(basis.astype("float64"), fit.labels)
    names = cl.name_clusters(profiles)
    progress("2-D pictures", 0.9)
    views = pictures(matrix, fit.labels, settings)
    return ClusteringOutcome(
        fitted=fitted,
        fit=fit,
        profile_ids=frame.loc[kept, PROFILE_ID].to_numpy(dtype=np.int64),
        matrix=matrix,
        selection=selection,
        k_distance=distances,
        stability=stability,
        profiles=profiles,
        names=names,
        projections=views,
        steps=describe_steps(spec, fitted),
    )


def cluster_rows(profiles: cl.ClusterProfiles, names: list[str]) -> list[dict[str, Any]]:
    """One JSON-able dict per cluster: label, name, size, share and its profile (means,
    z-scores and ratios per feature, the features that set it apart)."""
    table = profiles.params()
    rows = []
    for position, label in enumerate(profiles.labels):
        key = str(label)
        rows.append(
            {
                "index": int(label),
                "name": names[position],
                "size": int(profiles.sizes[position]),
                "share": float(profiles.shares[position]),
                "profile": {
                    "means": table["means"][key],
                    "z_scores": table["z_scores"][key],
                    "ratios": table["ratios"][key],
                    "top_features": table["top_features"].get(key, []),
                },
            }
        )
    return rows


def summary_metrics(outcome: ClusteringOutcome) -> dict[str, Any]:
    """The run's metrics JSON: model metrics, k selection, stability and counts."""
    fit = outcome.fit
    metrics: dict[str, Any] = {
        "k": fit.k,
        "inertia": fit.params()["inertia"],
        **fit.params()["metrics"],
        "n_rows": len(outcome.profile_ids),
        "n_excluded": outcome.n_excluded,
    }
    if outcome.selection is not None:
        metrics["k_selection"] = outcome.selection.params()
    if outcome.stability is not None:
        metrics["stability"] = {
            "mean_ari": outcome.stability.mean,
            "std": outcome.stability.std,
            "min": outcome.stability.min,
            "max": outcome.stability.max,
            "n_boot": outcome.stability.n_boot,
            "sample_size": outcome.stability.sample_size,
        }
    return metrics


DRIFT_PASSES = 3


def refit_centroids(
    centroids: np.ndarray, matrix: np.ndarray, *, passes: int = DRIFT_PASSES
) -> np.ndarray:
    """Where the current population puts the model's centroids: `passes` Lloyd-style sweeps
    started from them (each sweep moves every centroid to the running mean of the rows
    assigned to it; a centroid that no row picks stays put)."""
    fit = cl.ClusterFit(
        algorithm=MINIBATCH,
        k=len(centroids),
        labels=np.empty(0, dtype=np.int64),
        centroids=np.asarray(centroids, dtype=np.float64),
        counts=np.zeros(len(centroids)),
        inertia=0.0,
    )
    for _ in range(passes):
        fit = cl.minibatch_partial_update(replace(fit, counts=np.zeros(fit.k)), matrix)
    return fit.centroids


def drift_check(
    centroids: np.ndarray, matrix: np.ndarray, *, threshold: float
) -> tuple[DriftReport, bool]:
    """Centroid drift of the population in `matrix` against the model's `centroids`, and
    whether it calls for a retrain (a centroid moved more than `threshold` of the spacing)."""
    report = centroid_drift(centroids, refit_centroids(centroids, matrix))
    return report, should_retrain(report, threshold)
