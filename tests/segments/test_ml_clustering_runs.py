from __future__ import annotations

import pytest
import time_machine
from sklearn.metrics import adjusted_rand_score

from cdp.core.models import AuditEvent
from segments.models import (
    Cluster,
    ClusterAssignment,
    ClusterDefinition,
    ModelRun,
    Segment,
    SegmentMembership,
)
from segments.services.ml.definitions import cluster_rename
from segments.services.ml.execute import model_run_execute
from segments.services.ml.runs import model_run_request, model_runs_sweep

from .ml_data import ACTOR, NOW, definition, population

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _run(definition_id: int, **kwargs) -> ModelRun:
    run = model_run_request(actor=ACTOR, definition_id=definition_id, **kwargs)
    model_run_execute(model_run_id=run.pk)
    return ModelRun.objects.get(pk=run.pk)


def test_a_run_finds_the_groups_and_stores_model_clusters_and_assignments():
    truth = population(per_group=60)
    clustering = definition()

    run = _run(clustering.pk)

    assert run.state == ModelRun.State.SUCCEEDED, run.error
    assert run.percent == 100
    assert run.metrics["k"] == 3
    assert run.metrics["k_selection"]["recommended_k"] == 3
    assert run.n_rows == 180
    assert len(run.params["centroids"]) == 3
    assert run.sklearn_version
    assignments = dict(
        ClusterAssignment.objects.filter(definition=clustering).values_list(
            "profile_id", "cluster__index"
        )
    )
    ids = sorted(truth)
    assert adjusted_rand_score([truth[i] for i in ids], [assignments[i] for i in ids]) == 1.0
    clusters = list(Cluster.objects.filter(run=run).order_by("index"))
    assert [c.size for c in clusters] == [60, 60, 60]
    assert all(c.segment is not None and c.segment.size == 60 for c in clusters)
    assert ClusterDefinition.objects.get(pk=clustering.pk).active_run_id == run.pk
    assert set(run.diagnostics["pictures"]) == {"pca", "tsne"}
    assert run.diagnostics["steps"][0].startswith("rows missing more than 50%")


def test_cluster_names_come_from_their_profiles():
    population(per_group=40)
    run = _run(definition().pk)

    names = {c.profile["top_features"][0]: c.name for c in Cluster.objects.filter(run=run)}

    assert sorted(Cluster.objects.filter(run=run).values_list("name", flat=True)) == sorted(
        set(Cluster.objects.filter(run=run).values_list("name", flat=True))
    )
    assert any("high spend" in name or "frequent" in name for name in names.values())


def test_the_same_seed_gives_the_same_clusters():
    population(per_group=50, seed=3)
    first = _run(definition("A", random_state=11).pk)
    second = _run(definition("B", random_state=11).pk)

    assert first.params["centroids"] == second.params["centroids"]
    labels = {
        run.definition_id: list(
            ClusterAssignment.objects.filter(definition_id=run.definition_id)
            .order_by("profile_id")
            .values_list("cluster__index", flat=True)
        )
        for run in (first, second)
    }
    assert labels[first.definition_id] == labels[second.definition_id]


def test_a_second_request_while_one_is_pending_returns_it():
    population(per_group=10)
    clustering = definition()

    first = model_run_request(actor=ACTOR, definition_id=clustering.pk)
    second = model_run_request(actor=ACTOR, definition_id=clustering.pk)

    assert first.pk == second.pk
    assert ModelRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="segments.model_run.clustering").count() == 1


def test_executing_a_finished_run_again_changes_nothing():
    population(per_group=30)
    run = _run(definition().pk)
    assignments = list(ClusterAssignment.objects.order_by("pk").values_list("pk", "cluster_id"))

    assert model_run_execute(model_run_id=run.pk) == ModelRun.State.SUCCEEDED
    assert list(ClusterAssignment.objects.order_by("pk").values_list("pk", "cluster_id")) == (
        assignments
    )
    assert Cluster.objects.count() == 3


def test_a_run_that_cannot_cluster_fails_with_the_reason_and_keeps_the_old_model():
    population(per_group=30)
    clustering = definition()
    good = _run(clustering.pk)
    ClusterDefinition.objects.filter(pk=clustering.pk).update(
        spec={"numeric": [{"name": "email_click_rate", "imputation": "median"}]}
    )

    bad = _run(clustering.pk)

    assert bad.state == ModelRun.State.FAILED
    assert "no value to learn from" in bad.error
    assert ClusterDefinition.objects.get(pk=clustering.pk).active_run_id == good.pk
    assert ClusterAssignment.objects.filter(run=good).count() == 90


def test_renaming_a_cluster_renames_its_segment_and_survives_a_retrain():
    population(per_group=40)
    clustering = definition()
    run = _run(clustering.pk)
    cluster = Cluster.objects.filter(run=run).order_by("-size", "index").first()
    members = set(
        SegmentMembership.objects.filter(
            segment_id=cluster.segment_id, exited_at__isnull=True
        ).values_list("profile_id", flat=True)
    )

    cluster_rename(cluster_id=cluster.pk, name="VIPs", actor=ACTOR)
    again = _run(clustering.pk)

    continued = Cluster.objects.get(run=again, segment_id=cluster.segment_id)
    assert continued.name == "VIPs"
    assert continued.is_renamed
    assert Segment.objects.get(pk=cluster.segment_id).name == "Customers: VIPs"
    assert (
        set(
            SegmentMembership.objects.filter(
                segment_id=cluster.segment_id, exited_at__isnull=True
            ).values_list("profile_id", flat=True)
        )
        == members
    )
    assert again.metrics["drift_vs_previous"]["max_relative_shift"] == pytest.approx(0.0, abs=1e-9)
    assert AuditEvent.objects.filter(action="segments.cluster.rename").count() == 1


def test_sweep_rekicks_queued_runs_only():
    population(per_group=10)
    queued = model_run_request(actor=ACTOR, definition_id=definition().pk)
    done = _run(definition("Other").pk)

    assert model_runs_sweep() == [queued.pk]
    assert done.state == ModelRun.State.SUCCEEDED
