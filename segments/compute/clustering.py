"""Compute layer: choose k, fit and validate clusterings, profile, name and picture the clusters.

Every fit returns a `ClusterFit` whose `params()` is JSON (centroids in the units of the
transformed matrix, sizes, metrics, settings, library versions): a stored model scores new rows
with `assign(matrix, centroids)`; nothing is pickled.

Choosing k (`k_selection`): inertia (elbow), silhouette on a sample, Calinski-Harabasz and
Davies-Bouldin per k. The recommended k is the Kneedle knee of the inertia curve, unless the
silhouette of k-1 or k+1 beats the knee's silhouette by more than SILHOUETTE_MARGIN, in which
case that neighbour wins; with no knee (a straight or concave curve) the best silhouette wins.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import (
    DBSCAN,
    AgglomerativeClustering,
    KMeans,
    MiniBatchKMeans,
    kmeans_plusplus,
)
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances_chunked,
)
from sklearn.neighbors import NearestNeighbors

from cdp.core.frames import require_columns

ChunkSource = Callable[[], Iterable[np.ndarray]]

NOISE = -1
SILHOUETTE_MARGIN = 0.05
KMEANS_N_INIT = 4
MINIBATCH_N_INIT = 3
MINIBATCH_RUNS = 3
MINIBATCH_BATCH_SIZE = 16_384  # large batches: fewer steps, less per-step overhead
ASSIGN_BLOCK_ROWS = 16_384
SILHOUETTE_WORKING_MEMORY_MB = 256

# Business KPIs per customer (cluster_kpis).
KPI_CONVERTED = "converted"  # 0/1: bought in the evaluation window
KPI_ORDERS = "orders"  # orders, all time
KPI_REVENUE = "revenue"  # revenue of those orders
KPI_LIFETIME_VALUE = "lifetime_value"
KPI_EMAILS_DELIVERED = "emails_delivered"
KPI_EMAILS_CLICKED = "emails_clicked"
KPI_COLUMNS = (
    KPI_CONVERTED,
    KPI_ORDERS,
    KPI_REVENUE,
    KPI_LIFETIME_VALUE,
    KPI_EMAILS_DELIVERED,
    KPI_EMAILS_CLICKED,
)


@dataclass(frozen=True, kw_only=True, eq=False)
class ClusterFit:
    """A fitted clustering: labels of the fitted rows and everything needed to score new ones."""

    algorithm: str
    k: int
    labels: np.ndarray  # one per fitted row; NOISE for DBSCAN outliers
    centroids: np.ndarray  # (k, n_columns), in transformed units
    counts: np.ndarray  # rows per centroid (cumulative weight after partial updates)
    inertia: float  # sum of squared distances of the fitted rows to their centroid
    metrics: dict[str, float | None] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """JSON-able parameters for a ModelRun row (labels are stored elsewhere, per row)."""
        return {
            "algorithm": self.algorithm,
            "k": self.k,
            "centroids": self.centroids.tolist(),
            "counts": self.counts.tolist(),
            "inertia": _json_float(self.inertia),
            "metrics": {name: _json_float(v) for name, v in self.metrics.items()},
            "settings": dict(self.settings),
            "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ClusterFit:
        """Rebuild a stored model (without row labels) to assign or partially update it."""
        return cls(
            algorithm=params["algorithm"],
            k=params["k"],
            labels=np.empty(0, dtype=np.int64),
            centroids=np.asarray(params["centroids"], dtype=np.float64),
            counts=np.asarray(params["counts"], dtype=np.float64),
            inertia=float(params["inertia"] or 0.0),
            metrics=dict(params["metrics"]),
            settings=dict(params["settings"]),
        )


@dataclass(frozen=True, kw_only=True)
class KSelection:
    """Per-k validation figures for the elbow and silhouette charts, and the chosen k."""

    algorithm: str
    k_values: tuple[int, ...]
    inertia: tuple[float, ...]
    silhouette: tuple[float | None, ...]
    calinski_harabasz: tuple[float, ...]
    davies_bouldin: tuple[float, ...]
    silhouette_sample_size: int
    knee_k: int | None
    recommended_k: int
    reason: str

    def table(self) -> pd.DataFrame:
        """One row per k."""
        columns = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")
        data = {name: getattr(self, name) for name in columns}
        return pd.DataFrame(data, index=pd.Index(self.k_values, name="k"))

    def params(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True, kw_only=True, eq=False)
class KDistance:
    """Sorted distances to the k-th nearest other row (the DBSCAN k-distance plot)."""

    k: int
    distances: np.ndarray
    suggested_eps: float | None


@dataclass(frozen=True, kw_only=True)
class StabilityReport:
    """Adjusted Rand index between clusterings of bootstrap resamples, on their shared rows."""

    k: int
    n_boot: int
    sample_size: int
    pair_scores: tuple[float, ...]
    mean: float
    std: float
    min: float
    max: float


@dataclass(frozen=True, kw_only=True, eq=False)
class ClusterProfiles:
    """Per cluster: size, share, feature means, and how they differ from the overall mean."""

    labels: tuple[int, ...]
    sizes: tuple[int, ...]
    shares: tuple[float, ...]
    overall_mean: pd.Series
    overall_std: pd.Series
    means: pd.DataFrame  # cluster x feature
    z_scores: pd.DataFrame  # (cluster mean - overall mean) / overall std
    ratios: pd.DataFrame  # cluster mean / overall mean (NaN where the overall mean is 0)
    top_features: dict[int, tuple[str, ...]]  # by |z|, at least MIN_DISTINGUISHING_Z

    def params(self) -> dict[str, Any]:
        """JSON-able form (a ratio with a zero overall mean becomes None)."""

        def table(frame: pd.DataFrame) -> dict[str, dict[str, float | None]]:
            return {
                str(label): {str(c): _json_float(v) for c, v in row.items()}
                for label, row in frame.iterrows()
            }

        return {
            "labels": list(self.labels),
            "sizes": list(self.sizes),
            "shares": list(self.shares),
            "overall_mean": {str(c): _json_float(v) for c, v in self.overall_mean.items()},
            "overall_std": {str(c): _json_float(v) for c, v in self.overall_std.items()},
            "means": table(self.means),
            "z_scores": table(self.z_scores),
            "ratios": table(self.ratios),
            "top_features": {str(k): list(v) for k, v in self.top_features.items()},
        }


@dataclass(frozen=True, kw_only=True, eq=False)
class Projection:
    """2-D coordinates of a sample of rows, for a scatter chart coloured by cluster."""

    method: str
    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray
    rows: np.ndarray  # positions of the sampled rows in the input matrix


# --- choosing k -----------------------------------------------------------------------------


def knee_point(
    x: Sequence[float], y: Sequence[float], *, curve: str = "convex", direction: str = "decreasing"
) -> float | None:
    """Kneedle (Satopaa et al. 2011), offline: the x where the normalised curve is farthest
    from the chord joining its ends; None when the curve never bends the given way."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xs.size < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return None
    xn = (xs - xs.min()) / np.ptp(xs)
    yn = (ys - ys.min()) / np.ptp(ys)
    chord = xn if direction == "increasing" else 1.0 - xn
    difference = chord - yn if curve == "convex" else yn - chord
    best = int(np.argmax(difference))
    return float(xs[best]) if difference[best] > 1e-12 else None


