import json

import pytest

from consent.models import DataSubjectRequest, Suppression
from profiles.models import Event, Identifier, ImportRun, Order, Profile

from .people import (
    CRM_FILE,
    EMAIL,
    OTHER_EMAIL,
    OTHER_TERMS,
    PERSON_BATCH,
    SECOND_DEVICE_BATCH,
    SYSTEM_TEST,
    TERMS,
    _batch,
    load_person,
    request_verified_by_code,
    unmerge_loyalty,
)
from .scan import profile_references, scan_database, scan_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(make_user, django_capture_on_commit_callbacks, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return load_person(
        make_user=make_user, capture=django_capture_on_commit_callbacks, tmp_path=tmp_path
    )


def _person_ids():
    return set(
        Identifier.objects.filter(value__in=[EMAIL, "LOY-ZQ-5", "anon-zq-2"]).values_list(
            "origin_profile_id", flat=True
        )
    ) | set(Identifier.objects.filter(value=EMAIL).values_list("profile_id", flat=True))


def test_the_person_is_everywhere_before_erasure(loaded):
    tables = {hit.table for hit in scan_database(TERMS)}
    files = {path.split("!")[0].split("/")[0] for path, _ in scan_files(TERMS)}

    assert {
        "profiles.profile",
        "profiles.identifier",
        "profiles.traitvalue",
        "profiles.profiletrait",
        "profiles.event",
        "profiles.profilemerge",
        "profiles.quarantinedrecord",
        "consent.datasubjectrequest",
    } <= tables
    assert files == {"dsr", "imports"}
    assert loaded.paths == ["segment_membership", "campaign_sends"]
    assert Profile.objects.filter(merged_into__isnull=False).count() == 2  # device + loyalty


def test_erasure_leaves_nothing_about_the_person_and_blocks_re_ingestion(
    loaded, django_capture_on_commit_callbacks, tmp_path
):
    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="erasure")
    unmerge_loyalty(capture)  # a profile split off after the request came in is still theirs
    subject_ids = _person_ids()
    others_before = scan_database(OTHER_TERMS)
    orders_before = Order.objects.count()

    with capture(execute=True):
        response = loaded.officer.post(f"/api/consent/requests/{request_id}/execute")

    assert response.status_code == 200
    erased = DataSubjectRequest.objects.get(pk=request_id)
    assert (erased.state, erased.job_state, erased.percent) == ("completed", "succeeded", 100)
    assert scan_database(TERMS) == []
    assert scan_files(TERMS) == []
    assert profile_references(subject_ids) == []
    assert not Profile.objects.filter(pk__in=subject_ids).exists()
    # Everyone else is untouched; revenue stays as anonymous orders.
    assert scan_database(OTHER_TERMS) == others_before
    assert Order.objects.count() == orders_before
    assert Order.objects.get(order_id__startswith="erased-").profile_id is None


def test_the_report_counts_what_was_removed_where_and_identifies_no_one(
    loaded, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="erasure")
    unmerge_loyalty(capture)
    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")

    response = loaded.officer.get(f"/api/consent/requests/{request_id}/report")

    assert response.status_code == 200
    report = response.json()
    text = json.dumps(report).lower()
    assert [term for term in TERMS if term.lower() in text] == []
    deleted = report["report"]["apps"]["profiles"]["deleted"]
    assert deleted["profiles.profile"] == 3  # web, second device, loyalty card
    assert deleted["profiles.event"] == 7  # 3 + 2 from the web, the CRM row, the loyalty card
    assert deleted["profiles.quarantinedrecord"] == 1
    assert deleted["profiles.importrun.file_lines"] == 1
    assert report["report"]["apps"]["profiles"]["anonymised"] == {"profiles.order": 1}
    assert report["report"]["apps"]["consent"]["deleted"]["files"] == 1  # the earlier archive
    assert report["report"]["suppression"]["added"] == Suppression.objects.count()
    assert [step["action"] for step in report["steps"]] == [
        "received",
        "code_sent",
        "verified",
        "started",
        "completed",
    ]


def test_re_sending_the_persons_events_and_file_afterwards_stores_nothing(
    loaded, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="erasure")
    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")
    events_before, profiles_before = Event.objects.count(), Profile.objects.count()
    replay = [
        {**message, "messageId": f"again-{message['messageId']}"}
        for batch in (PERSON_BATCH, SECOND_DEVICE_BATCH)
        for message in batch["batch"]
    ]

    with capture(execute=True):
        result = _batch(loaded.tracking, {"batch": replay})
    crm = ImportRun.objects.filter(kind="crm", state="succeeded").first()
    path = loaded.crm_path.with_name("crm-export-again.csv")
    path.write_text(CRM_FILE)
    from profiles.services.imports import import_create, import_run_execute

    with capture(execute=True):
        run = import_create(
            source_id=crm.source_id, kind="crm", upload=path, actor=SYSTEM_TEST, start=False
        )
        import_run_execute(import_run_id=run.pk)
    run.refresh_from_db()

    assert (result["accepted"], result["suppressed"]) == (0, len(replay))
    # Both of the person's rows: the valid one and the one that had failed validation.
    assert (run.rows_suppressed, run.rows_stored, run.rows_quarantined) == (2, 0, 0)
    assert Event.objects.count() == events_before
    assert Profile.objects.count() == profiles_before
    assert scan_database(TERMS) == []


def test_a_suppressed_persons_invalid_rows_are_not_quarantined_either(
    loaded, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="erasure")
    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")

    _batch(loaded.tracking, {"batch": [{"type": "track", "userId": "zq-user-8841"}]})

    assert scan_database(TERMS) == []


def test_erasure_is_idempotent(loaded, django_capture_on_commit_callbacks):
    from cdp.core.privacy import privacy_handlers
    from consent.services.execution import dsr_run
    from consent.services.providers import subject_resolve

    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="erasure")
    subject = subject_resolve(identifiers=[("email", EMAIL)]).subject
    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")
    report = DataSubjectRequest.objects.get(pk=request_id).report

    assert dsr_run(request_id=request_id) == "succeeded"  # a duplicate delivery does nothing
    assert DataSubjectRequest.objects.get(pk=request_id).report == report
    again = {handler.app: handler.erase(subject) for handler in privacy_handlers()}
    assert {
        app: sum(r.deleted.values()) + sum(r.anonymised.values()) for app, r in again.items()
    } == dict.fromkeys(again, 0)
    assert Profile.objects.filter(identifiers__value=OTHER_EMAIL).count() == 1
