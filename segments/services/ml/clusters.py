"""Segments services (ML): execute a clustering run — read the features in chunks, run the
engine, store the model as JSON parameters with its diagnostics, the clusters (profiles, KPIs,
names; renamed names and segments carried over from the matching cluster of the last model),
every profile's assignment, and refill the cluster segments."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_limits

from segments.compute import clustering as cl
from segments.compute.drift import DriftReport, centroid_drift
from segments.compute.features import PipelineSpec
from segments.models import Cluster, ClusterAssignment, ClusterDefinition, ModelRun
from segments.selectors.ml_features import cluster_feature_frames, kpi_frame

from .engine import (
    PROFILE_ID,
    ClusteringOutcome,
    ClusteringSettings,
    cluster_rows,
    run_clustering,
    summary_metrics,
)
from .materialise import clusters_materialise, ml_segment_rename, segment_empty
from .runs import RunProgress

READ_CHUNK = 50_000
ASSIGN_BATCH = 5_000
PICTURE_DECIMALS = 4
K_DISTANCE_POINTS = 200


def clustering_settings(definition: ClusterDefinition) -> ClusteringSettings:
    """The engine settings of a definition row."""
    return ClusteringSettings(
        algorithm=definition.algorithm,
        k=definition.k,
        k_min=definition.k_min,
        k_max=definition.k_max,
        eps=definition.eps,
        min_samples=definition.min_samples,
        random_state=definition.random_state,
        sample_size=definition.sample_size,
        stability_boots=definition.stability_boots,
    )


def read_cluster_frame(
    *, spec: PipelineSpec, now: datetime, report: Any, with_kpis: bool = True
) -> pd.DataFrame:
    """Every active profile's features (and KPI columns) as one frame, read in chunks."""
    parts: list[pd.DataFrame] = []
    for number, part in enumerate(
        cluster_feature_frames(
            features=spec.feature_names, now=now, chunk_size=READ_CHUNK, with_kpis=with_kpis
        ),
        start=1,
    ):
        parts.append(part)
        report(f"reading features ({number * READ_CHUNK:,} profiles)", min(0.9, 0.1 * number))
    if not parts:
        raise ValueError("there are no profiles to cluster")
    return pd.concat(parts, ignore_index=True)


def _json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json(value.item())
    return value


def _kpi_tables(frame: pd.DataFrame, outcome: ClusteringOutcome) -> dict[str, Any]:
    rows = frame.set_index(PROFILE_ID).loc[outcome.profile_ids]
    kpis = kpi_frame(rows.reset_index(drop=True))
    labels = outcome.fit.labels
    per_cluster = cl.cluster_kpis(kpis, labels)
    overall = cl.cluster_kpis(kpis, np.zeros(len(labels), dtype=np.int64))
    return {
        "overall": {k: _json(v) for k, v in overall.iloc[0].items()},
        "by_cluster": {
            str(int(label)): {k: _json(v) for k, v in row.items()}
            for label, row in per_cluster.iterrows()
        },
    }


def _pictures(outcome: ClusteringOutcome) -> dict[str, Any]:
    return {
        method: {
            "x": np.round(view.x, PICTURE_DECIMALS).tolist(),
            "y": np.round(view.y, PICTURE_DECIMALS).tolist(),
            "labels": view.labels.astype(int).tolist(),
        }
        for method, view in outcome.projections.items()
    }


def _k_distance(outcome: ClusteringOutcome) -> dict[str, Any] | None:
    if outcome.k_distance is None:
        return None
    distances = outcome.k_distance.distances
    picks = np.unique(np.linspace(0, len(distances) - 1, K_DISTANCE_POINTS).astype(int))
    return {
        "k": outcome.k_distance.k,
        "rank": picks.tolist(),
        "distance": [float(d) for d in distances[picks]],
        "suggested_eps": outcome.k_distance.suggested_eps,
    }


def diagnostics(outcome: ClusteringOutcome, kpis: dict[str, Any]) -> dict[str, Any]:
    """The run's charts and explanations as JSON: pipeline steps, k-selection table, k-distance
    curve, 2-D pictures and the KPI table."""
    return {
        "steps": outcome.steps,
        "k_selection": outcome.selection.params() if outcome.selection else None,
        "k_distance": _k_distance(outcome),
        "pictures": _pictures(outcome),
        "kpis": kpis,
    }


def _previous_matching(
    previous: ModelRun | None, outcome: ClusteringOutcome
) -> tuple[DriftReport | None, dict[int, Cluster]]:
    """Drift from the last model and, per new cluster index, the old cluster it continues."""
    if previous is None or not previous.params.get("centroids"):
        return None, {}
    old = np.asarray(previous.params.get("trained_centroids") or previous.params["centroids"])
    new = outcome.fit.centroids
    if old.ndim != 2 or len(old) < 2 or len(new) < 1 or old.shape[1] != new.shape[1]:
        return None, {}
    report = centroid_drift(old, new)
    old_clusters = {c.index: c for c in previous.clusters.filter(index__gte=0)}
    matched = {
        new_index: old_clusters[old_index]
        for old_index, new_index in report.matching
        if old_index in old_clusters
    }
    return report, matched