def k_selection(
    matrix: np.ndarray,
    *,
    k_range: Iterable[int],
    random_state: int,
    sample_size: int = 20_000,
    algorithm: str = "kmeans",
) -> KSelection:
    """Fit each k and score it (inertia, sampled silhouette, Calinski-Harabasz, Davies-Bouldin);
    recommend k by the rule in this module's docstring."""
    ks = tuple(sorted(set(k_range)))
    if not ks or ks[0] < 2 or ks[-1] >= len(matrix):
        raise ValueError("k_range must hold values between 2 and the number of rows - 1")
    sample = _sample_rows(len(matrix), sample_size, random_state)
    inertia: list[float] = []
    ch: list[float] = []
    db: list[float] = []
    sample_labels: list[np.ndarray] = []
    for k in ks:
        labels, _, sse = _centroid_fit(matrix, k, algorithm, random_state)
        inertia.append(sse)
        ch.append(float(calinski_harabasz_score(matrix, labels)))
        db.append(float(davies_bouldin_score(matrix, labels)))
        sample_labels.append(labels[sample])
    silhouette = silhouette_many(matrix[sample], sample_labels)
    knee = knee_point(ks, inertia, curve="convex", direction="decreasing")
    knee_k = None if knee is None else int(knee)
    recommended, reason = _recommend(ks, silhouette, knee_k)
    return KSelection(
        algorithm=algorithm,
        k_values=ks,
        inertia=tuple(inertia),
        silhouette=tuple(silhouette),
        calinski_harabasz=tuple(ch),
        davies_bouldin=tuple(db),
        silhouette_sample_size=len(sample),
        knee_k=knee_k,
        recommended_k=recommended,
        reason=reason,
    )


