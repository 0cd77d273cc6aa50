"""Segments selectors (ML): runs and their progress, clusters, run history for the metrics-over-
time charts, score distributions, and the models the schedules work on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, QuerySet

from segments.models import (
    Cluster,
    ClusterAssignment,
    ClusterDefinition,
    ModelRun,
    PredictiveModel,
    ProfileScore,
    ScoreSegment,
)

HISTORY_RUNS = 50


@dataclass(frozen=True, kw_only=True)
class RunProgressView:
    """What the progress bar polls."""

    id: int
    state: str
    stage: str
    percent: int
    error: str
    is_finished: bool


def model_runs_qs() -> QuerySet[ModelRun]:
    """Runs, newest first, with their owner (for lists)."""
    return ModelRun.objects.select_related("definition", "predictive_model").order_by(
        "-created_at", "-pk"
    )


def model_run_get(*, run_id: int) -> ModelRun | None:
    return model_runs_qs().filter(pk=run_id).first()


def run_progress(*, run_id: int) -> RunProgressView | None:
    """The progress of one run (one query), or None when it does not exist."""
    run = (
        ModelRun.objects.filter(pk=run_id)
        .only("pk", "state", "stage", "progress_done", "progress_total", "error")
        .first()
    )
    if run is None:
        return None
    return RunProgressView(
        id=run.pk,
        state=run.state,
        stage=run.stage,
        percent=run.percent,
        error=run.error,
        is_finished=run.is_finished,
    )


def run_clusters_qs(*, run_id: int) -> QuerySet[Cluster]:
    """The clusters of a run by label, with their segment."""
    return Cluster.objects.filter(run_id=run_id).select_related("segment").order_by("index")


def cluster_get(*, cluster_id: int) -> Cluster | None:
    return Cluster.objects.select_related("run", "segment").filter(pk=cluster_id).first()


def run_history(*, run: ModelRun, limit: int = HISTORY_RUNS) -> list[ModelRun]:
    """The succeeded runs of the same definition or model, oldest first (metrics over time)."""
    runs = ModelRun.objects.filter(state=ModelRun.State.SUCCEEDED)
    if run.definition_id is not None:
        runs = runs.filter(definition_id=run.definition_id)
    else:
        runs = runs.filter(predictive_model_id=run.predictive_model_id)
    latest = runs.order_by("-created_at", "-pk").only(
        "pk", "created_at", "metrics", "trigger", "kind"
    )[:limit]
    return list(reversed(list(latest)))


def score_deciles(*, model_id: int) -> list[dict[str, Any]]:
    """Per decile of a model's current scores: profiles, lowest and highest score (one query)."""
    rows = (
        ProfileScore.objects.filter(model_id=model_id)
        .values("decile")
        .annotate(profiles=Count("pk"), low=Min("score"), high=Max("score"))
        .order_by("decile")
    )
    return list(rows)


def score_segments_qs(*, model_id: int) -> QuerySet[ScoreSegment]:
    return ScoreSegment.objects.filter(model_id=model_id).select_related("segment")


def active_predictive_model_ids() -> list[int]:
    """Models retrained on schedule (active), any target."""
    return list(
        PredictiveModel.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    )


def scoring_model_ids() -> list[int]:
    """Active churn/propensity models with a trained run: re-scored daily."""
    return list(
        PredictiveModel.objects.filter(is_active=True, active_run__kind=ModelRun.Kind.PREDICTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def cluster_definitions_qs() -> QuerySet[ClusterDefinition]:
    return ClusterDefinition.objects.select_related("active_run").order_by("name")


def profile_ml_scores(*, profile_id: int) -> dict[str, list[dict[str, Any]]]:
    """A profile's latest model scores and cluster per clustering (two queries)."""
    scores = (
        ProfileScore.objects.filter(profile_id=profile_id)
        .select_related("model")
        .order_by("model__name")
    )
    assignments = (
        ClusterAssignment.objects.filter(profile_id=profile_id)
        .select_related("definition", "cluster")
        .order_by("definition__name")
    )
    return {
        "scores": [
            {
                "model_id": row.model_id,
                "model": row.model.name,
                "target": row.model.target,
                "score": row.score,
                "decile": row.decile,
                "probability_alive": row.probability_alive,
                "expected_purchases": row.expected_purchases,
                "computed_at": row.computed_at.isoformat(),
            }
            for row in scores
        ],
        "clusters": [
            {
                "definition_id": row.definition_id,
                "clustering": row.definition.name,
                "cluster_id": row.cluster_id,
                "cluster": row.cluster.name,
                "segment_id": row.cluster.segment_id,
                "assigned_at": row.assigned_at.isoformat(),
            }
            for row in assignments
        ],
    }
