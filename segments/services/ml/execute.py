"""Segments services (ML): run a queued ModelRun to the end — claim it, hand it to the
clustering, training or CLV service, and record success or failure on the row."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from segments.models import ModelRun

from .clusters import cluster_run_execute
from .lifetime import clv_run_execute
from .predictive import predictive_run_execute
from .runs import ProgressHook, RunProgress, model_run_claim, model_run_fail

_EXECUTORS = {
    ModelRun.Kind.CLUSTERING: cluster_run_execute,
    ModelRun.Kind.PREDICTIVE: predictive_run_execute,
    ModelRun.Kind.CLV: clv_run_execute,
}


def model_run_execute(*, model_run_id: int, hook: ProgressHook | None = None) -> str:
    """Execute one run and return its final state.

    Idempotent: a finished run, or one a live worker holds, is left alone (its state is
    returned). Any error of the data or the model fails the run with the message on the row;
    database outages propagate so the task retries (the sweeper reclaims a stale run).
    """
    run = model_run_claim(model_run_id=model_run_id)
    if run is None:
        state = ModelRun.objects.filter(pk=model_run_id).values_list("state", flat=True).first()
        return state or "missing"
    progress = RunProgress(run, hook)
    try:
        _EXECUTORS[ModelRun.Kind(run.kind)](run=run, progress=progress)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # any model or data error is recorded on the run
        model_run_fail(run=run, error=exc)
        return ModelRun.State.FAILED
    ModelRun.objects.filter(pk=run.pk).update(
        state=ModelRun.State.SUCCEEDED,
        stage="done",
        progress_done=100,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    if hook is not None:
        run.refresh_from_db()
        hook(run)
    return ModelRun.State.SUCCEEDED
