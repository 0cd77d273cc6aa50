"""Segments services (ML): train a churn or purchase-propensity model with a time-based split —
features up to a cutoff, the outcome in the horizon after it, a later cutoff held out as the
test — keep the best of logistic / tree / gradient boosting, store it as an artefact, and score
every profile with it (also on schedule, with the stored artefact)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

import numpy as np
import pandas as pd
import sklearn

from cdp.core.errors import InvalidInputError
from segments.compute import prediction as pr
from segments.models import ModelRun, PredictiveModel
from segments.selectors.ml_features import (
    activity_frame,
    midnight_before,
    orders_frame,
    profile_id_ranges,
)

from .artefacts import artefact_load, artefact_save
from .runs import RunProgress
from .scores import scores_write
from .snapshots import merge_frames, pooled_training_frame, snapshot_cutoffs


@dataclass(frozen=True, kw_only=True, eq=False)
class PredictiveFrames:
    """Features and labels of the training and held-out cutoffs, and today's features."""

    training: pr.TrainingFrame | None
    test: pr.TrainingFrame | None
    scoring: pd.DataFrame


def cutoffs(*, now: datetime, horizon_days: int) -> tuple[list[datetime], datetime]:
    """(training snapshot cutoffs, newest first; test cutoff), at UTC midnights: the test
    outcome window ends today, the newest training one where the test features begin."""
    return snapshot_cutoffs(today=midnight_before(now), horizon_days=horizon_days)


def read_predictive_frames(
    *, model: PredictiveModel, now: datetime, report: Any, training: bool = True
) -> PredictiveFrames:
    """Read orders and daily activity profile range by profile range and build, per range,
    the training snapshots and the test snapshot (when `training`) and today's features — so
    memory holds feature rows, never the raw history of everyone."""
    train_cutoffs, test_cutoff = cutoffs(now=now, horizon_days=model.horizon_days)
    horizon, target = model.horizon_days, model.target
    train_parts: list[pr.TrainingFrame] = []
    test_parts: list[pr.TrainingFrame] = []
    scoring_parts: list[pd.DataFrame] = []
    stamp = pd.Timestamp(now)
    ranges = list(profile_id_ranges())
    for number, (low, high) in enumerate(ranges, start=1):
        orders = orders_frame(low=low, high=high, until=now)
        activity = activity_frame(low=low, high=high, as_of=now)
        if training:
            pooled = pooled_training_frame(
                orders, activity, cutoffs=train_cutoffs, horizon_days=horizon, target=target
            )
            if pooled is not None:
                train_parts.append(pooled)
            test_parts.append(
                pr.build_training_frame(
                    orders,
                    activity,
                    cutoff=pd.Timestamp(test_cutoff),
                    horizon_days=horizon,
                    target=target,
                )
            )
        scoring_parts.append(pr.build_scoring_frame(orders, activity, as_of=stamp, target=target))
        report(f"reading orders and activity ({number}/{len(ranges)})", number / len(ranges))
    frame = merge_frames(train_parts, cutoff=train_cutoffs[0], horizon_days=horizon, target=target)
    if training and frame is None:
        raise InvalidInputError("There is no customer history to train on yet.")
    return PredictiveFrames(
        training=frame,
        test=merge_frames(test_parts, cutoff=test_cutoff, horizon_days=horizon, target=target),
        scoring=pd.concat(scoring_parts, ignore_index=True) if scoring_parts else pd.DataFrame(),
    )


def _usable_test(frames: PredictiveFrames) -> pr.TrainingFrame | None:
    test = frames.test
    if test is None or len(np.unique(test.labels)) < 2:
        return None
    return test


def _summaries(reports: list[pr.ModelReport]) -> dict[str, Any]:
    return {report.name: report.summary() for report in reports}


