"""The official segment-analytics-python client, pointed at CDP, works unchanged."""

from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token

import pytest
import requests
from segment.analytics import Client
from segment.analytics.request import APIError

from cdp.core.roles import INTEGRATION_ADMIN
from profiles.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def integration_token(db) -> str:
    user = User.objects.create_user("integration-bot", is_staff=False)
    user.groups.add(Group.objects.get(name=INTEGRATION_ADMIN))
    return Token.objects.create(user=user).key


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_identify_and_track_arrive_once_and_the_profile_is_found(
    live_server, write_key, integration_token, gzip
):
    errors: list[Exception] = []
    client = Client(
        write_key=write_key,
        host=live_server.url,
        sync_mode=True,
        gzip=gzip,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )

    client.identify(
        "user-42",
        {"email": "Grace@Example.com", "first_name": "Grace", "plan": "pro"},
        message_id="id-1",
    )
    client.track(
        "user-42",
        "Order Completed",
        {"order_id": "o-42", "total": 99.5, "currency": "EUR"},
        message_id="tr-1",
    )
    client.track(
        "user-42",
        "Order Completed",
        {"order_id": "o-42", "total": 99.5, "currency": "EUR"},
        message_id="tr-1",
    )
    client.flush()

    assert errors == []
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["id-1", "tr-1"]
    response = requests.get(
        f"{live_server.url}/api/profiles/",
        params={"user_id": "user-42"},
        headers={"Authorization": f"Token {integration_token}"},
        timeout=10,
    )
    assert response.status_code == 200
    [profile] = response.json()["results"]
    assert profile["traits"] == {"email": "grace@example.com", "first_name": "Grace", "plan": "pro"}

    detail = requests.get(
        f"{live_server.url}/api/profiles/{profile['id']}/",
        headers={"Authorization": f"Token {integration_token}"},
        timeout=10,
    )
    provenance = {trait["name"]: trait["provenance"]["record"] for trait in detail.json()["traits"]}
    assert provenance == {"email": "id-1", "first_name": "id-1", "plan": "id-1"}


def test_a_wrong_write_key_is_reported_to_the_client_and_nothing_stored(live_server, db):
    client = Client(write_key="x" * 40, host=live_server.url, sync_mode=True, max_retries=0)

    with pytest.raises(APIError) as raised:
        client.track("u", "Viewed")

    assert (raised.value.status, raised.value.code) == (401, "authentication_failed")
    assert raised.value.message == "Unknown or revoked write key."
    assert Event.objects.count() == 0
