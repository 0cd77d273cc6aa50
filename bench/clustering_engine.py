"""Benchmark: the ML segment engine (feature pipeline, k selection, Mini-Batch K-Means) at scale.

Usage: python -m bench.clustering_engine --rows 1000000 --features 12 --seed 7
Prints progress, then as its last line one JSON object of figures (seconds per stage, peak RSS,
chosen k, validation figures, agreement with the planted personas).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from segments.compute.clustering import (
    fit_minibatch_kmeans,
    k_selection,
    name_clusters,
    profile_clusters,
)
from segments.compute.features import (
    NumericFeature,
    PipelineSpec,
    fit_pipeline,
    transform,
)

# name, scaling, share missing; personas shift each feature by a persona-specific z offset.
BASE_FEATURES: tuple[tuple[str, str, float], ...] = (
    ("recency_days", "standard", 0.0),
    ("frequency", "log1p_standard", 0.0),
    ("monetary", "log1p_standard", 0.0),
    ("aov", "log1p_standard", 0.02),
    ("sessions_30d", "log1p_standard", 0.0),
    ("pages_per_visit", "standard", 0.05),
    ("avg_session_duration", "robust", 0.05),
    ("email_open_rate", "standard", 0.10),
    ("email_ctr", "standard", 0.10),
    ("tenure_days", "standard", 0.0),
    ("discount_share", "minmax", 0.0),
    ("return_rate", "standard", 0.03),
)
PERSONAS = 5
CHUNK_ROWS = 100_000


def feature_names(n_features: int) -> list[str]:
    """The first n of BASE_FEATURES, then extra generic ones."""
    names = [name for name, _, _ in BASE_FEATURES[:n_features]]
    return names + [f"extra_{i}" for i in range(n_features - len(names))]


def generate(rows: int, n_features: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic customers: PERSONAS groups with separated means, skewed money, some gaps."""
    rng = np.random.default_rng(seed)
    persona = rng.integers(0, PERSONAS, size=rows)
    offsets = rng.normal(0, 1.6, size=(PERSONAS, n_features))
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(feature_names(n_features)):
        z = rng.normal(0, 1, size=rows) + offsets[persona, j]
        scaling = BASE_FEATURES[j][1] if j < len(BASE_FEATURES) else "standard"
        values = np.expm1(np.abs(z) + 1.5 * z / 2 + 2) if scaling == "log1p_standard" else z * 10
        share = BASE_FEATURES[j][2] if j < len(BASE_FEATURES) else 0.0
        values[rng.random(rows) < share] = np.nan
        columns[name] = values
    return pd.DataFrame(columns), persona


def spec_for(n_features: int) -> PipelineSpec:
    """Median imputation everywhere, flags on the gappy email rates, scaling per feature."""
    numeric: list[NumericFeature] = []
    for j, name in enumerate(feature_names(n_features)):
        base = BASE_FEATURES[j] if j < len(BASE_FEATURES) else (name, "standard", 0.0)
        numeric.append(
            NumericFeature(
                name=name, imputation="median", missing_flag=base[2] >= 0.1, scaling=base[1]
            )
        )
    return PipelineSpec(numeric=tuple(numeric), max_missing_share=0.5)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, figures: dict[str, Any], step: Callable[[], Any]) -> Any:
    """Run one stage, print and record its duration."""
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    figures[f"{label}_s"] = round(seconds, 2)
    print(f"{label}: {seconds:.1f} s, peak RSS {peak_rss_mb():.0f} MB", flush=True)
    return result


def run(rows: int, n_features: int, seed: int) -> dict[str, Any]:
    """The engine end to end; returns the figures."""
    figures: dict[str, Any] = {"rows": rows, "features": n_features, "seed": seed}
    frame, persona = timed("generate", figures, lambda: generate(rows, n_features, seed))
    engine_started = time.perf_counter()
    spec = spec_for(n_features)
    fitted = timed("fit_pipeline", figures, lambda: fit_pipeline(frame, spec))

    def transform_chunks() -> tuple[np.ndarray, np.ndarray]:
        parts = [
            transform(frame.iloc[i : i + CHUNK_ROWS], fitted) for i in range(0, rows, CHUNK_ROWS)
        ]
        return np.vstack([p.matrix for p in parts]), np.concatenate([p.index for p in parts])

    matrix, kept = timed("transform_chunked", figures, transform_chunks)
    selection = timed(
        "k_selection",
        figures,
        lambda: k_selection(matrix, k_range=range(2, 11), random_state=seed, algorithm="minibatch"),
    )
    k = selection.recommended_k
    fit = timed(
        "final_fit",
        figures,
        lambda: fit_minibatch_kmeans(matrix, k=k, random_state=seed),
    )
    engine_seconds = time.perf_counter() - engine_started
    profiles = timed(
        "profile_and_name",
        figures,
        lambda: profile_clusters(frame.loc[kept].reset_index(drop=True), fit.labels),
    )
    figures.update(
        matrix_columns=matrix.shape[1],
        excluded_rows=fitted.n_excluded,
        engine_s=round(engine_seconds, 2),
        peak_rss_mb=round(peak_rss_mb(), 1),
        knee_k=selection.knee_k,
        recommended_k=k,
        true_k=PERSONAS,
        silhouette=fit.metrics["silhouette"],
        calinski_harabasz=fit.metrics["calinski_harabasz"],
        davies_bouldin=fit.metrics["davies_bouldin"],
        ari_vs_personas=round(float(adjusted_rand_score(persona[kept], fit.labels)), 4),
        names=name_clusters(profiles),
    )
    return figures


def main() -> None:
    """Parse arguments, run, print the JSON figures last."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures = run(args.rows, args.features, args.seed)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
