"""Role matrix: every admin page and API endpoint that touches personal data or privacy actions,
for each role — allowed with its exact answer, or denied with 403 (never a 500)."""

from dataclasses import dataclass

from django.test import Client
from rest_framework.test import APIClient

import pytest

from cdp.core.models import AuditEvent
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER
from consent.models import DataSubjectRequest
from consent.services.requests import dsr_create, dsr_execute, dsr_verify_manually
from profiles.models import Identifier
from profiles.services.ingest import events_ingest

pytestmark = pytest.mark.django_db

M, P, IA = MARKETER, PRIVACY_OFFICER, INTEGRATION_ADMIN
NO_ROLE, ANONYMOUS = "no role", "anonymous"
ROLES = (M, P, IA, NO_ROLE, ANONYMOUS)


@dataclass(frozen=True)
class World:
    profile_id: int
    received: int  # a request waiting for verification
    verified: int  # verified, not started
    done: int  # a completed access request with its archive


@pytest.fixture
def world(source_and_key, actor, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[{"type": "identify", "userId": "u1", "traits": {"email": "ada@example.com"}}],
        )

    def request(kind):
        return dsr_create(
            kind=kind, identifiers=[("email", "ada@example.com")], actor=actor, received_via="api"
        ).pk

    received, verified, done = request("access"), request("erasure"), request("access")
    for pk in (verified, done):
        dsr_verify_manually(request_id=pk, note="seen", actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        dsr_execute(request_id=done, actor=actor)
    return World(
        profile_id=Identifier.objects.get(value="u1").profile_id,
        received=received,
        verified=verified,
        done=done,
    )


GRANT = {"profile_id": "{profile}", "purposes": ["email_marketing"]}
NEW_REQUEST = {"kind": "access", "identifiers": [{"type": "email", "value": "ada@example.com"}]}

# (name, method, url, body, roles allowed, status when allowed)
API = [
    ("purposes", "get", "/api/consent/purposes/", None, (M, P, IA), 200),
    ("grant", "post", "/api/consent/grant", GRANT, (P, IA), 200),
    ("withdraw", "post", "/api/consent/withdraw", GRANT, (P, IA), 200),
    ("person consent", "get", "/api/consent/people/{profile}/", None, (P, IA), 200),
    ("request queue", "get", "/api/consent/requests/", None, (P,), 200),
    ("request create", "post", "/api/consent/requests/", NEW_REQUEST, (P, IA), 201),
    ("request detail", "get", "/api/consent/requests/{received}/", None, (P,), 200),
    ("send code", "post", "/api/consent/requests/{received}/verification/send", None, (P,), 200),
    (
        "confirm code",
        "post",
        "/api/consent/requests/{received}/verification/confirm",
        {"code": "123456"},
        (P, IA),
        400,  # no code was sent: a domain refusal, after the role check
    ),
    ("verify", "post", "/api/consent/requests/{received}/verify", {"note": "ID"}, (P,), 200),
    ("extend", "post", "/api/consent/requests/{received}/extend", {"note": "busy"}, (P,), 200),
    ("reject", "post", "/api/consent/requests/{received}/reject", {"note": "no ID"}, (P,), 200),
    ("execute", "post", "/api/consent/requests/{verified}/execute", None, (P,), 200),
    ("archive", "get", "/api/consent/requests/{done}/archive", None, (P,), 200),
    ("report", "get", "/api/consent/requests/{done}/report", None, (P,), 200),
    ("profiles list", "get", "/api/profiles/", None, (M, P, IA), 200),
    ("profile detail", "get", "/api/profiles/{profile}/", None, (M, P, IA), 200),
    ("profile timeline", "get", "/api/profiles/{profile}/events/", None, (M, P, IA), 200),
    ("quarantine", "get", "/api/quarantine/", None, (IA,), 200),
]
Q = "/admin/consent/datasubjectrequest"
ADMIN = [
    ("dsr queue", "get", f"{Q}/queue/", None, (P,), 200),
    ("dsr changelist", "get", f"{Q}/", None, (P,), 302),
    ("dsr add", "get", f"{Q}/add/", None, (P,), 200),
    ("dsr page", "get", f"{Q}/{{received}}/change/", None, (P,), 200),
    ("dsr progress", "get", f"{Q}/{{done}}/progress.json", None, (P,), 200),
    ("dsr archive", "get", f"{Q}/{{done}}/archive/", None, (P,), 200),
    ("dsr report", "get", f"{Q}/{{done}}/report/", None, (P,), 200),
    ("dsr action", "post", f"{Q}/{{received}}/do/verify_manually/", {"note": "ID"}, (P,), 302),
    ("consent ledger", "get", "/admin/consent/consentevent/", None, (P,), 200),
    ("consent entry add", "get", "/admin/consent/consentevent/add/", None, (P,), 200),
    ("purposes", "get", "/admin/consent/purpose/", None, (M, P), 200),
    ("suppression", "get", "/admin/consent/suppression/", None, (P,), 200),
    ("restrictions", "get", "/admin/consent/processingrestriction/", None, (P,), 200),
    ("enforcement counts", "get", "/admin/consent/enforcementcount/", None, (P,), 200),
    ("retention rules", "get", "/admin/consent/retentionrule/", None, (P,), 200),
    ("audit log", "get", "/admin/core/auditevent/", None, (P,), 200),
    ("profiles", "get", "/admin/profiles/profile/", None, (M, P, IA), 200),
    ("profile page", "get", "/admin/profiles/profile/{profile}/change/", None, (M, P, IA), 200),
]


def _fill(value, world):
    ids = {
        "profile": world.profile_id,
        "received": world.received,
        "verified": world.verified,
        "done": world.done,
    }
    if isinstance(value, str):
        if value == "{profile}":
            return world.profile_id
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, world) for item in value]
    return value


