"""Segments services (ML): dynamic clusters — re-score new and changed profiles against the
stored model (Mini-Batch K-Means models also learn from them, partial_fit style), measure
centroid drift of the population against the last trained model, and ask for a retrain when it
passes the definition's threshold."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import numpy as np
import pandas as pd

from cdp.core.actor import SYSTEM
from profiles import public as profiles_public
from segments.compute import clustering as cl
from segments.compute.features import FittedPipeline, transform
from segments.models import Cluster, ClusterAssignment, ClusterDefinition, ModelRun
from segments.selectors.ml_features import cluster_feature_frames

from .engine import MINIBATCH, drift_check
from .materialise import clusters_materialise
from .runs import model_run_request

logger = logging.getLogger(__name__)

RESCORE_CHUNK = 20_000
DRIFT_SAMPLE_ROWS = 20_000
DRIFT_HISTORY = 100


@dataclass(frozen=True, kw_only=True)
class RescoreOutcome:
    rescored: int  # profiles (re)assigned
    dropped: int  # profiles whose features no longer qualify (assignment removed)
    partial_updates: int  # Mini-Batch steps applied to the model


@dataclass(frozen=True, kw_only=True)
class DriftOutcome:
    max_relative_shift: float
    mean_relative_shift: float
    is_over_threshold: bool
    sample_rows: int
    retrain_run_id: int | None


def _active(definition_id: int) -> tuple[ClusterDefinition, ModelRun] | None:
    definition = (
        ClusterDefinition.objects.select_related("active_run").filter(pk=definition_id).first()
    )
    if definition is None or definition.active_run is None:
        return None
    if definition.algorithm == ClusterDefinition.Algorithm.DBSCAN and not len(
        definition.active_run.params.get("centroids") or []
    ):
        return None
    return definition, definition.active_run


def changed_profile_ids(*, definition: ClusterDefinition) -> list[int]:
    """Active profiles to re-score: computed traits changed since the last re-scoring, or no
    assignment under this definition yet (new profiles). One query."""
    since = definition.rescored_at
    changed = (
        profiles_public.computed_traits_qs().filter(computed_at__gt=since).values("profile_id")
    )
    assigned = ClusterAssignment.objects.filter(definition=definition).values("profile_id")
    condition = ~Q(pk__in=assigned)
    if since is not None:
        condition |= Q(pk__in=changed)
    return list(
        profiles_public.profiles_qs().filter(condition).order_by("pk").values_list("pk", flat=True)
    )


def _assign_chunk(
    definition: ClusterDefinition,
    run: ModelRun,
    fitted: FittedPipeline,
    ids: list[int],
    now: datetime,
    model: cl.ClusterFit,
) -> tuple[int, int, cl.ClusterFit, int]:
    features = list(fitted.spec.feature_names)
    parts = list(cluster_feature_frames(features=features, now=now, profile_ids=ids))
    if not parts:
        return 0, 0, model, 0
    frame = pd.concat(parts, ignore_index=True)
    result = transform(frame, fitted)
    kept_ids = frame.loc[result.index, "profile_id"].to_numpy(dtype=np.int64)
    steps = 0
    if definition.algorithm == MINIBATCH and len(result.matrix):
        model = cl.minibatch_partial_update(model, result.matrix)
        steps = 1
    labels = cl.assign(result.matrix, model.centroids) if len(result.matrix) else np.empty(0)
    clusters = dict(Cluster.objects.filter(run=run).values_list("index", "pk"))
    offsets = result.matrix - model.centroids[labels.astype(np.int64)] if len(labels) else None
    distances = np.sqrt((offsets**2).sum(axis=1)) if offsets is not None else np.empty(0)
    rows = [
        ClusterAssignment(
            definition=definition,
            profile_id=int(pid),
            run=run,
            cluster_id=clusters[int(label)],
            distance=float(d),
            assigned_at=now,
        )
        for pid, label, d in zip(kept_ids, labels, distances, strict=True)
        if int(label) in clusters
    ]
    ClusterAssignment.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["definition", "profile"],
        update_fields=["run", "cluster", "distance", "assigned_at"],
    )
    dropped_ids = sorted(set(ids) - {int(p) for p in kept_ids})
    dropped, _ = ClusterAssignment.objects.filter(
        definition=definition, profile_id__in=dropped_ids
    ).delete()
    return len(rows), dropped, model, steps


def clusters_rescore(*, definition_id: int, now: datetime | None = None) -> RescoreOutcome:
    """Assign new and changed profiles with the definition's active model and refill the
    cluster segments for them; a Mini-Batch K-Means model also moves its centroids towards
    them (the updated centroids and counts are saved on the active run; drift is still measured
    against the centroids it was trained with). Profiles whose features no longer qualify lose
    their assignment. Idempotent: a second call finds nothing changed.
    """
    active = _active(definition_id)
    if active is None:
        return RescoreOutcome(rescored=0, dropped=0, partial_updates=0)
    definition, run = active
    now = now or timezone.now()
    ids = changed_profile_ids(definition=definition)
    fitted = FittedPipeline.from_dict(run.pipeline)
    model = cl.ClusterFit.from_params(run.params)
    rescored = dropped = steps = 0
    for start in range(0, len(ids), RESCORE_CHUNK):
        chunk = ids[start : start + RESCORE_CHUNK]
        with transaction.atomic():
            done, gone, model, moved = _assign_chunk(definition, run, fitted, chunk, now, model)
            clusters_materialise(run_id=run.pk, now=now, scope=chunk)
        rescored, dropped, steps = rescored + done, dropped + gone, steps + moved
    with transaction.atomic():
        if steps:
            params = {**run.params, **_moved(model)}
            ModelRun.objects.filter(pk=run.pk).update(params=params)
        ClusterDefinition.objects.filter(pk=definition.pk).update(rescored_at=now)
    logger.info(
        "clusters_rescored",
        extra={"definition_id": definition_id, "rescored": rescored, "dropped": dropped},
    )
    return RescoreOutcome(rescored=rescored, dropped=dropped, partial_updates=steps)


def _moved(model: cl.ClusterFit) -> dict[str, Any]:
    return {
        "centroids": model.centroids.tolist(),
        "counts": model.counts.tolist(),
        "settings": model.settings,
    }


def _population_sample(definition: ClusterDefinition, fitted: FittedPipeline) -> np.ndarray:
    total = profiles_public.profiles_qs().count()
    every = max(1, total // DRIFT_SAMPLE_ROWS)
    parts = list(
        cluster_feature_frames(
            features=list(fitted.spec.feature_names), now=timezone.now(), sample_every=every
        )
    )
    if not parts:
        return np.empty((0, len(fitted.columns)))
    return transform(pd.concat(parts, ignore_index=True), fitted).matrix


def cluster_drift_check(*, definition_id: int) -> DriftOutcome | None:
    """Measure centroid drift of a sample of today's population against the active model's
    trained centroids; over the definition's threshold, ask for a retrain (trigger "drift").
    The check is appended to the run's drift history. None without an active model or data.
    """
    active = _active(definition_id)
    if active is None:
        return None
    definition, run = active
    fitted = FittedPipeline.from_dict(run.pipeline)
    matrix = _population_sample(definition, fitted)
    reference = np.asarray(run.params.get("trained_centroids") or run.params["centroids"])
    if len(matrix) < len(reference) or len(reference) < 2:
        return None
    report, over = drift_check(reference, matrix, threshold=definition.drift_threshold)
    retrain_id = None
    with transaction.atomic():
        if over:
            retrain_id = model_run_request(
                actor=SYSTEM, definition_id=definition.pk, trigger=ModelRun.Trigger.DRIFT
            ).pk
        checks = list(run.diagnostics.get("drift_checks", []))[-(DRIFT_HISTORY - 1) :]
        checks.append(
            {
                "at": timezone.now().isoformat(),
                "max_relative_shift": report.max_relative_shift,
                "mean_relative_shift": report.mean_relative_shift,
                "threshold": definition.drift_threshold,
                "over_threshold": over,
                "sample_rows": len(matrix),
                "retrain_run_id": retrain_id,
            }
        )
        ModelRun.objects.filter(pk=run.pk).update(
            diagnostics={**run.diagnostics, "drift_checks": checks}
        )
    return DriftOutcome(
        max_relative_shift=report.max_relative_shift,
        mean_relative_shift=report.mean_relative_shift,
        is_over_threshold=over,
        sample_rows=len(matrix),
        retrain_run_id=retrain_id,
    )


def dynamic_definition_ids() -> list[int]:
    """Definitions that are re-scored and drift-checked on schedule (dynamic, with a model)."""
    return list(
        ClusterDefinition.objects.filter(is_dynamic=True, active_run__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
