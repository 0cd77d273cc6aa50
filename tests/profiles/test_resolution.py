"""Identity resolution over demo CRM records imported the real way: merges, look-alikes kept
apart, every golden value's provenance, idempotent re-runs, incremental and on-arrival matching."""

from __future__ import annotations

import json

from django.core.management import CommandError, call_command

import pytest

from cdp.core.actor import SYSTEM
from cdp.core.models import AuditEvent
from cdp.core.roles import INTEGRATION_ADMIN
from profiles.models import (
    Identifier,
    MatchCandidate,
    MatchKey,
    Profile,
    ProfileMerge,
    ProfileTrait,
    ResolutionRun,
    TraitValue,
)
from profiles.services.resolution import resolution_run_execute, resolution_run_now
from profiles.services.resolution_runs import resolution_run_request, resolution_sweep
from profiles.services.sources import source_create

from .identity_data import crm_messages, demo_crm, ingest, person_clusters

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_source():
    source, _ = source_create(name="crm", kind="crm", actor=SYSTEM)
    return source


@pytest.fixture
def loaded(crm_source, django_capture_on_commit_callbacks):
    data = demo_crm(200, lookalike_rate=0.25)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(crm_source.pk, crm_messages(data.crm))
    return data


def _live() -> int:
    return Profile.objects.filter(merged_into__isnull=True).count()


def test_full_run_merges_planted_duplicates_and_no_lookalikes(loaded):
    before = _live()

    run = resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)

    assert run.state == ResolutionRun.State.SUCCEEDED, run.error
    merges = ProfileMerge.objects.filter(reason=ProfileMerge.Reason.MATCH_SCORE)
    assert merges.count() == run.counts["merges"] > 0
    assert _live() == before - run.counts["merges"]
    clusters = person_clusters(loaded.truth)
    people_of = {}
    for person, profiles in clusters.items():
        for profile_id in profiles:
            people_of.setdefault(profile_id, set()).add(person)
    assert all(len(people) == 1 for people in people_of.values())  # no wrong merge at all
    assert len(loaded.lookalikes) >= 40
    for a, b in loaded.lookalikes:
        assert not clusters.get(a, set()) & clusters.get(b, set())
    assert set(run.model_params) >= {"comparisons", "prior", "sessions"}
    assert [row["rule"] for row in run.blocking_stats][:2] == ["phone", "email_local_part"]
    assert AuditEvent.objects.filter(action="profiles.profile.merge").count() == merges.count()


def test_every_merge_explains_itself_and_is_recorded_as_a_merged_candidate(loaded):
    run = resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)

    merge = ProfileMerge.objects.filter(reason="match_score").first()
    assert merge.details["run_id"] == run.pk
    assert merge.details["probability"] >= 0.99
    assert set(merge.details["contributions"]) >= {"first_name", "last_name", "birth_date"}
    assert set(merge.snapshot) == {"survivor", "absorbed"}
    assert MatchCandidate.objects.filter(status="merged").count() >= run.counts["merges"]
    assert not MatchCandidate.objects.filter(status="merged", merge__isnull=True).exists()


def test_golden_values_point_at_existing_source_records(loaded):
    resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)

    golden = ProfileTrait.objects.filter(profile__merged_into__isnull=True).select_related("chosen")
    assert golden.count() > 1000
    for row in golden:
        assert row.chosen.profile_id == row.profile_id  # an observation the profile owns
        assert row.chosen.value == row.value
        assert row.chosen.record_ref.startswith("crm:")
        assert row.chosen.source_id is not None
        assert row.chosen.event_id is not None
    assert not ProfileTrait.objects.filter(profile__merged_into__isnull=False).exists()


def test_rerunning_resolution_changes_nothing(loaded):
    resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)
    state = (
        sorted(Profile.objects.values_list("pk", "merged_into_id")),
        sorted(MatchCandidate.objects.values_list("left_id", "right_id", "status")),
        ProfileMerge.objects.count(),
        sorted(TraitValue.objects.values_list("pk", "profile_id")),
        sorted(MatchKey.objects.values_list("profile_id", "key")),
    )

    again = resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)

    assert again.counts["merges"] == 0
    assert state == (
        sorted(Profile.objects.values_list("pk", "merged_into_id")),
        sorted(MatchCandidate.objects.values_list("left_id", "right_id", "status")),
        ProfileMerge.objects.count(),
        sorted(TraitValue.objects.values_list("pk", "profile_id")),
        sorted(MatchKey.objects.values_list("profile_id", "key")),
    )


def test_executing_a_run_twice_runs_it_once(loaded):
    run = resolution_run_request(mode=ResolutionRun.Mode.FULL, actor=SYSTEM, kick=False)

    first = resolution_run_execute(run_id=run.pk)
    merges = ProfileMerge.objects.count()
    second = resolution_run_execute(run_id=run.pk)

    assert (first, second) == ("succeeded", "skipped")
    assert ProfileMerge.objects.count() == merges


