from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

import pytest
import time_machine

from cdp.core.roles import INTEGRATION_ADMIN, MARKETER
from segments.models import Cluster, ClusterDefinition, ModelRun, Segment
from segments.services.ml.execute import model_run_execute
from segments.services.ml.runs import model_run_request

from .ml_data import ACTOR, NOW, definition, population

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def marketer(make_user) -> Client:
    client = Client()
    client.force_login(make_user(MARKETER))
    return client


def _start(client: Client, capture, **extra) -> ModelRun:
    form = {
        "name": "Shoppers",
        "algorithm": "kmeans",
        "k": "",
        "k_min": "2",
        "k_max": "6",
        "max_missing_share": "0.5",
        "random_state": "0",
        "use_orders_count": "on",
        "scaling_orders_count": "log1p_standard",
        "imputation_orders_count": "median",
        "use_lifetime_value": "on",
        "scaling_lifetime_value": "log1p_standard",
        "imputation_lifetime_value": "median",
        "use_recency_days": "on",
        "scaling_recency_days": "standard",
        "imputation_recency_days": "median",
        **extra,
    }
    with capture(execute=True):
        response = client.post(reverse("admin:segments_modelrun_start"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ModelRun.objects.get()


def test_marketer_starts_a_run_from_the_form_and_reads_its_page(
    marketer, django_capture_on_commit_callbacks
):
    population(per_group=30)

    run = _start(marketer, django_capture_on_commit_callbacks)
    page = marketer.get(reverse("admin:segments_modelrun_page", args=[run.pk]))

    body = page.content.decode()
    assert page.status_code == 200
    assert ClusterDefinition.objects.get().spec["numeric"][0] == {
        "name": "lifetime_value",
        "imputation": "median",
        "missing_flag": False,
        "scaling": "log1p_standard",
    }
    run.refresh_from_db()
    assert run.state == ModelRun.State.SUCCEEDED  # eager Celery ran it on commit
    for chart in ("cfg-elbow", "cfg-silhouette", "cfg-pca", "cfg-tsne"):
        assert f'id="{chart}"' in body
    assert body.count('class="cluster-row"') == 3
    assert "lifetime_value: median imputation" in body


def test_progress_json_reports_the_row(marketer, django_capture_on_commit_callbacks):
    population(per_group=10)
    run = _start(marketer, django_capture_on_commit_callbacks)

    response = marketer.get(reverse("admin:segments_modelrun_progress", args=[run.pk]))

    assert json.loads(response.content) == {
        "id": run.pk,
        "state": "succeeded",
        "stage": "done",
        "percent": 100,
        "error": "",
        "done": True,
    }


def test_rename_from_the_run_page(marketer, django_capture_on_commit_callbacks):
    population(per_group=20)
    run = _start(marketer, django_capture_on_commit_callbacks)
    cluster = Cluster.objects.filter(run=run).order_by("index").first()

    response = marketer.post(
        reverse("admin:segments_cluster_rename", args=[cluster.pk]),
        {"name": "Champions", "run_id": run.pk},
    )

    assert response.status_code == 302
    assert Cluster.objects.get(pk=cluster.pk).name == "Champions"
    assert Segment.objects.get(pk=cluster.segment_id).name == "Shoppers: Champions"


def test_a_bad_form_shows_the_error_and_creates_nothing(marketer):
    population(per_group=5)
    response = marketer.post(
        reverse("admin:segments_modelrun_start"),
        {"name": "Nothing", "algorithm": "kmeans", "k_min": "2", "k_max": "4",
         "max_missing_share": "0.5", "random_state": "0"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "the spec names no feature" in response.content.decode()
    assert not ClusterDefinition.objects.exists()
    assert not ModelRun.objects.exists()


@pytest.mark.parametrize("_case", ["integration_admin", "anonymous"])
def test_other_roles_cannot_start_runs(make_user, _case):
    client = Client()
    if _case == "integration_admin":
        client.force_login(make_user(INTEGRATION_ADMIN))
    population(per_group=5)

    response = client.post(reverse("admin:segments_modelrun_start"), {"name": "x"})

    assert response.status_code in (302, 403)
    assert not ModelRun.objects.exists()


def test_changelist_lists_runs_within_a_query_budget(marketer, django_assert_max_num_queries):
    population(per_group=10)
    clustering = definition()
    for _ in range(3):
        run = model_run_request(actor=ACTOR, definition_id=clustering.pk)
        model_run_execute(model_run_id=run.pk)

    with django_assert_max_num_queries(12):
        response = marketer.get(reverse("admin:segments_modelrun_changelist"))

    assert response.status_code == 200
    assert response.content.decode().count("<progress") == 3
