from datetime import timedelta

from django.utils import timezone

import pytest

from cdp.core import privacy
from cdp.core.actor import Actor
from cdp.core.privacy import (
    ErasureReport,
    PrivacyHandler,
    privacy_handler_register,
    privacy_handlers,
)
from consent.models import ConsentEvent, DataSubjectRequest, ProcessingRestriction
from consent.public import consent_allows
from consent.services.execution import dsr_run, dsr_sweep
from consent.services.providers import subject_resolve
from consent.services.requests import dsr_create, dsr_execute, dsr_verify_manually
from profiles.models import Event, Identifier, Profile, ProfileTrait
from profiles.services.ingest import events_ingest
from profiles.services.merge import profile_merge, profile_unmerge

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(source_and_key, django_capture_on_commit_callbacks):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[
                {
                    "type": "identify",
                    "userId": "u1",
                    "traits": {"email": "ada@example.com", "last_name": "Byron", "city": "London"},
                    "context": {"consent": {"categoryPreferences": {"email": True, "ads": True}}},
                }
            ],
        )
    return Identifier.objects.get(value="u1").profile_id


def _run(kind, capture, actor, **extra):
    request = dsr_create(
        kind=kind,
        identifiers=[("email", "ada@example.com")],
        actor=actor,
        received_via="admin",
        **extra,
    )
    dsr_verify_manually(request_id=request.pk, note="seen", actor=actor)
    with capture(execute=True):
        dsr_execute(request_id=request.pk, actor=actor)
    request.refresh_from_db()
    return request


def test_rectification_makes_the_corrected_value_golden_with_dsr_provenance(
    person, actor, django_capture_on_commit_callbacks
):
    request = _run(
        "rectification",
        django_capture_on_commit_callbacks,
        actor,
        corrections={"last_name": "lovelace", "birth_date": "not a date"},
    )

    golden = ProfileTrait.objects.select_related("chosen__source").get(
        profile_id=person, name="last_name"
    )
    assert (golden.value, golden.chosen.source.name, golden.chosen.record_ref) == (
        "Lovelace",
        "dsr",
        f"dsr:{request.pk}",
    )
    assert Profile.objects.get(pk=person).traits["last_name"] == "Lovelace"
    assert request.report == {
        "applied": ["last_name"],
        "refused": {"birth_date": "not a valid value for this trait"},
    }
    assert request.state == "completed"


def test_restriction_stops_processing_and_is_recorded(
    person, actor, django_capture_on_commit_callbacks
):
    request = _run("restriction", django_capture_on_commit_callbacks, actor)

    assert list(ProcessingRestriction.objects.values_list("profile_id", "kind", "request_id")) == [
        (person, "restriction", request.pk)
    ]
    assert consent_allows(profile_id=person, purpose_key="email_marketing") is False
    assert consent_allows(profile_id=person, purpose_key="service") is False
    assert request.report == {"profiles": 1, "restrictions_added": 1}


def test_objection_stops_marketing_only(person, actor, django_capture_on_commit_callbacks):
    _run("objection", django_capture_on_commit_callbacks, actor)

    assert consent_allows(profile_id=person, purpose_key="email_marketing") is False
    assert consent_allows(profile_id=person, purpose_key="service") is True
    withdrawn = ConsentEvent.objects.filter(source="dsr").values_list("purpose__key", "is_granted")
    assert sorted(withdrawn) == [
        ("advertising", False),
        ("email_marketing", False),
        ("sms_marketing", False),
    ]


def test_ccpa_opt_out_withdraws_sale_and_sharing(person, actor, django_capture_on_commit_callbacks):
    request = _run("opt_out", django_capture_on_commit_callbacks, actor, regime="ccpa")

    assert consent_allows(profile_id=person, purpose_key="advertising") is False
    assert consent_allows(profile_id=person, purpose_key="email_marketing") is True
    assert request.report == {"profiles": 1, "purposes": ["advertising"], "entries": 1}


