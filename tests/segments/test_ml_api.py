from __future__ import annotations

import pytest
import time_machine

from cdp.core.roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER
from segments.models import Cluster, ClusterDefinition, ModelRun, PredictiveModel, Segment

from .ml_data import NOW, histories, population, spec

pytestmark = pytest.mark.django_db

BASE = "/api/segments/ml"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def marketer(api_client_for):
    return api_client_for(MARKETER)


def _create(marketer, capture, **extra):
    body = {"name": "Shoppers", "spec": spec(), "k_max": 5, **extra}
    with capture(execute=True):
        response = marketer.post(f"{BASE}/cluster-definitions/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_a_clustering_run_it_and_read_its_clusters(
    marketer, django_capture_on_commit_callbacks
):
    population(per_group=20)

    created = _create(marketer, django_capture_on_commit_callbacks)

    definition = ClusterDefinition.objects.get(pk=created["id"])
    run = marketer.get(f"{BASE}/runs/{definition.active_run_id}/").json()
    assert run["state"] == "succeeded"
    assert run["percent"] == 100
    assert run["metrics"]["k"] == 3
    assert run["sklearn_version"]
    clusters = marketer.get(f"{BASE}/runs/{run['id']}/clusters/").json()
    assert [c["size"] for c in clusters] == [20, 20, 20]
    assert all(c["segment_id"] for c in clusters)
    assert set(clusters[0]["kpis"]) >= {"conversion_rate", "aov", "repeat_purchase_rate"}


def test_rename_through_the_api(marketer, django_capture_on_commit_callbacks):
    population(per_group=10)
    _create(marketer, django_capture_on_commit_callbacks)
    cluster = Cluster.objects.order_by("index").first()

    response = marketer.post(
        f"{BASE}/clusters/{cluster.pk}/rename/", {"name": "Loyal fans"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Loyal fans"
    assert Segment.objects.get(pk=cluster.segment_id).name == "Shoppers: Loyal fans"


@pytest.mark.parametrize(
    ("_case", "body", "code"),
    [
        ("identifying_trait", {"numeric": [{"name": "trait.email"}]}, "invalid_input"),
        ("unknown_feature", {"numeric": [{"name": "shoe_size"}]}, "invalid_input"),
        ("no_feature", {"numeric": []}, "invalid_input"),
        (
            "unknown_scaling",
            {"numeric": [{"name": "orders_count", "scaling": "cubic"}]},
            "invalid_input",
        ),
    ],
)
def test_a_bad_spec_is_refused_and_nothing_is_stored(marketer, _case, body, code):
    response = marketer.post(
        f"{BASE}/cluster-definitions/", {"name": "Bad", "spec": body}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not ClusterDefinition.objects.exists()
    assert not ModelRun.objects.exists()


@pytest.mark.parametrize("role", [PRIVACY_OFFICER, INTEGRATION_ADMIN])
def test_other_roles_are_refused(api_client_for, role):
    client = api_client_for(role)

    response = client.post(
        f"{BASE}/cluster-definitions/", {"name": "X", "spec": spec()}, format="json"
    )

    assert response.status_code == 403
    assert not ClusterDefinition.objects.exists()


def test_definition_list_is_within_a_query_budget(
    marketer, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    population(per_group=5)
    for name in ("A", "B", "C"):
        _create(marketer, django_capture_on_commit_callbacks, name=name, k=2)

    with django_assert_max_num_queries(5):
        response = marketer.get(f"{BASE}/cluster-definitions/")

    assert [row["name"] for row in response.json()["results"]] == ["A", "B", "C"]


def test_train_churn_make_a_top_decile_segment_and_read_a_profile(
    marketer, django_capture_on_commit_callbacks
):
    truth = histories(steady=30, stopping=30)
    with django_capture_on_commit_callbacks(execute=True):
        created = marketer.post(
            f"{BASE}/predictive-models/",
            {"name": "Churn", "target": "churn", "horizon_days": 60, "n_splits": 3,
             "algorithms": ["logistic"]},
            format="json",
        )  # fmt: skip
    assert created.status_code == 201, created.json()
    model = PredictiveModel.objects.get()
    assert model.active_run is not None
    assert model.active_run.state == "succeeded"

    band = marketer.post(
        f"{BASE}/predictive-models/{model.pk}/score-segments/",
        {"name": "Churn risk: top decile", "top_deciles": 1},
        format="json",
    )
    profile_id = next(iter(truth))
    scores = marketer.get(f"{BASE}/profiles/{profile_id}/scores/").json()

    assert band.status_code == 201
    assert band.json()["size"] == 6
    assert [row["model"] for row in scores["scores"]] == ["Churn"]
    assert 1 <= scores["scores"][0]["decile"] <= 10