def silhouette_many(sample: np.ndarray, labelings: Sequence[np.ndarray]) -> list[float | None]:
    """Mean silhouette of several labelings of the same rows, computing distances only once
    (the figure sklearn's silhouette_score gives; None where a labeling has < 2 clusters)."""
    n = len(sample)
    blocks: list[np.ndarray] = []
    codes: list[np.ndarray | None] = []
    for labels in labelings:
        uniques, code = np.unique(labels, return_inverse=True)
        codes.append(code if 2 <= len(uniques) <= n - 1 else None)
        if codes[-1] is not None:
            blocks.append(np.eye(len(uniques))[code])
    if not blocks:
        return [None] * len(labelings)
    indicator = np.hstack(blocks)
    sums = np.vstack(
        list(
            pairwise_distances_chunked(
                sample,
                reduce_func=lambda chunk, _start: chunk @ indicator,
                working_memory=SILHOUETTE_WORKING_MEMORY_MB,
            )
        )
    )
    scores: list[float | None] = []
    offset = 0
    for code in codes:
        if code is None:
            scores.append(None)
            continue
        k = int(code.max()) + 1
        scores.append(_silhouette_from_sums(sums[:, offset : offset + k], code))
        offset += k
    return scores


def _silhouette_from_sums(sums: np.ndarray, code: np.ndarray) -> float:
    sizes = np.bincount(code, minlength=sums.shape[1]).astype(np.float64)
    rows = np.arange(len(code))
    own_size = sizes[code]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, code] / (own_size - 1)
        means = sums / sizes
        means[rows, code] = np.inf
        b = means.min(axis=1)
        s = (b - a) / np.maximum(a, b)
    s = np.where(own_size > 1, np.nan_to_num(s), 0.0)
    return float(s.mean())


def _recommend(
    ks: tuple[int, ...], silhouette: list[float | None], knee_k: int | None
) -> tuple[int, str]:
    scores = {k: (-np.inf if s is None else s) for k, s in zip(ks, silhouette, strict=True)}
    if knee_k is None:
        best = max(ks, key=lambda k: scores[k])
        return best, f"no elbow in the inertia curve; k={best} has the best silhouette"
    neighbours = [k for k in (knee_k - 1, knee_k + 1) if k in scores]
    best = max(neighbours, key=lambda k: scores[k], default=knee_k)
    if scores[best] - scores[knee_k] > SILHOUETTE_MARGIN:
        return best, (
            f"elbow at k={knee_k}, but the silhouette of k={best} is higher by more than "
            f"{SILHOUETTE_MARGIN}"
        )
    return knee_k, f"elbow of the inertia curve at k={knee_k}"


# --- fitting --------------------------------------------------------------------------------


def fit_kmeans(
    matrix: np.ndarray,
    *,
    k: int,
    random_state: int,
    n_init: int = KMEANS_N_INIT,
    sample_size: int = 20_000,
) -> ClusterFit:
    """K-Means (Lloyd, k-means++ starts); metrics with a silhouette on `sample_size` rows."""
    labels, centroids, inertia = _centroid_fit(matrix, k, "kmeans", random_state, n_init)
    settings = {"random_state": random_state, "n_init": n_init}
    return _finish("kmeans", matrix, labels, centroids, inertia, settings, sample_size)


