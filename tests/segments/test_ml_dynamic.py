from __future__ import annotations

from datetime import timedelta

from django.db.models import F

import numpy as np
import pytest
import time_machine

from profiles.models import ComputedTraits
from segments.models import Cluster, ClusterAssignment, ModelRun, SegmentMembership
from segments.services.ml.dynamic import cluster_drift_check, clusters_rescore
from segments.services.ml.engine import drift_check
from segments.services.ml.execute import model_run_execute
from segments.services.ml.runs import model_run_request

from .ml_data import ACTOR, NOW, definition, population

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _trained(**overrides) -> tuple[int, ModelRun]:
    clustering = definition(**overrides)
    run = model_run_request(actor=ACTOR, definition_id=clustering.pk)
    model_run_execute(model_run_id=run.pk)
    return clustering.pk, ModelRun.objects.get(pk=run.pk)


def _blobs(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    labels = rng.integers(0, 3, size=n)
    return centres[labels] + rng.normal(0, 1, size=(n, 2)) + shift


def test_drift_fires_on_a_shifted_population_and_not_on_a_resample():
    rng = np.random.default_rng(0)
    centroids = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])

    same, same_over = drift_check(centroids, _blobs(rng, 5_000), threshold=0.10)
    moved, moved_over = drift_check(centroids, _blobs(rng, 5_000, shift=1.5), threshold=0.10)

    assert not same_over
    assert same.max_relative_shift < 0.02
    assert moved_over
    spacing = (6 + 6 + 6 * np.sqrt(2)) / 3  # mean distance between the old centroids
    assert moved.max_relative_shift == pytest.approx(1.5 * np.sqrt(2) / spacing, rel=0.1)


def test_rescoring_assigns_new_profiles_and_fills_their_segment(clock):
    population(per_group=30, seed=1)
    definition_id, _ = _trained()
    clock.shift(timedelta(hours=1))
    newcomers = population(per_group=2, seed=2, now=NOW + timedelta(hours=1))

    outcome = clusters_rescore(definition_id=definition_id)

    assert outcome.rescored == 6
    assigned = ClusterAssignment.objects.filter(profile_id__in=list(newcomers))
    assert assigned.count() == 6
    for assignment in assigned.select_related("cluster"):
        assert SegmentMembership.objects.filter(
            segment_id=assignment.cluster.segment_id,
            profile_id=assignment.profile_id,
            exited_at__isnull=True,
        ).exists()
    assert clusters_rescore(definition_id=definition_id).rescored == 0


def test_changed_profiles_move_to_their_new_cluster(clock):
    truth = population(per_group=30, seed=1)
    definition_id, _ = _trained()
    sleeper = next(pid for pid, group in truth.items() if group == "sleepers")
    spender = next(pid for pid, group in truth.items() if group == "big spenders")
    target = ClusterAssignment.objects.get(profile_id=spender).cluster_id
    clock.shift(timedelta(hours=1))
    source = ComputedTraits.objects.get(profile_id=spender)
    ComputedTraits.objects.filter(profile_id=sleeper).update(
        orders_count=source.orders_count,
        lifetime_value=source.lifetime_value,
        sessions_30d=source.sessions_30d,
        last_order_at=source.last_order_at,
        computed_at=NOW + timedelta(hours=1),
    )

    outcome = clusters_rescore(definition_id=definition_id)

    assert outcome.rescored == 1
    assert ClusterAssignment.objects.get(profile_id=sleeper).cluster_id == target


def test_minibatch_models_learn_from_rescored_profiles(clock):
    population(per_group=30, seed=1)
    definition_id, run = _trained(name="Mini", algorithm="minibatch")
    clock.shift(timedelta(hours=1))
    population(per_group=5, seed=5, now=NOW + timedelta(hours=1))

    outcome = clusters_rescore(definition_id=definition_id)

    run.refresh_from_db()
    assert outcome.partial_updates == 1
    assert sum(run.params["counts"]) == 90 + 15
    assert run.params["trained_centroids"] != run.params["centroids"]


def test_drift_check_on_the_database_asks_for_a_retrain_only_when_shifted():
    population(per_group=40, seed=1)
    definition_id, run = _trained()

    calm = cluster_drift_check(definition_id=definition_id)
    ComputedTraits.objects.update(
        lifetime_value=F("lifetime_value") * 6, orders_count=F("orders_count") * 4
    )
    shifted = cluster_drift_check(definition_id=definition_id)

    assert calm is not None
    assert not calm.is_over_threshold
    assert calm.retrain_run_id is None
    assert shifted is not None
    assert shifted.is_over_threshold
    retrain = ModelRun.objects.get(pk=shifted.retrain_run_id)
    assert retrain.trigger == ModelRun.Trigger.DRIFT
    assert retrain.state == ModelRun.State.QUEUED
    run.refresh_from_db()
    assert [check["over_threshold"] for check in run.diagnostics["drift_checks"]] == [False, True]
    assert Cluster.objects.filter(run=run).count() == 3