def test_a_request_follows_merges_and_profiles_split_off_after_it_arrived(
    person, actor, source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[
                {"type": "identify", "anonymousId": "a-early", "traits": {"loyalty_id": "L1"}},
                {"type": "identify", "anonymousId": "a-late", "traits": {"loyalty_id": "L2"}},
            ],
        )
    early = Identifier.objects.get(value="L1").profile_id
    late = Identifier.objects.get(value="L2").profile_id
    merge_early = profile_merge(survivor_id=person, absorbed_id=early, reason="manual", actor=actor)
    merge_late = profile_merge(survivor_id=person, absorbed_id=late, reason="manual", actor=actor)
    profile_unmerge(merge_id=merge_early.merge_id, actor=actor)  # before the request: not theirs
    received = timezone.now()
    profile_unmerge(merge_id=merge_late.merge_id, actor=actor)  # after: still theirs

    resolved = subject_resolve(identifiers=[("email", "ADA@example.com ")], unmerged_since=received)

    assert resolved.subject.profile_ids == (person, late)
    assert resolved.active_profile_ids == (person, late)
    assert ("loyalty_id", "L2") in resolved.subject.identifiers
    assert ("loyalty_id", "L1") not in resolved.subject.identifiers


def test_a_failing_handler_marks_the_job_failed_and_a_restart_resumes(
    person, actor, django_capture_on_commit_callbacks
):
    calls = []

    def broken(subject):
        calls.append(subject)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return ErasureReport(app="zz")

    before = {handler.app: handler for handler in privacy_handlers()}
    privacy_handler_register(
        PrivacyHandler(app="zz", export=lambda subject: None, erase=broken, order=1)
    )
    try:
        request = _run("erasure", django_capture_on_commit_callbacks, actor)
        assert (request.state, request.job_state) == ("in_progress", "failed")
        assert request.job_error == "RuntimeError: disk full"
        assert Profile.objects.filter(pk=person).exists() is False  # profiles went before zz
        with django_capture_on_commit_callbacks(execute=True):
            dsr_execute(request_id=request.pk, actor=actor)
        request.refresh_from_db()
    finally:
        privacy._handlers.pop("zz")
        assert {handler.app for handler in privacy_handlers()} == set(before)

    assert (request.state, request.job_state) == ("completed", "succeeded")
    assert len(calls) == 2
    assert request.report["apps"]["profiles"]["deleted"]["profiles.profile"] == 1


def test_the_sweeper_re_kicks_a_job_whose_worker_died(person, actor, time_machine):
    time_machine.move_to(timezone.now())
    request = dsr_create(
        kind="access", identifiers=[("email", "ada@example.com")], actor=actor, received_via="api"
    )
    dsr_verify_manually(request_id=request.pk, note="seen", actor=actor)
    dsr_execute(request_id=request.pk, actor=actor)  # queued; the message is "lost"
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        job_state="running", job_heartbeat_at=timezone.now()
    )

    assert dsr_sweep() == 0  # a live worker holds it
    assert dsr_run(request_id=request.pk) == "running"
    time_machine.move_to(timezone.now() + timedelta(minutes=11))
    assert dsr_sweep() == 1
    assert dsr_run(request_id=request.pk) == "succeeded"
    assert DataSubjectRequest.objects.get(pk=request.pk).state == "completed"


def test_an_unknown_person_gets_an_empty_archive_not_an_error(
    actor, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    request = dsr_create(
        kind="access",
        identifiers=[("email", "nobody@example.com")],
        actor=Actor(user_id=None, label="t"),
        received_via="api",
    )
    dsr_verify_manually(request_id=request.pk, note="seen", actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        dsr_execute(request_id=request.pk, actor=actor)
    request.refresh_from_db()

    assert request.state == "completed"
    assert request.report["profiles"] == 0
    assert request.report["tables"]["profiles.event"] == 0
    assert Event.objects.count() == 0


def test_erasure_anonymises_the_persons_other_requests_however_they_wrote_their_phone(
    source_and_key, actor, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[{"type": "identify", "userId": "u7", "traits": {"phone": "+1 212 555 0142"}}],
        )
    waiting = dsr_create(
        kind="access", identifiers=[("phone", "(212) 555-0142")], actor=actor, received_via="api"
    )
    erasure = dsr_create(
        kind="erasure", identifiers=[("user_id", "u7")], actor=actor, received_via="api"
    )
    dsr_verify_manually(request_id=erasure.pk, note="seen", actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        dsr_execute(request_id=erasure.pk, actor=actor)

    waiting.refresh_from_db()
    assert (waiting.identifiers, waiting.is_anonymised, waiting.state) == ([], True, "rejected")
    assert waiting.outcome_note == "The person was erased under another request."
