"""Benchmark: ML segments on generated data with known personas, and clustering at scale.

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.ml --people 100000 --events-per-person 150

1. quality: N people from the demo generator (seeded, with true personas); a customer feature
   frame built from their orders and events; the clustering run's engine (feature pipeline,
   k chosen by elbow and silhouette, K-Means, stability, profiles, names) -> adjusted Rand
   index against the true personas, for the chosen k and for every k in the range; then a
   churn model (no order in the next 90 days) trained at one cutoff and evaluated at a later
   one (time-based holdout) -> ROC-AUC.
2. scale: 1,000,000 synthetic profiles x 12 features through the same engine with Mini-Batch
   K-Means, k selection over 2..10 included -> seconds and peak RSS.

Each part runs in its own process so its time and peak memory are its own. Progress goes to
stderr; the last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from bench.clustering_engine import generate, spec_for
from bench.ml_frames import DemoFrames, build, customer_frame
from segments.compute import clustering as cl
from segments.compute import prediction as pr
from segments.compute.features import NumericFeature, PipelineSpec
from segments.services.ml.engine import ClusteringSettings, run_clustering
from segments.services.ml.snapshots import pooled_training_frame, snapshot_cutoffs

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime.date(2025, 6, 1)
HORIZON_DAYS = 90
# The features that separate the personas (see docs/ml.md): what they buy (sale and
# new-season shares, order value), how often and for how long (orders, tenure), whether they
# are still around (days since any event; order gaps overdue), how they browse and read e-mail.
QUALITY_FEATURES = (
    ("sale_share", "standard"),
    ("new_season_share", "standard"),
    ("median_order_value", "log1p_standard"),
    ("frequency", "log1p_standard"),
    ("tenure_days", "standard"),
    ("days_since_last_event", "standard"),
    ("pages", "log1p_standard"),
    ("session_minutes", "standard"),
    ("pages_per_session", "standard"),
    ("email_clicks", "log1p_standard"),
    ("overdue_ratio", "log1p_standard"),
)


def log(message: str) -> None:
    print(f"[ml-bench] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StageClock:
    """Progress callback that logs each stage with the elapsed time and keeps the durations."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last = self.started
        self.stage = ""
        self.seconds: dict[str, float] = {}

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.perf_counter()
        if self.stage:
            self.seconds[self.stage] = round(now - self.last, 1)
        self.stage, self.last = stage, now
        log(f"  {now - self.started:6.1f} s  {stage} ({100 * fraction:.0f}%)")

    def finish(self) -> dict[str, float]:
        self("done", 1.0)
        return dict(self.seconds)


def quality_spec() -> PipelineSpec:
    return PipelineSpec(
        numeric=tuple(
            NumericFeature(name=name, imputation="median", scaling=scaling)
            for name, scaling in QUALITY_FEATURES
        ),
        max_missing_share=0.5,
    )


def clustering_quality(customers: pd.DataFrame, seed: int, k_max: int) -> dict[str, Any]:
    """The run engine on the customer frame; ARI of the chosen k and of each k in range."""
    spec = quality_spec()
    started = time.perf_counter()
    outcome = run_clustering(
        customers[["profile_id", *spec.feature_names]],
        spec,
        ClusteringSettings(k_min=2, k_max=k_max, random_state=seed, pictures=()),
        progress=lambda stage, fraction: log(f"  {stage} ({100 * fraction:.0f}%)"),
    )
    seconds = time.perf_counter() - started
    truth = customers.set_index("profile_id").loc[outcome.profile_ids, "persona"].to_numpy()
    by_k = {}
    for k in range(3, 8):
        labels = cl.fit_kmeans(outcome.matrix, k=k, random_state=seed).labels
        by_k[k] = round(float(adjusted_rand_score(truth, labels)), 4)
    chosen = round(float(adjusted_rand_score(truth, outcome.fit.labels)), 4)
    return {
        "customers_clustered": len(outcome.profile_ids),
        "features": list(spec.feature_names),
        "recommended_k": outcome.fit.k,
        "k_reason": outcome.selection.reason if outcome.selection else "fixed",
        "ari_recommended_k": chosen,
        "ari_by_k": by_k,
        "ari_best": max([chosen, *by_k.values()]),
        "silhouette": outcome.fit.metrics.get("silhouette"),
        "stability_mean_ari": outcome.stability.mean if outcome.stability else None,
        "cluster_names": outcome.names,
        "clustering_s": round(seconds, 1),
    }


