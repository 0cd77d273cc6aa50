from __future__ import annotations

from io import StringIO

from django.core.management import CommandError, call_command

import pytest
import time_machine

from segments.models import ClusterDefinition, ModelRun, PredictiveModel, ProfileScore

from .ml_data import NOW, histories, population

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW):
        yield


def test_run_clustering_creates_runs_and_reports_with_a_progress_bar():
    population(per_group=15)
    out, err = StringIO(), StringIO()

    call_command(
        "run_clustering", "Shoppers", features="orders_count,lifetime_value,recency_days",
        stdout=out, stderr=err,
    )  # fmt: skip

    run = ModelRun.objects.get()
    assert run.trigger == ModelRun.Trigger.COMMAND
    assert run.state == ModelRun.State.SUCCEEDED
    assert f"Run #{run.pk}: k=3" in out.getvalue()
    assert "100%" in err.getvalue()
    assert ClusterDefinition.objects.get().name == "Shoppers"


def test_run_clustering_of_an_unknown_name_without_features_fails_and_stores_nothing():
    with pytest.raises(CommandError, match="No clustering named 'Nope'"):
        call_command("run_clustering", "Nope", stdout=StringIO(), stderr=StringIO())
    assert not ModelRun.objects.exists()


def test_train_models_then_score_profiles():
    histories(steady=25, stopping=25)
    out = StringIO()

    call_command(
        "train_models", "Churn", create="churn", horizon_days=60, stdout=out, stderr=StringIO()
    )
    ProfileScore.objects.all().delete()
    call_command("score_profiles", stdout=out, stderr=StringIO())

    model = PredictiveModel.objects.get()
    assert "Churn: run #" in out.getvalue()
    assert f"model {model.pk}: 50 profiles scored" in out.getvalue()
    assert ProfileScore.objects.filter(model=model).count() == 50