def _cases(table):
    return [pytest.param(role, row, id=f"{row[0]}-{role}") for row in table for role in ROLES]


def _user(make_user, role):
    return make_user(None if role == NO_ROLE else role)


@pytest.mark.parametrize(("role", "row"), _cases(API))
def test_api_matrix(world, make_user, role, row):
    _name, method, url, body, allowed, status = row
    client = APIClient()
    if role != ANONYMOUS:
        client.force_authenticate(_user(make_user, role))
    before = DataSubjectRequest.objects.order_by("pk").values_list("pk", "state", "job_state")
    before = list(before)

    response = getattr(client, method)(_fill(url, world), _fill(body, world), format="json")

    if role in allowed:
        assert response.status_code == status, response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]
        after = DataSubjectRequest.objects.order_by("pk").values_list("pk", "state", "job_state")
        assert list(after) == before


@pytest.mark.parametrize(("role", "row"), _cases(ADMIN))
def test_admin_matrix(world, make_user, role, row):
    _name, method, url, body, allowed, status = row
    client = Client()
    if role != ANONYMOUS:
        client.force_login(_user(make_user, role))

    response = getattr(client, method)(_fill(url, world), _fill(body, world) or {})

    if role == ANONYMOUS:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    elif role in allowed:
        assert response.status_code == status
    else:
        assert response.status_code == 403


def test_marketers_see_masked_identifiers_and_officers_see_them_in_full(world, make_user):
    marketer, officer = APIClient(), APIClient()
    marketer.force_authenticate(make_user(M))
    officer.force_authenticate(make_user(P))

    masked = marketer.get(f"/api/profiles/{world.profile_id}/").json()
    full = officer.get(f"/api/profiles/{world.profile_id}/").json()

    assert [(i["type"], i["value"]) for i in masked["identifiers"]] == [
        ("email", "a***@e***"),
        ("user_id", "****"),
    ]
    assert [(i["type"], i["value"]) for i in full["identifiers"]] == [
        ("email", "ada@example.com"),
        ("user_id", "u1"),
    ]


def test_every_pii_view_download_and_privacy_action_is_audited(world, make_user):
    officer = APIClient()
    officer.force_authenticate(make_user(P))
    AuditEvent.objects.all().delete()

    officer.get(f"/api/consent/people/{world.profile_id}/")
    officer.get(f"/api/consent/requests/{world.received}/")
    officer.get(f"/api/consent/requests/{world.done}/archive")
    officer.get(f"/api/consent/requests/{world.done}/report")
    officer.post(f"/api/consent/requests/{world.received}/verify", {"note": "ID"}, format="json")
    officer.post(
        "/api/consent/withdraw",
        {"profile_id": world.profile_id, "purposes": ["analytics"]},
        format="json",
    )

    assert list(AuditEvent.objects.order_by("pk").values_list("action", "actor_label")) == [
        ("consent.consent.view", "privacy_officer"),
        ("consent.dsr.view", "privacy_officer"),
        ("consent.dsr.archive_download", "privacy_officer"),
        ("consent.dsr.report_download", "privacy_officer"),
        ("consent.dsr.verify", "privacy_officer"),
        ("consent.consent.withdraw", "privacy_officer"),
    ]
