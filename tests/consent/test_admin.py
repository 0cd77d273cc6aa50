"""Admin pages write through services: each change is a service call with its audit row."""

from django.test import Client

import pytest

from cdp.core.models import AuditEvent
from cdp.core.roles import PRIVACY_OFFICER
from consent.models import (
    ConsentEvent,
    DataSubjectRequest,
    ProcessingRestriction,
    Purpose,
    RetentionRule,
)
from consent.services.restrictions import restriction_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_user):
    client = Client()
    client.force_login(make_user(PRIVACY_OFFICER))
    return client


def test_a_request_received_by_post_is_recorded_from_the_admin_form(officer):
    response = officer.post(
        "/admin/consent/datasubjectrequest/add/",
        {
            "kind": "rectification",
            "regime": "gdpr",
            "email": "Ada@Example.com",
            "other_identifiers": "crm_id:C-1",
            "message": "My surname is wrong",
            "corrections": "last_name=Lovelace",
        },
    )

    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/consent/datasubjectrequest/{request.pk}/change/"
    assert (request.received_via, request.identifiers, request.corrections) == (
        "admin",
        [["email", "ada@example.com"], ["crm_id", "C-1"]],
        {"last_name": "Lovelace"},
    )


def test_a_bad_admin_form_shows_the_error_and_stores_nothing(officer):
    response = officer.post(
        "/admin/consent/datasubjectrequest/add/",
        {"kind": "access", "regime": "gdpr", "other_identifiers": "passport 123"},
    )

    assert response.status_code == 200
    assert "Write other identifiers as type:value" in response.content.decode()
    assert DataSubjectRequest.objects.count() == 0


def test_an_officer_action_that_the_state_forbids_shows_a_message_not_an_error(officer, actor):
    from consent.services.requests import dsr_create

    request = dsr_create(
        kind="access", identifiers=[("user_id", "u1")], actor=actor, received_via="api"
    )

    response = officer.post(
        f"/admin/consent/datasubjectrequest/{request.pk}/do/execute/", follow=True
    )

    assert response.status_code == 200
    assert "this needs it to be verified or in_progress" in response.content.decode()
    assert DataSubjectRequest.objects.get().job_state == "idle"


def test_recording_consent_in_the_admin_appends_to_the_ledger(officer):
    purpose = Purpose.objects.get(key="sms_marketing")

    response = officer.post(
        "/admin/consent/consentevent/add/",
        {"profile_id": 12, "purpose": purpose.pk, "is_granted": "on", "note": "phone call"},
    )

    entry = ConsentEvent.objects.get()
    assert response.status_code == 302
    assert (entry.profile_id, entry.source, entry.evidence) == (
        12,
        "admin",
        {"note": "phone call", "recorded_by": "privacy_officer"},
    )
    assert AuditEvent.objects.filter(action="consent.consent.grant").count() == 1


def test_purpose_and_retention_edits_are_audited(officer):
    purpose = Purpose.objects.get(key="analytics")
    officer.post(
        f"/admin/consent/purpose/{purpose.pk}/change/",
        {
            "key": "analytics",
            "name": "Analytics",
            "description": purpose.description,
            "legal_basis": "legitimate_interest",
            "channels": "[]",
            "category_aliases": '["analytics"]',
            "is_active": "on",
        },
    )
    officer.post(
        "/admin/consent/retentionrule/add/",
        {"name": "Views", "event_name": "Product Viewed", "keep_days": 90, "is_active": "on"},
    )

    purpose.refresh_from_db()
    assert (purpose.legal_basis, purpose.channels) == ("legitimate_interest", [])
    assert RetentionRule.objects.get(name="Views").keep_days == 90
    assert list(AuditEvent.objects.order_by("pk").values_list("action", "details")) == [
        ("consent.purpose.change", {"fields": ["category_aliases", "channels", "legal_basis"]}),
        (
            "consent.retention.create",
            {"fields": ["event_name", "keep_days", "name"], "keep_days": 90},
        ),
    ]


def test_lifting_a_restriction_from_the_admin(officer):
    (row_id,) = restriction_add(profile_ids=[4], kind="restriction")

    officer.post(
        "/admin/consent/processingrestriction/",
        {"action": "lift", "_selected_action": [row_id]},
    )

    row = ProcessingRestriction.objects.get()
    assert (row.lifted_at is not None, row.lifted_by_label) == (True, "privacy_officer")
    assert AuditEvent.objects.get().action == "consent.restriction.lift"