def _duplicate_of(profile: Profile) -> dict:
    traits = profile.traits
    return {
        "type": "identify",
        "messageId": f"late-{profile.pk}",
        "traits": {
            "crm_id": f"LATE{profile.pk}",
            "first_name": traits["first_name"],
            "last_name": traits["last_name"],
            "birth_date": traits["birth_date"],
            "postal_code": traits.get("postal_code"),
            "city": traits.get("city"),
            "country": traits.get("country"),
        },
        "timestamp": "2025-06-01T10:00:00Z",
    }


def _sample(count: int) -> list[Profile]:
    return list(
        Profile.objects.filter(
            merged_into__isnull=True,
            traits__has_keys=["first_name", "last_name", "birth_date", "postal_code"],
        ).order_by("pk")[:count]
    )


def test_new_records_are_matched_on_arrival_through_the_stored_keys(
    loaded, crm_source, django_capture_on_commit_callbacks
):
    resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)
    originals = _sample(3)

    with django_capture_on_commit_callbacks(execute=True):
        ingest(crm_source.pk, [_duplicate_of(profile) for profile in originals])

    arrivals = ResolutionRun.objects.get(mode=ResolutionRun.Mode.ARRIVALS)
    assert arrivals.state == ResolutionRun.State.SUCCEEDED, arrivals.error
    for profile in originals:
        late = Identifier.objects.get(value=f"LATE{profile.pk}")
        assert late.origin_profile.merged_into_id == late.profile_id == profile.pk


def test_incremental_run_matches_profiles_touched_since_the_last_run(
    loaded, crm_source, django_capture_on_commit_callbacks, settings
):
    resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)
    ResolutionRun.objects.all().update(mode=ResolutionRun.Mode.FULL)  # the model stays
    originals = _sample(2)
    MatchKey.objects.all().delete()  # on-arrival matching finds nothing: incremental must
    with django_capture_on_commit_callbacks(execute=True):
        ingest(crm_source.pk, [_duplicate_of(profile) for profile in originals])

    run = resolution_run_now(mode=ResolutionRun.Mode.INCREMENTAL, actor=SYSTEM)

    assert run.state == ResolutionRun.State.SUCCEEDED, run.error
    assert run.counts["new_records"] >= 2
    for profile in originals:
        late = Identifier.objects.get(value=f"LATE{profile.pk}")
        assert late.origin_profile.merged_into_id == late.profile_id == profile.pk


def test_incremental_run_without_a_model_does_nothing(loaded):
    run = resolution_run_now(mode=ResolutionRun.Mode.INCREMENTAL, actor=SYSTEM)

    assert run.state == ResolutionRun.State.SUCCEEDED
    assert run.counts == {"skipped": "no trained model yet: run a full resolution first"}
    assert not ProfileMerge.objects.exists()


def test_sweep_fails_dead_runs_and_queues_an_incremental_one(
    loaded, django_capture_on_commit_callbacks
):
    resolution_run_now(mode=ResolutionRun.Mode.FULL, actor=SYSTEM)
    dead = ResolutionRun.objects.create(mode="full", state="running")
    ResolutionRun.objects.filter(pk=dead.pk).update(updated_at="2000-01-01T00:00:00Z")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = resolution_sweep()

    assert outcome == {"failed": 1, "rekicked": 0, "queued": 1}
    dead.refresh_from_db()
    assert (dead.state, dead.error) == ("failed", "worker lost")
    queued = ResolutionRun.objects.filter(mode="incremental").get()
    assert queued.state == ResolutionRun.State.SUCCEEDED  # kicked and run (eager)


def test_command_and_api_start_runs_and_report_them(
    loaded, api_client_for, capsys, django_capture_on_commit_callbacks
):
    call_command("resolve_identities", "--all", "--json", "--no-progress")
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    client = api_client_for(INTEGRATION_ADMIN)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/resolution-runs/", {"mode": "incremental"}, format="json")
    status = client.get(f"/api/resolution-runs/{started.json()['id']}/")
    bad = client.post("/api/resolution-runs/", {"mode": "sideways"}, format="json")
    listing = client.get("/api/resolution-runs/")

    assert printed["mode"] == "full"
    assert printed["counts"]["merges"] == ProfileMerge.objects.count() > 0
    assert started.status_code == 202
    assert status.json()["state"] == "succeeded"  # eager: run on commit
    assert bad.status_code == 400
    assert [row["mode"] for row in listing.json()] == ["incremental", "full"]


def test_command_refuses_unknown_blocking_rules(loaded):
    with pytest.raises(CommandError, match="Unknown blocking rules"):
        call_command("resolve_identities", "--all", "--rules", "phone,shoe_size")

    assert not ResolutionRun.objects.exists()