def churn_quality(
    orders: pd.DataFrame, activity: pd.DataFrame, as_of: pd.Timestamp, horizon: int
) -> dict[str, Any]:
    """As the training service does: monthly training snapshots whose outcome windows end
    where the held-out test snapshot begins (test cutoff = as_of - horizon)."""
    train_cutoffs, test_cutoff = snapshot_cutoffs(today=as_of.to_pydatetime(), horizon_days=horizon)
    frame_orders = orders[list(pr.ORDER_COLUMNS)]
    training = pooled_training_frame(
        frame_orders, activity, cutoffs=train_cutoffs, horizon_days=horizon, target=pr.CHURN
    )
    test = pr.build_training_frame(
        frame_orders, activity, cutoff=pd.Timestamp(test_cutoff), horizon_days=horizon
    )
    train_cutoff = pd.Timestamp(train_cutoffs[0])
    test_cutoff = pd.Timestamp(test_cutoff)
    started = time.perf_counter()
    reports = pr.train_models(
        training, test=test, models=("logistic", "gbm"), n_splits=3, max_threads=1
    )
    best = pr.choose_best(reports)
    return {
        "churn_horizon_days": horizon,
        "churn_train_cutoff": str(train_cutoff.date()),
        "churn_test_cutoff": str(test_cutoff.date()),
        "churn_training_snapshots": len(train_cutoffs),
        "churn_n_train": len(training.labels),
        "churn_n_test": len(test.labels),
        "churn_test_base_rate": round(float(test.labels.mean()), 4),
        "churn_best_model": best.name,
        "churn_test_roc_auc": round(best.metrics["test_roc_auc"], 4),
        "churn_test_pr_auc": round(best.metrics["test_pr_auc"], 4),
        "churn_by_model": {r.name: round(r.metrics["test_roc_auc"], 4) for r in reports},
        "churn_training_s": round(time.perf_counter() - started, 1),
    }


def _frames(args: argparse.Namespace) -> DemoFrames:
    """Generate and reduce (or read the --cache file written by an earlier run)."""
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.exists():
        log(f"reading {cache}")
        with cache.open("rb") as handle:
            return pickle.load(handle)  # noqa: S301 (a file this benchmark wrote)
    frames = build(
        people=args.people,
        seed=args.seed,
        events_per_person=args.events_per_person,
        as_of=AS_OF,
        progress=lambda done: log(f"generated {done:,} people") if done % 20_000 == 0 else None,
    )
    if cache is not None:
        with cache.open("wb") as handle:
            pickle.dump(frames, handle)
    return frames


def part_quality(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    frames = _frames(args)
    figures: dict[str, Any] = {
        "people": args.people,
        "seed": args.seed,
        "events_per_person": args.events_per_person,
        "event_window_days": frames.event_window_days,
        "orders": len(frames.orders),
        "generate_and_reduce_s": round(time.perf_counter() - started, 1),
    }
    customers = customer_frame(frames)
    log(f"{len(customers):,} customers; clustering")
    with threadpool_limits(limits=1):
        figures |= clustering_quality(customers, args.seed, args.k_max)
        log(f"ARI {figures['ari_recommended_k']} at k={figures['recommended_k']}; churn model")
        figures |= churn_quality(frames.orders, frames.activity, frames.as_of, args.horizon_days)
        if args.also_horizon:
            longer = churn_quality(frames.orders, frames.activity, frames.as_of, args.also_horizon)
            figures["churn_longer_horizon"] = longer
    figures["quality_peak_rss_mb"] = round(peak_rss_mb(), 1)
    return figures


def part_scale(args: argparse.Namespace) -> dict[str, Any]:
    frame, persona = generate(args.scale_rows, 12, args.seed)
    frame.insert(0, "profile_id", np.arange(len(frame), dtype=np.int64))
    log(f"{len(frame):,} x 12 synthetic profiles; clustering with k selection")
    clock = StageClock()
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        outcome = run_clustering(
            frame,
            spec_for(12),
            ClusteringSettings(
                algorithm="minibatch", k_min=2, k_max=10, random_state=args.seed, pictures=("pca",)
            ),
            progress=clock,
        )
    seconds = time.perf_counter() - started
    stages = clock.finish()
    kept = outcome.profile_ids
    return {
        "scale_rows": args.scale_rows,
        "scale_features": 12,
        "scale_clustering_s": round(seconds, 1),
        "scale_stage_s": stages,
        "scale_peak_rss_mb": round(peak_rss_mb(), 1),
        "scale_recommended_k": outcome.fit.k,
        "scale_ari_vs_planted": round(
            float(adjusted_rand_score(persona[kept], outcome.fit.labels)), 4
        ),
    }


def _child(part: str, argv: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.ml", "--part", part, *argv]
    result = subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("all", "quality", "scale"), default="all")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--events-per-person", type=float, default=150.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--k-max", type=int, default=10)
    parser.add_argument("--scale-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--horizon-days", type=int, default=HORIZON_DAYS)
    parser.add_argument("--also-horizon", type=int, default=180, help="0: none")
    parser.add_argument("--cache", default="", help="pickle of the generated frames (reused)")
    args = parser.parse_args()
    if args.part == "quality":
        print(json.dumps(part_quality(args)))
        return
    if args.part == "scale":
        print(json.dumps(part_scale(args)))
        return
    argv = [
        f"--people={args.people}",
        f"--events-per-person={args.events_per_person}",
        f"--seed={args.seed}",
        f"--k-max={args.k_max}",
        f"--scale-rows={args.scale_rows}",
        f"--horizon-days={args.horizon_days}",
        f"--also-horizon={args.also_horizon}",
        f"--cache={args.cache}",
    ]
    figures = _child("quality", argv)
    if not args.skip_scale:
        figures |= _child("scale", argv)
    figures["targets_met"] = {
        "ari_ge_0_8": figures["ari_recommended_k"] >= 0.8,
        "churn_roc_auc_ge_0_8": figures["churn_test_roc_auc"] >= 0.8,
        "scale_under_120_s": figures.get("scale_clustering_s", 0) < 120,
        "scale_under_6_gb": figures.get("scale_peak_rss_mb", 0) < 6 * 1024,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
