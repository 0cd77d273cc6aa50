from datetime import UTC, datetime, timedelta

from django.core import mail
from django.utils import timezone

import pytest

from cdp.core.models import AuditEvent
from cdp.core.roles import INTEGRATION_ADMIN, PRIVACY_OFFICER
from consent.models import DataSubjectRequest, RequestStep, VerificationCode
from consent.selectors import dsr_queue
from consent.services.reminders import dsr_deadlines_remind
from consent.services.requests import dsr_create, dsr_extend, dsr_verify_manually
from profiles.services.ingest import events_ingest

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 1, 31, 9, tzinfo=UTC)


@pytest.fixture
def known_person(source_and_key, django_capture_on_commit_callbacks):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[{"type": "identify", "userId": "u1", "traits": {"email": "ada@example.com"}}],
        )


def _create(client, kind="access", email="ada@example.com", **extra):
    return client.post(
        "/api/consent/requests/",
        {"kind": kind, "identifiers": [{"type": "email", "value": email}], **extra},
        format="json",
    )


def _code_from_mail():
    return mail.outbox[-1].body.split("Your code is ")[1][:6]


def test_a_request_arrives_by_api_with_its_legal_deadline(api_client_for, time_machine):
    time_machine.move_to(RECEIVED, tick=False)
    response = _create(api_client_for(INTEGRATION_ADMIN), regime="gdpr", message="Send my data")

    assert response.status_code == 201
    body = response.json()
    assert (body["state"], body["due_at"], body["days_left"]) == (
        "received",
        "2026-02-28T09:00:00Z",
        28,
    )
    request = DataSubjectRequest.objects.get()
    assert request.identifiers == [["email", "ada@example.com"]]
    assert list(RequestStep.objects.values_list("action", "actor_label")) == [
        ("received", "integration_admin")
    ]
    assert AuditEvent.objects.get(action="consent.dsr.create").details == {
        "kind": "access",
        "regime": "gdpr",
        "identifier_types": ["email"],
    }


def test_a_ccpa_request_is_due_in_45_days(actor):
    request = dsr_create(
        kind="opt_out",
        regime="ccpa",
        identifiers=[("user_id", "u1")],
        actor=actor,
        received_via="api",
        received_at=RECEIVED,
    )

    assert request.due_at == RECEIVED + timedelta(days=45)


@pytest.mark.parametrize(
    ("_case", "body"),
    [
        ("no identifier", {"kind": "access", "identifiers": []}),
        ("unknown type", {"kind": "access", "identifiers": [{"type": "ssn", "value": "1"}]}),
        (
            "unknown kind",
            {"kind": "delete_everything", "identifiers": [{"type": "email", "value": "a@b.c"}]},
        ),
        (
            "rectification without corrections",
            {"kind": "rectification", "identifiers": [{"type": "email", "value": "a@b.c"}]},
        ),
    ],
)
def test_a_bad_request_is_refused_and_nothing_is_stored(api_client_for, _case, body):
    response = api_client_for(PRIVACY_OFFICER).post("/api/consent/requests/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert DataSubjectRequest.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_code_sent_to_a_known_email_verifies_the_request(api_client_for, known_person):
    officer = api_client_for(PRIVACY_OFFICER)
    request_id = _create(officer, email=" ADA@example.com").json()["id"]

    sent = officer.post(f"/api/consent/requests/{request_id}/verification/send")
    code = _code_from_mail()
    confirmed = officer.post(
        f"/api/consent/requests/{request_id}/verification/confirm", {"code": code}, format="json"
    )

    assert sent.status_code == 200
    assert mail.outbox[-1].to == ["ada@example.com"]
    row = VerificationCode.objects.get()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert (confirmed.status_code, confirmed.json()["state"]) == (200, "verified")
    assert DataSubjectRequest.objects.get().verification_method == "code"
    assert VerificationCode.objects.get().used_at is not None


def test_a_wrong_code_uses_an_attempt_and_five_lock_the_code(api_client_for, known_person):
    officer = api_client_for(PRIVACY_OFFICER)
    request_id = _create(officer).json()["id"]
    officer.post(f"/api/consent/requests/{request_id}/verification/send")
    code = _code_from_mail()
    wrong = "000000" if code != "000000" else "111111"
    url = f"/api/consent/requests/{request_id}/verification/confirm"

    answers = [officer.post(url, {"code": wrong}, format="json") for _ in range(5)]
    locked = officer.post(url, {"code": code}, format="json")

    assert [a.json()["error"]["details"] for a in answers] == [
        {"attempts_left": left} for left in (4, 3, 2, 1, 0)
    ]
    assert (locked.status_code, locked.json()["error"]["code"]) == (400, "code_rejected")
    assert VerificationCode.objects.get().attempts == 5
    assert DataSubjectRequest.objects.get().state == "received"


def test_a_code_expires_after_thirty_minutes(api_client_for, known_person, time_machine):
    time_machine.move_to(timezone.now())
    officer = api_client_for(PRIVACY_OFFICER)
    request_id = _create(officer).json()["id"]
    officer.post(f"/api/consent/requests/{request_id}/verification/send")
    time_machine.move_to(timezone.now() + timedelta(minutes=31))

    response = officer.post(
        f"/api/consent/requests/{request_id}/verification/confirm",
        {"code": _code_from_mail()},
        format="json",
    )

    assert response.status_code == 400
    assert DataSubjectRequest.objects.get().state == "received"


def test_sending_codes_is_rate_limited(api_client_for, known_person, time_machine):
    time_machine.move_to(timezone.now())
    officer = api_client_for(PRIVACY_OFFICER)
    request_id = _create(officer).json()["id"]
    url = f"/api/consent/requests/{request_id}/verification/send"

    statuses = [officer.post(url).status_code]
    statuses.append(officer.post(url).status_code)  # within a minute
    for _ in range(5):
        time_machine.move_to(timezone.now() + timedelta(minutes=2))
        statuses.append(officer.post(url).status_code)

    assert statuses == [200, 429, 200, 200, 200, 200, 429]
    assert VerificationCode.objects.count() == 5
    assert len(mail.outbox) == 5


def test_no_code_goes_to_an_address_the_cdp_does_not_know(api_client_for, known_person):
    officer = api_client_for(PRIVACY_OFFICER)
    request_id = _create(officer, email="attacker@example.com").json()["id"]

    response = officer.post(f"/api/consent/requests/{request_id}/verification/send")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "no_known_identifier")
    assert mail.outbox == []


