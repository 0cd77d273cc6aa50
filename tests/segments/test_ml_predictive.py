from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings

import numpy as np
import pandas as pd
import pytest
import time_machine

from profiles.models import Event, Order
from segments.compute.prediction import LeakageError, build_training_frame, customer_features
from segments.models import ModelRun, PredictiveModel, ProfileScore, SegmentMembership
from segments.selectors.ml_features import activity_frame, orders_frame
from segments.services.ml.artefacts import ArtefactError
from segments.services.ml.definitions import score_segment_create
from segments.services.ml.execute import model_run_execute
from segments.services.ml.predictive import cutoffs, predictive_model_score
from segments.services.ml.runs import model_run_request

from .ml_data import ACTOR, NOW, histories, page_view, predictive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW):
        yield


def _train(model: PredictiveModel) -> ModelRun:
    run = model_run_request(actor=ACTOR, predictive_model_id=model.pk)
    model_run_execute(model_run_id=run.pk)
    return ModelRun.objects.get(pk=run.pk)


def test_churn_model_trains_on_a_time_split_and_scores_every_customer():
    truth = histories(steady=60, stopping=60)
    model = predictive("Churn 60d", "churn", algorithms=("logistic", "tree"))

    run = _train(model)

    assert run.state == ModelRun.State.SUCCEEDED, run.error
    train_cutoffs, test_cutoff = cutoffs(now=NOW, horizon_days=60)
    assert run.spec["train_cutoff"] == train_cutoffs[0].isoformat()
    assert run.spec["test_cutoff"] == test_cutoff.isoformat()
    assert test_cutoff - train_cutoffs[0] == timedelta(days=60)
    assert [c.isoformat() for c in train_cutoffs] == run.spec["train_snapshots"]
    assert train_cutoffs[0] - train_cutoffs[5] == timedelta(days=150)
    assert set(run.metrics["by_model"]) == {"logistic", "tree"}
    assert run.metrics["test_roc_auc"] > 0.8
    assert run.metrics["best_model"] in {"logistic", "tree"}
    assert Path(settings.MEDIA_ROOT, run.artefact).is_file()
    assert len(run.artefact_sha256) == 64
    scores = dict(ProfileScore.objects.filter(model=model).values_list("profile_id", "score"))
    assert set(scores) == set(truth)
    stoppers = np.mean([scores[p] for p, stops in truth.items() if stops])
    steady = np.mean([scores[p] for p, stops in truth.items() if not stops])
    assert stoppers > steady + 0.3
    deciles = ProfileScore.objects.filter(model=model).values_list("decile", flat=True)
    assert sorted(set(deciles)) == list(range(1, 11))
    assert PredictiveModel.objects.get(pk=model.pk).active_run_id == run.pk
    assert set(run.diagnostics["models"]["logistic"]) >= {"lift", "calibration", "importances"}


def test_top_decile_segment_is_filled_and_follows_rescoring():
    histories(steady=40, stopping=40)
    model = predictive("Churn", "churn")
    _train(model)

    band = score_segment_create(model_id=model.pk, name="Churn risk", top_deciles=1, actor=ACTOR)
    top = set(
        ProfileScore.objects.filter(model=model, decile=1).values_list("profile_id", flat=True)
    )
    members = set(
        SegmentMembership.objects.filter(
            segment_id=band.segment_id, exited_at__isnull=True
        ).values_list("profile_id", flat=True)
    )
    assert members == top
    assert len(top) == 8

    assert predictive_model_score(model_id=model.pk) == 80
    again = set(
        SegmentMembership.objects.filter(
            segment_id=band.segment_id, exited_at__isnull=True
        ).values_list("profile_id", flat=True)
    )
    assert again == set(
        ProfileScore.objects.filter(model=model, decile=1).values_list("profile_id", flat=True)
    )


def test_scoring_refuses_a_changed_artefact_and_keeps_the_scores():
    histories(steady=30, stopping=30)
    model = predictive("Churn", "churn")
    run = _train(model)
    before = list(ProfileScore.objects.order_by("pk").values_list("pk", "score"))
    Path(settings.MEDIA_ROOT, run.artefact).write_bytes(b"not the model")

    with pytest.raises(ArtefactError):
        predictive_model_score(model_id=model.pk)
    assert list(ProfileScore.objects.order_by("pk").values_list("pk", "score")) == before


def test_purchase_model_scores_prospects_too():
    histories(steady=40, stopping=40)
    prospect = Order.objects.first().profile.__class__.objects.create()
    Event.objects.bulk_create([page_view(prospect, NOW - timedelta(days=d)) for d in (3, 9)])
    model = predictive("Buys soon", "purchase")

    run = _train(model)

    assert run.state == ModelRun.State.SUCCEEDED, run.error
    assert ProfileScore.objects.filter(model=model, profile=prospect).exists()


def test_without_history_the_run_fails_with_a_clear_message():
    model = predictive("Churn", "churn")

    run = _train(model)

    assert run.state == ModelRun.State.FAILED
    assert "no customer history" in run.error
    assert not ProfileScore.objects.exists()


def test_features_read_from_the_database_never_reach_past_the_cutoff():
    histories(steady=10, stopping=10)
    train_cutoff = cutoffs(now=NOW, horizon_days=60)[0][0]
    last = Order.objects.order_by("-profile_id").values_list("profile_id", flat=True).first()
    orders = orders_frame(low=0, high=last + 1, until=NOW)
    activity = activity_frame(low=0, high=last + 1, as_of=NOW)
    # An event late on the cutoff's day is dated at the end of that day, after the cutoff.
    late = page_view(Order.objects.first().profile, train_cutoff + timedelta(hours=20))
    late.save()
    with_late = activity_frame(low=0, high=last + 1, as_of=NOW)

    without = build_training_frame(
        orders, activity, cutoff=pd.Timestamp(train_cutoff), horizon_days=60
    )
    frame = build_training_frame(
        orders, with_late, cutoff=pd.Timestamp(train_cutoff), horizon_days=60
    )

    assert with_late["pages"].sum() == activity["pages"].sum() + 1
    pd.testing.assert_frame_equal(frame.features, without.features)
    assert np.array_equal(frame.labels, without.labels)


def test_a_feature_computed_after_the_cutoff_is_refused():
    histories(steady=5, stopping=5)
    train_cutoff = cutoffs(now=NOW, horizon_days=60)[0][0]
    last = Order.objects.order_by("-profile_id").values_list("profile_id", flat=True).first()
    orders = orders_frame(low=0, high=last + 1, until=NOW)
    activity = activity_frame(low=0, high=last + 1, as_of=NOW)

    with pytest.raises(LeakageError):
        customer_features(orders, activity, as_of=pd.Timestamp(train_cutoff))