def fit_minibatch_kmeans(
    data: np.ndarray | ChunkSource,
    *,
    k: int,
    random_state: int,
    batch_size: int = MINIBATCH_BATCH_SIZE,
    n_runs: int = MINIBATCH_RUNS,
    n_passes: int = 1,
    sample_size: int = 20_000,
) -> ClusterFit:
    """Mini-Batch K-Means over an in-memory matrix (sklearn; the best of `n_runs` seeded runs
    by inertia, since one run can settle in a poor local minimum), or over chunks: `data` may be
    a callable returning a fresh iterable of chunks, read `n_passes` times to learn and once more
    to label. The chunked fit seeds k-means++ on the first chunk, then moves each centroid to the
    running mean of the rows assigned to it (as `minibatch_partial_update`); its metrics hold
    Calinski-Harabasz only (computed exactly from running sums)."""
    settings: dict[str, Any] = {"random_state": random_state, "batch_size": batch_size}
    if isinstance(data, np.ndarray):
        seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=n_runs)
        runs = [
            _centroid_fit(data, k, "minibatch", int(seed), batch_size=batch_size) for seed in seeds
        ]
        labels, centroids, inertia = min(runs, key=lambda run: run[2])
        settings["n_runs"] = n_runs
        return _finish("minibatch", data, labels, centroids, inertia, settings, sample_size)
    centroids, counts = _learn_from_chunks(data, k, random_state, batch_size, n_passes)
    labels, inertia, ch = _label_chunks(data, centroids)
    return ClusterFit(
        algorithm="minibatch",
        k=k,
        labels=labels,
        centroids=centroids,
        counts=counts,
        inertia=inertia,
        metrics={"silhouette": None, "calinski_harabasz": ch, "davies_bouldin": None},
        settings={**settings, "n_passes": n_passes, "chunked": True},
    )


def _learn_from_chunks(
    source: ChunkSource, k: int, random_state: int, batch_size: int, n_passes: int
) -> tuple[np.ndarray, np.ndarray]:
    centroids: np.ndarray | None = None
    counts = np.zeros(k)
    for _ in range(n_passes):
        for chunk in source():
            if centroids is None:
                centroids, _ = kmeans_plusplus(chunk, k, random_state=random_state)
            centroids, counts = _minibatch_steps(chunk, centroids, counts, batch_size)
    if centroids is None:
        raise ValueError("the chunk source yielded no rows")
    return centroids, counts


def minibatch_partial_update(
    fit: ClusterFit, chunk: np.ndarray, *, batch_size: int = MINIBATCH_BATCH_SIZE
) -> ClusterFit:
    """Incremental learning: move each centroid towards the new rows assigned to it, with the
    learning rate 1/count (the centroid stays the running mean of every row it has absorbed).
    The returned fit's labels, inertia and metrics describe `chunk` only."""
    if fit.algorithm == "dbscan":
        raise ValueError("DBSCAN models cannot be updated incrementally")
    centroids, counts = _minibatch_steps(chunk, fit.centroids, fit.counts, batch_size)
    labels = assign(chunk, centroids)
    return replace(
        fit,
        labels=labels,
        centroids=centroids,
        counts=counts,
        inertia=_inertia(chunk, labels, centroids),
        metrics={},
        settings={**fit.settings, "partial_updates": fit.settings.get("partial_updates", 0) + 1},
    )


def fit_agglomerative(
    matrix: np.ndarray, *, k: int, random_state: int, sample_size: int = 20_000
) -> ClusterFit:
    """Ward clustering of at most `sample_size` rows (memory grows with its square: 20k rows
    need ~1.6 GB); centroids are the sample clusters' means and the other rows go to the nearest."""
    sample = _sample_rows(len(matrix), sample_size, random_state)
    ward = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(matrix[sample])
    sample_labels = ward.labels_.astype(np.int64)
    centroids = np.vstack([matrix[sample][sample_labels == j].mean(axis=0) for j in range(k)])
    labels = assign(matrix, centroids)
    labels[sample] = sample_labels
    settings = {"random_state": random_state, "ward_sample_size": len(sample)}
    inertia = _inertia(matrix, labels, centroids)
    return _finish("agglomerative", matrix, labels, centroids, inertia, settings, sample_size)


