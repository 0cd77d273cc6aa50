"""Benchmark: the record-linkage engine on synthetic people (quality, wall time, peak memory).

Run from the repository root:  python -m bench.identity_engine --people 100000 --seed 1
Prints progress, then as its last line one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from profiles.compute.linkage import (
    LinkageConfig,
    blocking_recall,
    link,
    pairwise_scores,
    score_pairs,
)
from profiles.compute.linkage.clustering import CLUSTER_ID, RECORD_ID
from tests.profiles.linkage_synth import synthetic_linkage


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _merged_pairs(clusters: pd.DataFrame, pairs: pd.DataFrame) -> int:
    cluster_of = clusters.set_index(RECORD_ID)[CLUSTER_ID]
    left = cluster_of.reindex(pairs["left"].to_numpy()).to_numpy()
    right = cluster_of.reindex(pairs["right"].to_numpy()).to_numpy()
    return int(np.count_nonzero(pd.notna(left) & (left == right)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    data = synthetic_linkage(args.people, seed=args.seed)
    generated = time.perf_counter()
    print(f"generated {len(data.records):,} records in {generated - started:.1f}s", flush=True)

    stages: dict[str, float] = {}
    mark = [time.perf_counter()]
    cpu_start = _cpu_seconds()

    def on_stage(name: str) -> None:
        now = time.perf_counter()
        stages[name] = round(now - mark[0], 2)
        mark[0] = now
        print(f"  {name}: {stages[name]:.2f}s  peak {_peak_rss_mb():,.0f} MB", flush=True)

    link_start = time.perf_counter()
    result = link(data.records, LinkageConfig(), random_state=args.seed, on_stage=on_stage)
    link_seconds = time.perf_counter() - link_start
    cpu_seconds = _cpu_seconds() - cpu_start

    scores = pairwise_scores(result.decisions.clusters, data.truth)
    lookalike_scores = score_pairs(data.lookalike_pairs, data.records, result.params)
    figures = {
        "people": args.people,
        "seed": args.seed,
        "records": len(data.records),
        "seconds": stages,
        "link_seconds": round(link_seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "cores": os.cpu_count(),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "candidate_pairs": len(result.scored_pairs),
        "blocking_recall": round(blocking_recall(result.scored_pairs, data.truth), 5),
        "precision": round(scores.precision, 5),
        "recall": round(scores.recall, 5),
        "f1": round(scores.f1, 5),
        "lookalike_pairs": len(data.lookalike_pairs),
        "lookalike_pairs_merged": _merged_pairs(result.decisions.clusters, data.lookalike_pairs),
        "lookalike_max_probability": round(float(lookalike_scores["match_probability"].max()), 5),
        "household_pairs_merged": _merged_pairs(result.decisions.clusters, data.household_pairs),
        "review_pairs": result.decisions.counts["review_pairs"],
        "clusters": result.decisions.counts["clusters"],
        "prior": result.params.prior,
    }
    print(result.blocking_stats.to_string(index=False))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