def test_execution_needs_a_verified_identity(api_client_for):
    officer = api_client_for(PRIVACY_OFFICER)
    request_id = _create(officer).json()["id"]

    response = officer.post(f"/api/consent/requests/{request_id}/execute")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "request_state")
    assert DataSubjectRequest.objects.get().job_state == "idle"


def test_a_deadline_is_extended_once_with_a_reason(actor):
    request = dsr_create(
        kind="access",
        identifiers=[("user_id", "u1")],
        actor=actor,
        received_via="api",
        received_at=RECEIVED,
    )

    extended = dsr_extend(request_id=request.pk, reason="Complex: many systems", actor=actor)

    assert extended.due_at == datetime(2026, 4, 30, 9, tzinfo=UTC)
    with pytest.raises(Exception, match="already extended"):
        dsr_extend(request_id=request.pk, reason="again", actor=actor)


def test_reject_closes_the_request_with_its_reason(api_client_for):
    officer = api_client_for(PRIVACY_OFFICER)
    request_id = _create(officer).json()["id"]

    response = officer.post(
        f"/api/consent/requests/{request_id}/reject", {"note": "Identity not proven"}, format="json"
    )

    assert response.json()["state"] == "rejected"
    request = DataSubjectRequest.objects.get()
    assert (request.outcome_note, request.closed_at is not None) == ("Identity not proven", True)


def test_the_queue_puts_overdue_requests_first_and_flags_them(actor, django_assert_max_num_queries):
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for days_ago in (10, 40, 2):
        dsr_create(
            kind="access",
            identifiers=[("user_id", f"u{days_ago}")],
            actor=actor,
            received_via="api",
            received_at=now - timedelta(days=days_ago),
        )
    closed = dsr_create(
        kind="access",
        identifiers=[("user_id", "old")],
        actor=actor,
        received_via="api",
        received_at=now - timedelta(days=90),
    )
    DataSubjectRequest.objects.filter(pk=closed.pk).update(state="completed")

    with django_assert_max_num_queries(1):
        rows = dsr_queue(now=now)

    assert [(row.request.identifiers[0][1], row.urgency and row.urgency.band) for row in rows] == [
        ("u40", "overdue"),
        ("u10", "on_track"),
        ("u2", "on_track"),
        ("old", None),
    ]
    assert rows[0].identifiers == [("user_id", "****")]


def test_the_queue_api_answers_within_a_query_budget(
    api_client_for, actor, django_assert_max_num_queries
):
    for index in range(30):
        dsr_create(
            kind="access", identifiers=[("user_id", f"u{index}")], actor=actor, received_via="api"
        )
    officer = api_client_for(PRIVACY_OFFICER)

    with django_assert_max_num_queries(8):
        response = officer.get("/api/consent/requests/")

    assert len(response.json()) == 30


def test_reminders_go_once_a_day_to_privacy_officers_without_personal_data(actor, make_user):
    make_user(PRIVACY_OFFICER)
    now = datetime(2026, 6, 1, 7, tzinfo=UTC)
    soon = dsr_create(
        kind="erasure",
        identifiers=[("email", "ada@example.com")],
        actor=actor,
        received_via="api",
        received_at=now - timedelta(days=25),
    )
    dsr_create(
        kind="access",
        identifiers=[("user_id", "later")],
        actor=actor,
        received_via="api",
        received_at=now,
    )

    assert dsr_deadlines_remind(now=now) == 1
    assert dsr_deadlines_remind(now=now + timedelta(hours=3)) == 0
    assert dsr_deadlines_remind(now=now + timedelta(days=1)) == 1
    assert [message.to for message in mail.outbox] == [["privacy_officer@staff.example"]] * 2
    body = mail.outbox[0].body
    assert body.splitlines()[0] == f"#{soon.pk} Erasure (GDPR), due 2026-06-07: 6 day(s) left"
    assert "ada@" not in body


def test_manual_verification_needs_a_note(actor):
    request = dsr_create(
        kind="access", identifiers=[("user_id", "u1")], actor=actor, received_via="api"
    )

    with pytest.raises(Exception, match="Say how"):
        dsr_verify_manually(request_id=request.pk, note="  ", actor=actor)
    dsr_verify_manually(request_id=request.pk, note="Passport checked at the desk", actor=actor)

    assert DataSubjectRequest.objects.get().state == "verified"
