"""Segments services (ML): the life of a ModelRun row — request (queued, kicked after commit),
claim by one worker, progress and heartbeat, failure — and the sweeper for lost messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from segments.models import ClusterDefinition, ModelRun, PredictiveModel

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
PENDING = (ModelRun.State.QUEUED, ModelRun.State.RUNNING)

ProgressHook = Callable[[ModelRun], None]


def _owner_filter(definition_id: int | None, predictive_model_id: int | None) -> Q:
    if definition_id is not None:
        return Q(definition_id=definition_id)
    return Q(predictive_model_id=predictive_model_id)


def _kind_for(definition_id: int | None, predictive_model_id: int | None) -> str:
    if (definition_id is None) == (predictive_model_id is None):
        raise InvalidInputError("A run belongs to one cluster definition or one model.")
    if definition_id is not None:
        if not ClusterDefinition.objects.filter(pk=definition_id).exists():
            raise NotFoundError(f"No cluster definition with id {definition_id}.")
        return ModelRun.Kind.CLUSTERING
    target = (
        PredictiveModel.objects.filter(pk=predictive_model_id)
        .values_list("target", flat=True)
        .first()
    )
    if target is None:
        raise NotFoundError(f"No predictive model with id {predictive_model_id}.")
    return ModelRun.Kind.CLV if target == PredictiveModel.Target.CLV else ModelRun.Kind.PREDICTIVE


@transaction.atomic
def model_run_request(
    *,
    actor: Actor,
    definition_id: int | None = None,
    predictive_model_id: int | None = None,
    trigger: str = ModelRun.Trigger.MANUAL,
    kick: bool = True,
) -> ModelRun:
    """Queue a clustering run of a definition, or a training run of a predictive model, and
    kick it after commit (MODEL_RUN_REQUESTED) — unless `kick` is False, for a caller that
    executes it in-process (management commands; the sweeper still finds it if they die).

    Idempotent per owner: while a run of the same definition/model is queued or running, that
    run is returned and nothing new is queued. Raises NotFoundError or InvalidInputError.
    """
    kind = _kind_for(definition_id, predictive_model_id)
    owner = _owner_filter(definition_id, predictive_model_id)
    if definition_id is not None:
        ClusterDefinition.objects.select_for_update().filter(pk=definition_id).first()
    else:
        PredictiveModel.objects.select_for_update().filter(pk=predictive_model_id).first()
    pending = ModelRun.objects.filter(owner, state__in=PENDING).order_by("pk").first()
    if pending is not None:
        return pending
    run = ModelRun.objects.create(
        kind=kind,
        definition_id=definition_id,
        predictive_model_id=predictive_model_id,
        trigger=trigger,
        stage="queued",
        created_by_id=actor.user_id,
    )
    audit_record(
        actor=actor,
        action=f"segments.model_run.{kind}",
        target=run,
        details={"trigger": trigger},
    )
    if kick:
        jobs.publish_on_commit(jobs.MODEL_RUN_REQUESTED, model_run_id=run.pk)
    return run


def model_run_claim(*, model_run_id: int) -> ModelRun | None:
    """Take a run for this worker: queued, or running with a stale heartbeat (its worker died).
    None when it is finished, held by a live worker, locked right now, or missing."""
    with transaction.atomic():
        run = ModelRun.objects.select_for_update(skip_locked=True).filter(pk=model_run_id).first()
        if run is None:
            return None
        now = timezone.now()
        stale = run.heartbeat_at is None or run.heartbeat_at < now - STALE_AFTER
        if run.state == ModelRun.State.QUEUED or (run.state == ModelRun.State.RUNNING and stale):
            run.state = ModelRun.State.RUNNING
            run.started_at = run.started_at or now
            run.heartbeat_at = now
            run.stage = "starting"
            run.progress_done = 0
            run.save(
                update_fields=[
                    "state",
                    "started_at",
                    "heartbeat_at",
                    "stage",
                    "progress_done",
                    "updated_at",
                ]
            )
            return run
    return None


class RunProgress:
    """Writes a run's stage and percentage (and heartbeat) as it goes, each in its own short
    statement so the UI sees it while the run's own writes are still to come."""

    def __init__(self, run: ModelRun, hook: ProgressHook | None = None) -> None:
        self.run = run
        self.hook = hook

    def __call__(self, stage: str, fraction: float) -> None:
        run = self.run
        run.stage = stage[:200]
        run.progress_done = max(run.progress_done, min(99, round(100 * fraction)))
        run.progress_total = 100
        run.heartbeat_at = timezone.now()
        ModelRun.objects.filter(pk=run.pk).update(
            stage=run.stage,
            progress_done=run.progress_done,
            progress_total=100,
            heartbeat_at=run.heartbeat_at,
        )
        if self.hook is not None:
            self.hook(run)

    def span(self, start: float, end: float) -> Callable[[str, float], None]:
        """A callback for a sub-step that maps its 0..1 onto start..end of the whole run."""

        def report(stage: str, fraction: float) -> None:
            self(stage, start + (end - start) * max(0.0, min(1.0, fraction)))

        return report


def model_run_fail(*, run: ModelRun, error: BaseException) -> None:
    """Record a failed run (the error text, no stack); the definition keeps its active model."""
    logger.exception("model_run_failed", extra={"model_run_id": run.pk})
    ModelRun.objects.filter(pk=run.pk).update(
        state=ModelRun.State.FAILED,
        error=f"{type(error).__name__}: {error}"[:2000],
        stage="failed",
        finished_at=timezone.now(),
    )


def model_runs_sweep() -> list[int]:
    """Re-kick runs still queued, and running ones whose heartbeat is stale (a lost message or
    a dead worker). Returns their ids; the claim decides again under a lock."""
    stale = timezone.now() - STALE_AFTER
    ids = list(
        ModelRun.objects.filter(
            Q(state=ModelRun.State.QUEUED) | Q(state=ModelRun.State.RUNNING, heartbeat_at__lt=stale)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for run_id in ids:
        jobs.publish_on_commit(jobs.MODEL_RUN_REQUESTED, model_run_id=run_id)
    return ids
