"""Segments Celery entry points (ML): thin — take ids, call one service, retry transient
database failures. Beat sweeps re-kick lost runs, re-score dynamic clusters, check drift,
score with the active models and retrain them."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from celery import Task, shared_task

from cdp.core.actor import SYSTEM
from segments.models import ModelRun
from segments.selectors.ml import active_predictive_model_ids, scoring_model_ids

from .services.ml.dynamic import cluster_drift_check, clusters_rescore, dynamic_definition_ids
from .services.ml.execute import model_run_execute
from .services.ml.predictive import predictive_model_score
from .services.ml.runs import model_run_request, model_runs_sweep

_TRANSIENT = (OperationalError, InterfaceError)


def _backoff(retries: int) -> int:
    return min(600, 15 * 2**retries)


@shared_task(bind=True, name="segments.model_run_execute", max_retries=6)
def model_run_execute_task(self: Task, model_run_id: int) -> str:
    """MODEL_RUN_REQUESTED: run one clustering/training job (idempotent; see services.ml)."""
    try:
        return model_run_execute(model_run_id=model_run_id)
    except _TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="segments.model_runs_sweep")
def model_runs_sweep_task() -> int:
    """Beat: re-kick runs still queued or running with a stale heartbeat."""
    return len(model_runs_sweep())


@shared_task(bind=True, name="segments.clusters_rescore", max_retries=3)
def clusters_rescore_task(self: Task) -> int:
    """Beat: assign new and changed profiles of every dynamic clustering (idempotent)."""
    try:
        return sum(
            clusters_rescore(definition_id=definition_id).rescored
            for definition_id in dynamic_definition_ids()
        )
    except _TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="segments.clusters_drift_check")
def clusters_drift_check_task() -> int:
    """Beat: centroid drift of every dynamic clustering; returns how many asked to retrain."""
    outcomes = [cluster_drift_check(definition_id=pk) for pk in dynamic_definition_ids()]
    return sum(1 for outcome in outcomes if outcome and outcome.is_over_threshold)


@shared_task(name="segments.predictive_score")
def predictive_score_task() -> int:
    """Beat: score every customer with each active churn/propensity model's stored model."""
    return sum(predictive_model_score(model_id=model_id) for model_id in scoring_model_ids())


@shared_task(name="segments.predictive_retrain")
def predictive_retrain_task() -> int:
    """Beat: queue a training run of every active predictive and CLV model."""
    for model_id in active_predictive_model_ids():
        model_run_request(
            actor=SYSTEM, predictive_model_id=model_id, trigger=ModelRun.Trigger.SCHEDULE
        )
    return len(active_predictive_model_ids())
