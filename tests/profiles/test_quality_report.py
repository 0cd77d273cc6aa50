"""Data-quality report per source: completeness and validity per field, rows rejected by the
validation rules, and duplicates found by identity resolution; API and admin page."""

from __future__ import annotations

import pytest

from cdp.core.actor import Actor
from cdp.core.errors import NotFoundError
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER
from profiles.models import QualityReport
from profiles.services.ingest import IngestOptions, events_ingest
from profiles.services.processing import events_process
from profiles.services.quality_report import quality_report_compute
from profiles.services.sources import source_create

pytestmark = pytest.mark.django_db

ADMIN = Actor(user_id=None, label="admin")


def _identify(user_id: str, **traits) -> dict:
    return {"type": "identify", "userId": user_id, "traits": traits}


@pytest.fixture
def crm():
    source, _ = source_create(name="crm", kind="crm", actor=ADMIN)
    order = {"type": "track", "event": "Order Completed"}
    messages = [
        _identify("u1", email="a@example.com", phone="+12125550142", birth_date="1980-02-03"),
        _identify("u2", email="b@example.com", birth_date="2199-01-01"),
        _identify("u3", first_name="Cy"),
        {
            **order,
            "userId": "u1",
            "properties": {"order_id": "O1", "total": "20", "currency": "EUR"},
        },
        {
            **order,
            "userId": "u2",
            "properties": {"order_id": "O2", "total": "5", "currency": "USD"},
        },
    ]
    stored = events_ingest(source_id=source.pk, messages=messages)
    events_process(event_ids=stored.event_ids)
    events_ingest(
        source_id=source.pk,
        messages=[{"type": "identify", "traits": {"email": "x@example.com"}}],  # no identity
        options=IngestOptions(),
    )
    return source


def test_report_measures_completeness_validity_and_rejections(crm):
    report = quality_report_compute(source_id=crm.pk, actor=ADMIN)

    fields = {row["field"]: row for row in report.fields}
    assert report.records == 3
    assert fields["email"]["present"] == 2
    assert fields["email"]["completeness"] == pytest.approx(2 / 3, abs=1e-4)
    assert fields["email"]["validity"] == 1.0
    assert fields["birth_date"]["valid"] == 1  # born in 2199: in the future
    assert fields["birth_date"]["validity"] == 0.5
    assert fields["phone"]["validity"] == 1.0
    assert fields["order.total"]["valid"] == 2
    assert fields["order.currency"]["validity"] == 1.0
    assert report.issues == {"missing_identity": 1}
    assert report.duplicates == {"records": 3, "merged": 0, "pending_review": 0, "kept_apart": 0}


def test_unknown_source_is_refused_and_nothing_stored():
    with pytest.raises(NotFoundError):
        quality_report_compute(source_id=999, actor=ADMIN)

    assert not QualityReport.objects.exists()


def test_quality_api_and_admin_page(crm, api_client_for, client, make_user):
    api = api_client_for(INTEGRATION_ADMIN)

    missing = api.get(f"/api/sources/{crm.pk}/quality")
    created = api.post(f"/api/sources/{crm.pk}/quality")
    latest = api.get(f"/api/sources/{crm.pk}/quality")
    forbidden = api_client_for(MARKETER).post(f"/api/sources/{crm.pk}/quality")
    client.force_login(make_user(INTEGRATION_ADMIN, "admin-page"))
    page = client.get(f"/admin/profiles/qualityreport/source/{crm.pk}/")

    assert missing.status_code == 404
    assert created.status_code == 201
    assert latest.json()["id"] == created.json()["id"]
    assert forbidden.status_code == 403
    assert QualityReport.objects.count() == 1
    assert page.status_code == 200
    assert b'data-chart="quality-fields"' in page.content
