import pytest

from cdp.core.models import AuditEvent
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER
from profiles.models import Profile
from profiles.services.ingest import events_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace(source_and_key, django_capture_on_commit_callbacks) -> Profile:
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[
                {
                    "type": "identify",
                    "userId": "u1",
                    "messageId": "m1",
                    "timestamp": "2025-12-31T00:00:00Z",
                    "traits": {
                        "email": "grace@example.com",
                        "first_name": "Grace",
                        "phone": "+1 212 555 0142",
                        "country": "US",
                    },
                },
                *[
                    {
                        "type": "track",
                        "userId": "u1",
                        "event": "Viewed",
                        "messageId": f"v{i}",
                        "timestamp": f"2026-01-01T00:00:{i:02d}Z",
                    }
                    for i in range(60)
                ],
            ],
        )
    return Profile.objects.get()


@pytest.mark.parametrize(
    ("_case", "params"),
    [
        ("email normalised", {"email": " GRACE@example.com"}),
        ("user id", {"user_id": "u1"}),
        ("phone in another format", {"phone": "(212) 555-0142"}),
    ],
)
def test_a_profile_is_found_by_any_identifier(api_client_for, grace, _case, params):
    response = api_client_for(INTEGRATION_ADMIN).get("/api/profiles/", params)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [grace.pk]


def test_lookup_by_an_invalid_email_is_a_clear_400(api_client_for, grace):
    response = api_client_for(INTEGRATION_ADMIN).get("/api/profiles/", {"email": "nope"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_detail_shows_identifiers_and_traits_with_provenance_and_is_audited(api_client_for, grace):
    response = api_client_for(PRIVACY_OFFICER).get(f"/api/profiles/{grace.pk}/")

    body = response.json()
    assert body["masked"] is False
    assert {"type": "email", "value": "grace@example.com", "source": "web"} in body["identifiers"]
    first_name = next(trait for trait in body["traits"] if trait["name"] == "first_name")
    assert first_name["value"] == "Grace"
    assert (
        first_name["provenance"]["source"],
        first_name["provenance"]["record"],
        first_name["provenance"]["rule"],
    ) == ("web", "m1", "most_trusted")
    audit = AuditEvent.objects.get(action="profiles.profile.view")
    assert (audit.target_id, audit.actor_label) == (str(grace.pk), "privacy_officer")


def test_marketers_see_masked_identifiers_and_traits(api_client_for, grace):
    response = api_client_for(MARKETER).get(f"/api/profiles/{grace.pk}/")

    body = response.json()
    assert body["masked"] is True
    values = {row["type"]: row["value"] for row in body["identifiers"]}
    assert values["email"] == "g***@e***"
    assert "grace" not in str(body).lower()
    traits = {trait["name"]: trait["value"] for trait in body["traits"]}
    assert traits["country"] == "US"  # not personal on its own: shown


def test_users_without_a_role_are_refused(api_client_for, grace):
    client = api_client_for(None)

    assert client.get("/api/profiles/").status_code == 403
    assert client.get(f"/api/profiles/{grace.pk}/").status_code == 403
    assert not AuditEvent.objects.filter(action="profiles.profile.view").exists()


def test_timeline_is_cursor_paginated_newest_first(
    api_client_for, grace, django_assert_max_num_queries
):
    client = api_client_for(PRIVACY_OFFICER)
    with django_assert_max_num_queries(8):
        first = client.get(f"/api/profiles/{grace.pk}/events/").json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == 50
    assert first["results"][0]["event"] == "Viewed"
    assert first["results"][0]["timestamp"] > first["results"][-1]["timestamp"]
    assert len(second["results"]) == 11
    assert second["next"] is None


def test_profile_list_has_a_query_budget(api_client_for, grace, django_assert_max_num_queries):
    client = api_client_for(MARKETER)
    with django_assert_max_num_queries(8):
        response = client.get("/api/profiles/")
    assert response.status_code == 200


def test_unknown_profile_is_404(api_client_for, db):
    response = api_client_for(PRIVACY_OFFICER).get("/api/profiles/999999/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