def _train_each(
    model: PredictiveModel,
    frames: PredictiveFrames,
    test: pr.TrainingFrame | None,
    algorithms: list[str],
    progress: RunProgress,
) -> list[pr.ModelReport]:
    """One report per algorithm (trained one by one so the progress bar moves)."""
    training = frames.training
    if training is None:
        raise InvalidInputError("There is no customer history to train on yet.")
    reports: list[pr.ModelReport] = []
    for number, name in enumerate(algorithms):
        progress(
            f"training {name} ({number + 1}/{len(algorithms)})",
            0.3 + 0.5 * number / len(algorithms),
        )
        try:
            reports += pr.train_models(
                training,
                test=test,
                models=[name],
                n_splits=model.n_splits,
                random_state=model.random_state,
                max_threads=1,
            )
        except ValueError as exc:
            raise InvalidInputError(f"Cannot train {name}: {exc}") from exc
    return reports


def predictive_run_execute(*, run: ModelRun, progress: RunProgress) -> None:
    """Train, evaluate on the held-out later cutoff, keep the best model (test ROC-AUC), store
    it and score every customer (prospects too for purchase models).

    Raises InvalidInputError without enough history, LeakageError or ValueError from the
    compute layer (the caller records the failure on the run).
    """
    model = PredictiveModel.objects.get(pk=run.predictive_model_id)
    now = timezone.now()
    frames = read_predictive_frames(model=model, now=now, report=progress.span(0.0, 0.3))
    test = _usable_test(frames)
    algorithms = list(model.algorithms or pr.MODELS)
    reports = _train_each(model, frames, test, algorithms, progress)
    best = pr.choose_best(reports)
    progress("storing the model", 0.82)
    path, digest = artefact_save(run_id=run.pk, estimator=best.estimator)
    train_cutoffs, test_cutoff = cutoffs(now=now, horizon_days=model.horizon_days)
    run.spec = {
        "target": model.target,
        "horizon_days": model.horizon_days,
        "algorithms": algorithms,
        "n_splits": model.n_splits,
        "random_state": model.random_state,
        "train_cutoff": train_cutoffs[0].isoformat(),
        "train_snapshots": [cutoff.isoformat() for cutoff in train_cutoffs],
        "test_cutoff": test_cutoff.isoformat() if test is not None else None,
        "features": list(pr.FEATURES),
    }
    run.params = best.params()
    run.metrics = {
        "best_model": best.name,
        **best.metrics,
        "by_model": {report.name: report.metrics for report in reports},
    }
    run.diagnostics = {"models": _summaries(reports), "evaluated_on": best.evaluated_on}
    run.sklearn_version = sklearn.__version__
    run.artefact, run.artefact_sha256 = path, digest
    run.n_rows = int(best.metrics["n_train"])
    run.previous_run = model.active_run
    run.save()
    progress("scoring every customer", 0.88)
    _score(model, run, best.estimator, frames.scoring, now)


def _score(
    model: PredictiveModel, run: ModelRun, estimator: Any, scoring: pd.DataFrame, now: datetime
) -> int:
    values = pr.score(estimator, scoring) if len(scoring) else np.empty(0)
    with transaction.atomic():
        written = scores_write(
            model_id=model.pk,
            run_id=run.pk,
            profile_ids=scoring[pr.PROFILE_ID].to_numpy() if len(scoring) else np.empty(0),
            scores=values,
            now=now,
        )
        model.active_run = run
        model.save(update_fields=["active_run", "updated_at"])
        history = dict(run.diagnostics)
        history["scored"] = {"at": now.isoformat(), "profiles": written}
        ModelRun.objects.filter(pk=run.pk).update(diagnostics=history)
    return written


def predictive_model_score(*, model_id: int, report: Any = None) -> int:
    """Score every customer now with the model's active run (its stored artefact), without
    retraining. Idempotent. Returns the number of profiles scored (0 without an active run).
    Raises ArtefactError when the stored file is missing or changed."""
    model = PredictiveModel.objects.select_related("active_run").get(pk=model_id)
    run = model.active_run
    if run is None or run.kind != ModelRun.Kind.PREDICTIVE:
        return 0
    estimator = artefact_load(relative_path=run.artefact, sha256=run.artefact_sha256)
    now = timezone.now()
    frames = read_predictive_frames(
        model=model, now=now, report=report or (lambda *_: None), training=False
    )
    return _score(model, run, estimator, frames.scoring, now)
