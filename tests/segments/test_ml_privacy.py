from __future__ import annotations

import pytest
import time_machine

from cdp.core.privacy import Subject, privacy_handlers
from segments.models import ClusterAssignment, ModelRun, ProfileScore
from segments.services.ml.execute import model_run_execute
from segments.services.ml.runs import model_run_request

from .ml_data import ACTOR, NOW, definition, histories, population, predictive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW):
        yield


def _handler():
    return next(handler for handler in privacy_handlers() if handler.app == "segments.ml")


def _setup() -> tuple[int, int]:
    population(per_group=10)
    truth = histories(steady=20, stopping=20)
    for run in (
        model_run_request(actor=ACTOR, definition_id=definition().pk),
        model_run_request(actor=ACTOR, predictive_model_id=predictive("Churn", "churn").pk),
    ):
        model_run_execute(model_run_id=run.pk)
    scored = next(iter(truth))
    clustered = ClusterAssignment.objects.values_list("profile_id", flat=True).first()
    return clustered, scored


def test_export_lists_the_subjects_cluster_and_scores():
    clustered, scored = _setup()

    part = _handler().export(Subject(profile_ids=(clustered, scored), identifiers=()))

    assert part.app == "segments.ml"
    assert [row["profile_id"] for row in part.tables["cluster_assignments"]] == [clustered]
    assert part.tables["cluster_assignments"][0]["clustering"] == "Customers"
    assert [row["model"] for row in part.tables["model_scores"]] == ["Churn"]


def test_erase_deletes_only_the_subjects_rows_and_is_idempotent():
    clustered, scored = _setup()
    assignments, scores = ClusterAssignment.objects.count(), ProfileScore.objects.count()
    subject = Subject(profile_ids=(clustered, scored), identifiers=())

    first = _handler().erase(subject)
    second = _handler().erase(subject)

    assert first.deleted == {"segments_clusterassignment": 1, "segments_profilescore": 1}
    assert second.deleted == {"segments_clusterassignment": 0, "segments_profilescore": 0}
    assert ClusterAssignment.objects.count() == assignments - 1
    assert ProfileScore.objects.count() == scores - 1


def test_stored_models_hold_no_profile_ids():
    _setup()

    for run in ModelRun.objects.all():
        text = str(run.params) + str(run.pipeline) + str(run.metrics) + str(run.diagnostics)
        assert "profile_id" not in text
        assert run.pipeline.get("knn") is None