def _cluster_rows(
    run: ModelRun, outcome: ClusteringOutcome, kpis: dict[str, Any], matched: dict[int, Cluster]
) -> list[Cluster]:
    rows = []
    for row in cluster_rows(outcome.profiles, outcome.names):
        index = row["index"]
        old = matched.get(index)
        carried = old is not None and old.is_renamed
        rows.append(
            Cluster(
                run=run,
                index=index,
                name=old.name if carried and old else row["name"],
                auto_name=row["name"],
                is_renamed=carried,
                size=row["size"],
                share=row["share"],
                profile=row["profile"],
                kpis=kpis["by_cluster"].get(str(index), {}),
                segment_id=old.segment_id if old is not None else None,
            )
        )
    return Cluster.objects.bulk_create(rows)


def _write_assignments(
    definition: ClusterDefinition, run: ModelRun, outcome: ClusteringOutcome, now: datetime
) -> int:
    """Replace every assignment of the definition with this run's labels (bulk, batched)."""
    ClusterAssignment.objects.filter(definition=definition).delete()
    cluster_ids = dict(Cluster.objects.filter(run=run).values_list("index", "pk"))
    labels = outcome.fit.labels
    distance = np.full(len(labels), np.nan)
    clustered = labels >= 0
    if clustered.any():
        offsets = outcome.matrix[clustered] - outcome.fit.centroids[labels[clustered]]
        distance[clustered] = np.sqrt((offsets**2).sum(axis=1))
    for start in range(0, len(labels), ASSIGN_BATCH):
        stop = start + ASSIGN_BATCH
        ClusterAssignment.objects.bulk_create(
            ClusterAssignment(
                definition=definition,
                profile_id=int(profile_id),
                run=run,
                cluster_id=cluster_ids[int(label)],
                distance=None if np.isnan(d) else float(d),
                assigned_at=now,
            )
            for profile_id, label, d in zip(
                outcome.profile_ids[start:stop], labels[start:stop], distance[start:stop],
                strict=True,
            )
        )  # fmt: skip
    return len(labels)


def _store(
    run: ModelRun,
    definition: ClusterDefinition,
    outcome: ClusteringOutcome,
    kpis: dict[str, Any],
    now: datetime,
) -> list[int]:
    """Everything of a successful run in one transaction; returns the segment ids of old
    clusters that no new cluster continues (to be emptied)."""
    previous = definition.active_run
    drift, matched = _previous_matching(previous, outcome)
    params = outcome.fit.params()
    params["trained_centroids"] = params["centroids"]
    metrics = summary_metrics(outcome)
    if drift is not None:
        metrics["drift_vs_previous"] = drift.params()
    run.spec = {
        "pipeline_spec": definition.spec,
        "settings": asdict(clustering_settings(definition)),
    }
    run.pipeline = outcome.fitted.to_dict()
    run.params = params
    run.metrics = metrics
    run.diagnostics = diagnostics(outcome, kpis)
    run.sklearn_version = sklearn.__version__
    run.n_rows = len(outcome.profile_ids)
    run.previous_run = previous
    run.save()
    clusters = _cluster_rows(run, outcome, kpis, matched)
    for cluster in clusters:
        if cluster.is_renamed and cluster.segment_id:
            ml_segment_rename(
                segment_id=cluster.segment_id, name=_segment_title(definition, cluster)
            )
    _write_assignments(definition, run, outcome, now)
    definition.active_run = run
    definition.rescored_at = now
    definition.save(update_fields=["active_run", "rescored_at", "updated_at"])
    continued = {c.segment_id for c in clusters if c.segment_id}
    retired = []
    if previous is not None:
        retired = [
            segment_id
            for segment_id in previous.clusters.exclude(segment__isnull=True).values_list(
                "segment_id", flat=True
            )
            if segment_id not in continued
        ]
    return retired


def _segment_title(definition: ClusterDefinition, cluster: Cluster) -> str:
    return f"{definition.name}: {cluster.name}"


def cluster_run_execute(*, run: ModelRun, progress: RunProgress) -> None:
    """Run a claimed clustering run to the end and make it the definition's active model.

    The model, clusters and assignments are written in one transaction, then the cluster
    segments are refilled. Raises FeatureSpecError, UnknownFeatureError or ValueError for
    inputs that cannot be clustered (the caller records the failure).
    """
    definition = ClusterDefinition.objects.get(pk=run.definition_id)
    spec = PipelineSpec.from_dict(definition.spec)
    now = timezone.now()
    frame = read_cluster_frame(spec=spec, now=now, report=progress.span(0.0, 0.2))
    columns = [PROFILE_ID, *spec.feature_names]
    with threadpool_limits(limits=1):
        outcome = run_clustering(
            frame[columns],
            spec,
            clustering_settings(definition),
            progress=progress.span(0.2, 0.85),
        )
    kpis = _kpi_tables(frame, outcome)
    del frame
    progress("saving the model, clusters and assignments", 0.87)
    with transaction.atomic():
        retired = _store(run, definition, outcome, kpis, now)
    progress("updating the cluster segments", 0.94)
    with transaction.atomic():
        clusters_materialise(run_id=run.pk, now=now)
        for segment_id in retired:
            segment_empty(segment_id=segment_id, now=now)