def fit_dbscan(
    matrix: np.ndarray,
    eps: float,
    min_samples: int,
    *,
    random_state: int = 0,
    sample_size: int = 20_000,
) -> ClusterFit:
    """DBSCAN (noise rows get NOISE); centroids are the member means, so `assign` can score new
    rows by nearest centroid. Meant for samples: memory grows with the neighbours within eps."""
    labels = DBSCAN(eps=eps, min_samples=min_samples).fit(matrix).labels_.astype(np.int64)
    k = int(labels.max()) + 1
    centroids = np.vstack(
        [matrix[labels == j].mean(axis=0) for j in range(k)] or [np.empty((0, matrix.shape[1]))]
    )
    settings = {"eps": eps, "min_samples": min_samples, "random_state": random_state}
    inertia = _inertia(matrix, labels, centroids)
    return _finish("dbscan", matrix, labels, centroids, inertia, settings, sample_size)


def k_distance(
    matrix: np.ndarray, k: int, sample_size: int = 10_000, *, random_state: int = 0
) -> KDistance:
    """Sorted distance of each sampled row to its k-th nearest other row, and its Kneedle knee
    as a suggested eps (a row is a DBSCAN core point at that eps with min_samples = k + 1)."""
    sample = matrix[_sample_rows(len(matrix), sample_size, random_state)]
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(sample).kneighbors(sample)
    sorted_distances = np.sort(distances[:, k])
    knee = knee_point(
        np.arange(len(sorted_distances)), sorted_distances, curve="convex", direction="increasing"
    )
    eps = None if knee is None else float(sorted_distances[int(knee)])
    return KDistance(k=k, distances=sorted_distances, suggested_eps=eps)


