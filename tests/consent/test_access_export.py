import csv
import io
import json
import zipfile
from datetime import timedelta

from django.utils import timezone

import pytest

from consent.models import DataSubjectRequest

from .people import EMAIL, OTHER_TERMS, TERMS, load_person, request_verified_by_code
from .scan import scan_database, scan_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(make_user, django_capture_on_commit_callbacks, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return load_person(
        make_user=make_user, capture=django_capture_on_commit_callbacks, tmp_path=tmp_path
    )


def _archive(loaded, request_id):
    response = loaded.officer.get(f"/api/consent/requests/{request_id}/archive")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_archive_holds_every_record_the_erasure_scan_finds(
    loaded, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    rows_found = {(hit.table, hit.pk) for hit in scan_database(TERMS)}
    files_found = {path.split("!")[0] for path, _ in scan_files(TERMS)}
    request_id = request_verified_by_code(loaded, capture, kind="portability")
    rows_found.add(("consent.datasubjectrequest", request_id))

    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")
    data = json.loads(_archive(loaded, request_id).read("data.json"))

    exported = {
        (table, row["id"])
        for tables in data.values()
        for table, rows in tables.items()
        for row in rows
        if "id" in row
    }
    exported_files = {row["path"] for tables in data.values() for row in tables.get("files", [])}
    assert rows_found - exported == set()
    assert files_found - exported_files == set()
    # Nobody else's data is in it.
    text = json.dumps(data).lower()
    assert [term for term in OTHER_TERMS if term.lower() in text] == []


def test_the_archive_is_machine_readable_and_has_a_summary(
    loaded, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="access")
    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")

    archive = _archive(loaded, request_id)
    names = set(archive.namelist())
    identifiers = list(
        csv.DictReader(io.StringIO(archive.read("csv/profiles.identifier.csv").decode()))
    )
    summary = archive.read("summary.txt").decode()
    manifest = json.loads(archive.read("manifest.json"))

    assert {"data.json", "manifest.json", "summary.txt", "csv/profiles.event.csv"} <= names
    assert sorted((row["type"], row["value"]) for row in identifiers) == [
        ("anonymous_id", "anon-zq-1"),
        ("anonymous_id", "anon-zq-2"),
        ("anonymous_id", "anon-zq-3"),
        ("crm_id", "CRM-ZQ-77"),
        ("email", EMAIL),
        ("loyalty_id", "LOY-ZQ-5"),
        ("phone", "+49305550199"),
        ("user_id", "zq-user-8841"),
    ]
    assert "Consent history (every grant and withdrawal) [consent.consentevent]: 4" in summary
    assert manifest["request_id"] == request_id
    assert manifest["tables"]["profiles.event"] == 7
    request = DataSubjectRequest.objects.get(pk=request_id)
    assert (request.state, request.report["tables"]["profiles.profile"]) == ("completed", 3)


def test_traits_come_with_their_provenance(loaded, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="access")
    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")

    data = json.loads(_archive(loaded, request_id).read("data.json"))

    observed = {
        (row["name"], row["source__name"]) for row in data["profiles"]["profiles.traitvalue"]
    }
    assert {("first_name", "web"), ("first_name", "crm"), ("loyalty_id", "web")} <= observed
    gpc = [row for row in data["consent"]["consent.consentevent"] if row["source"] == "gpc"]
    assert [(row["purpose"], row["granted"]) for row in gpc] == [("advertising", False)]
    assert gpc[0]["evidence"]["message_id"] == "zq-m1"


def test_a_person_link_downloads_the_archive_for_an_hour_only(
    loaded, django_capture_on_commit_callbacks, time_machine
):
    from consent.services.archive import archive_link_token

    capture = django_capture_on_commit_callbacks
    request_id = request_verified_by_code(loaded, capture, kind="access")
    with capture(execute=True):
        loaded.officer.post(f"/api/consent/requests/{request_id}/execute")
    token = archive_link_token(request=DataSubjectRequest.objects.get(pk=request_id))
    anonymous = type(loaded.officer)()

    assert anonymous.get(f"/api/consent/archive/{token}").status_code == 200
    assert anonymous.get(f"/api/consent/archive/{token}x").status_code == 404
    time_machine.move_to(timezone.now() + timedelta(seconds=3601))
    assert anonymous.get(f"/api/consent/archive/{token}").status_code == 404