def assign(matrix: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Label of the nearest centroid (squared Euclidean) for each row; blockwise, exact."""
    labels = np.empty(len(matrix), dtype=np.int64)
    for start in range(0, len(matrix), ASSIGN_BLOCK_ROWS):
        block = matrix[start : start + ASSIGN_BLOCK_ROWS]
        squared = ((block[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        labels[start : start + len(block)] = squared.argmin(axis=1)
    return labels


def _centroid_fit(
    matrix: np.ndarray,
    k: int,
    algorithm: str,
    random_state: int,
    n_init: int | None = None,
    batch_size: int = MINIBATCH_BATCH_SIZE,
) -> tuple[np.ndarray, np.ndarray, float]:
    if algorithm == "kmeans":
        model: KMeans | MiniBatchKMeans = KMeans(
            n_clusters=k, n_init=n_init or KMEANS_N_INIT, random_state=random_state
        )
    elif algorithm == "minibatch":
        model = MiniBatchKMeans(
            n_clusters=k,
            n_init=n_init or MINIBATCH_N_INIT,
            batch_size=batch_size,
            random_state=random_state,
        )
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}; use 'kmeans' or 'minibatch'")
    model.fit(matrix)
    return model.labels_.astype(np.int64), model.cluster_centers_, float(model.inertia_)


def _finish(
    algorithm: str,
    matrix: np.ndarray,
    labels: np.ndarray,
    centroids: np.ndarray,
    inertia: float,
    settings: dict[str, Any],
    sample_size: int,
) -> ClusterFit:
    k = len(centroids)
    clustered = labels != NOISE
    metrics = _metrics(matrix[clustered], labels[clustered], settings, sample_size)
    if algorithm == "dbscan":
        metrics["noise_share"] = float(np.mean(~clustered))
    return ClusterFit(
        algorithm=algorithm,
        k=k,
        labels=labels,
        centroids=np.asarray(centroids, dtype=np.float64),
        counts=np.bincount(labels[clustered], minlength=k).astype(np.float64),
        inertia=float(inertia),
        metrics=metrics,
        settings={**settings, "silhouette_sample_size": sample_size},
    )


def _metrics(
    matrix: np.ndarray, labels: np.ndarray, settings: dict[str, Any], sample_size: int
) -> dict[str, float | None]:
    if not 2 <= len(np.unique(labels)) <= len(matrix) - 1:
        return {"silhouette": None, "calinski_harabasz": None, "davies_bouldin": None}
    sample = _sample_rows(len(matrix), sample_size, settings.get("random_state", 0))
    return {
        "silhouette": silhouette_many(matrix[sample], [labels[sample]])[0],
        "calinski_harabasz": float(calinski_harabasz_score(matrix, labels)),
        "davies_bouldin": float(davies_bouldin_score(matrix, labels)),
    }


def _minibatch_steps(
    chunk: np.ndarray, centroids: np.ndarray, counts: np.ndarray, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    centroids, counts = centroids.astype(np.float64), counts.astype(np.float64)
    k = len(centroids)
    for start in range(0, len(chunk), batch_size):
        batch = chunk[start : start + batch_size]
        labels = assign(batch, centroids)
        sizes = np.bincount(labels, minlength=k).astype(np.float64)
        sums = np.vstack([batch[labels == j].sum(axis=0) for j in range(k)])
        moved = sizes > 0
        total = counts[moved] + sizes[moved]
        centroids[moved] = (centroids[moved] * counts[moved, None] + sums[moved]) / total[:, None]
        counts[moved] = total
    return centroids, counts


def _label_chunks(
    source: ChunkSource, centroids: np.ndarray
) -> tuple[np.ndarray, float, float | None]:
    """Labels, inertia and Calinski-Harabasz of all chunks, from running sums."""
    k, width = centroids.shape
    parts: list[np.ndarray] = []
    inertia, squares = 0.0, 0.0
    sums, sizes, total = np.zeros((k, width)), np.zeros(k), np.zeros(width)
    for chunk in source():
        labels = assign(chunk, centroids)
        parts.append(labels)
        inertia += _inertia(chunk, labels, centroids)
        squares += float((chunk**2).sum())
        total += chunk.sum(axis=0)
        sizes += np.bincount(labels, minlength=k)
        sums += np.vstack([chunk[labels == j].sum(axis=0) for j in range(k)])
    n, used = sizes.sum(), sizes > 0
    explained = float(((sums[used] ** 2).sum(axis=1) / sizes[used]).sum())
    within, between = squares - explained, explained - float(total @ total) / n
    n_clusters = int(used.sum())
    ch = None
    if 2 <= n_clusters < n and within > 0:
        ch = float(between * (n - n_clusters) / (within * (n_clusters - 1)))
    return np.concatenate(parts), inertia, ch


def _inertia(matrix: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> float:
    clustered = labels != NOISE
    if not clustered.any():
        return 0.0
    return float(((matrix[clustered] - centroids[labels[clustered]]) ** 2).sum())


# --- validation -----------------------------------------------------------------------------


def bootstrap_stability(
    matrix: np.ndarray,
    *,
    k: int,
    n_boot: int = 10,
    sample_size: int = 5_000,
    random_state: int,
    algorithm: str = "kmeans",
) -> StabilityReport:
    """Cluster `n_boot` bootstrap resamples and compare every pair by the adjusted Rand index on
    the rows both drew (ARI near 1: the structure is real; near 0: the split is arbitrary)."""
    rng = np.random.default_rng(random_state)
    size = min(sample_size, len(matrix))
    seeds = rng.integers(0, 2**31 - 1, size=n_boot)
    drawn: list[tuple[np.ndarray, np.ndarray]] = []
    for seed in seeds:
        rows = rng.choice(len(matrix), size=size, replace=True)
        labels, _, _ = _centroid_fit(matrix[rows], k, algorithm, int(seed))
        unique_rows, first = np.unique(rows, return_index=True)
        drawn.append((unique_rows, labels[first]))
    scores: list[float] = []
    for (rows_a, labels_a), (rows_b, labels_b) in itertools.combinations(drawn, 2):
        _, in_a, in_b = np.intersect1d(rows_a, rows_b, return_indices=True)
        scores.append(float(adjusted_rand_score(labels_a[in_a], labels_b[in_b])))
    values = np.asarray(scores)
    return StabilityReport(
        k=k,
        n_boot=n_boot,
        sample_size=size,
        pair_scores=tuple(scores),
        mean=float(values.mean()),
        std=float(values.std()),
        min=float(values.min()),
        max=float(values.max()),
    )


def _sample_rows(n: int, sample_size: int, random_state: int) -> np.ndarray:
    """All rows when n <= sample_size, else a sorted random sample without replacement."""
    if n <= sample_size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=sample_size, replace=False))


def _json_float(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


# --- profiles and names ---------------------------------------------------------------------

MIN_DISTINGUISHING_Z = 0.25
MIN_TERM_Z = 0.1  # a feature closer than this to the overall mean never names a cluster
Z_DECIMALS = 9  # |z| equal to this many decimals count as tied (then column order decides)
NAME_TERMS = 3
NOISE_NAME = "noise (no cluster)"
AVERAGE_NAME = "average"

# (substrings of a feature name, word when the cluster is high, word when it is low).
# The first entry whose substring occurs in the lower-cased feature name wins.
VOCABULARY: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("recency", "days_since", "since_last"), "lapsed", "recent"),
    (
        ("monetary", "spend", "revenue", "order_value", "aov", "lifetime_value", "ltv", "basket"),
        "high spend",
        "low spend",
    ),
    (("frequency", "orders", "purchases", "transactions"), "frequent", "rare"),
    (("open_rate", "email_open"), "email-opening", "rarely opens email"),
    (("email", "click"), "email-engaged", "email-unresponsive"),
    (("session", "pages", "visit", "engagement", "duration"), "highly engaged", "low engagement"),
    (("tenure", "account_age", "customer_age"), "long-standing", "new"),
    (("discount", "coupon", "promo"), "deal-seeking", "full-price"),
    (("return",), "many returns", "few returns"),
    (("velocity",), "accelerating", "slowing"),
    (("abandon",), "cart-abandoning", "checkout-completing"),
)


def profile_clusters(features_frame: pd.DataFrame, labels: np.ndarray) -> ClusterProfiles:
    """Size, share and mean of each numeric feature per cluster, against the overall mean (as
    z-scores and ratios), with the features that set each cluster apart (|z| >= 0.25, top 3)."""
    numeric = features_frame.select_dtypes(include=["number", "bool"]).astype(np.float64)
    if numeric.shape[1] != features_frame.shape[1] or numeric.shape[1] == 0:
        raise ValueError("features_frame must hold numeric columns only (at least one)")
    if len(labels) != len(numeric):
        raise ValueError("labels and features_frame differ in length")
    groups = pd.Series(np.asarray(labels), index=numeric.index, name="cluster")
    means = numeric.groupby(groups).mean()
    overall_mean, overall_std = numeric.mean(), numeric.std(ddof=0)
    z_scores = ((means - overall_mean) / overall_std.where(overall_std > 0)).fillna(0.0)
    ratios = means / overall_mean.where(overall_mean != 0)
    sizes = groups.value_counts().reindex(means.index)
    top: dict[int, tuple[str, ...]] = {}
    for label, row in z_scores.iterrows():
        ranked = row.abs().round(Z_DECIMALS).sort_values(ascending=False, kind="stable")
        top[int(label)] = tuple(ranked[ranked >= MIN_DISTINGUISHING_Z].index[:NAME_TERMS])
    return ClusterProfiles(
        labels=tuple(int(v) for v in means.index),
        sizes=tuple(int(v) for v in sizes),
        shares=tuple(float(v) / len(groups) for v in sizes),
        overall_mean=overall_mean,
        overall_std=overall_std,
        means=means,
        z_scores=z_scores,
        ratios=ratios,
        top_features=top,
    )


def name_clusters(profiles: ClusterProfiles) -> list[str]:
    """A readable, distinct name per cluster (in profiles.labels order) from its top differences:
    up to 3 vocabulary terms ("high spend, recent, frequent"); clusters whose names collide get
    their next distinguishing term appended, then a number as a last resort."""
    terms = {label: _terms(profiles.z_scores.loc[label]) for label in profiles.labels}
    used = {
        label: sum(1 for feature, _ in terms[label] if feature in top)
        for label, top in profiles.top_features.items()
    }
    while True:
        names = {label: _name(label, terms[label], used[label]) for label in profiles.labels}
        clashing = _clashes(names)
        growable = [label for label in clashing if used[label] < len(terms[label])]
        if not growable:
            break
        for label in growable:
            used[label] += 1
    return _numbered(names, profiles.labels)


def _terms(z_row: pd.Series) -> list[tuple[str, str]]:
    """(feature, term) pairs, most distinguishing first; one term per vocabulary concept, so two
    email features never give "email-engaged, email-unresponsive"."""
    ranked = z_row.abs().round(Z_DECIMALS).sort_values(ascending=False, kind="stable")
    terms: list[tuple[str, str]] = []
    concepts: set[str] = set()
    for feature in ranked[ranked >= MIN_TERM_Z].index:
        concept, term = _term(str(feature), float(z_row[feature]))
        if concept not in concepts:
            concepts.add(concept)
            terms.append((str(feature), term))
    return terms


def _term(feature: str, z: float) -> tuple[str, str]:
    """(concept, word): the vocabulary entry that matches the feature name, or the name."""
    lowered = feature.lower()
    for keys, high, low in VOCABULARY:
        if any(key in lowered for key in keys):
            return high, high if z > 0 else low
    readable = feature.replace("_", " ")
    return feature, f"high {readable}" if z > 0 else f"low {readable}"


def _name(label: int, terms: list[tuple[str, str]], count: int) -> str:
    if label == NOISE:
        return NOISE_NAME
    return ", ".join(term for _, term in terms[:count]) if count else AVERAGE_NAME


def _clashes(names: dict[int, str]) -> list[int]:
    seen: dict[str, list[int]] = {}
    for label, name in names.items():
        seen.setdefault(name, []).append(label)
    return [label for group in seen.values() if len(group) > 1 for label in group]


def _numbered(names: dict[int, str], order: tuple[int, ...]) -> list[str]:
    result: list[str] = []
    seen: dict[str, int] = {}
    for label in order:
        name = names[label]
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return result


# --- pictures and business KPIs -------------------------------------------------------------


def project_2d(
    matrix: np.ndarray,
    labels: np.ndarray,
    *,
    method: str = "pca",
    sample_size: int = 5_000,
    random_state: int,
) -> Projection:
    """2-D PCA or t-SNE of a random sample of rows, for a scatter chart."""
    rows = _sample_rows(len(matrix), sample_size, random_state)
    sample = matrix[rows]
    if method == "pca":
        n_components = min(2, sample.shape[1], len(sample))
        coords = PCA(n_components=n_components, svd_solver="full").fit_transform(sample)
    elif method == "tsne":
        perplexity = float(min(30.0, max(1.0, (len(sample) - 1) / 3)))
        coords = TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=random_state
        ).fit_transform(sample)
    else:
        raise ValueError(f"unknown method {method!r}; use 'pca' or 'tsne'")
    coords = np.column_stack([coords, np.zeros((len(coords), 2 - coords.shape[1]))])
    return Projection(
        method=method, x=coords[:, 0], y=coords[:, 1], labels=np.asarray(labels)[rows], rows=rows
    )


def cluster_kpis(kpi_frame: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Business KPIs per cluster: customers, share, conversion rate, AOV (revenue / orders),
    mean lifetime value, repeat purchase rate (buyers with 2+ orders / buyers) and email click
    rate (clicks / deliveries). For the overall row, call it with all labels equal."""
    require_columns(kpi_frame, KPI_COLUMNS)
    frame = kpi_frame[list(KPI_COLUMNS)].astype(np.float64)
    frame = frame.assign(
        cluster=np.asarray(labels),
        buyer=(frame[KPI_ORDERS] >= 1).astype(np.float64),
        repeat=(frame[KPI_ORDERS] >= 2).astype(np.float64),
    )
    sums = frame.groupby("cluster").sum()
    counts = frame.groupby("cluster").size()
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "customers": counts,
                "share": counts / len(frame),
                "conversion_rate": sums[KPI_CONVERTED] / counts,
                "aov": sums[KPI_REVENUE] / sums[KPI_ORDERS].where(sums[KPI_ORDERS] > 0),
                "lifetime_value": sums[KPI_LIFETIME_VALUE] / counts,
                "repeat_purchase_rate": sums["repeat"] / sums["buyer"].where(sums["buyer"] > 0),
                "email_click_rate": sums[KPI_EMAILS_CLICKED]
                / sums[KPI_EMAILS_DELIVERED].where(sums[KPI_EMAILS_DELIVERED] > 0),
            }
        )
