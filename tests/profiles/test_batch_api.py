import gzip
import json

from rest_framework.test import APIClient

import pytest

from profiles.models import Event, QuarantinedRecord
from tests.conftest import basic

pytestmark = pytest.mark.django_db


def _post(client, path, body, **extra):
    return client.post(path, data=json.dumps(body), content_type="application/json", **extra)


def test_one_bad_message_is_quarantined_and_the_rest_of_the_batch_kept(tracking_client):
    batch = {
        "batch": [
            {"type": "track", "event": "Viewed", "userId": "u1", "messageId": "m1"},
            {"type": "track", "userId": "u2", "messageId": "m2"},
        ]
    }
    response = _post(tracking_client, "/v1/batch", batch)

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [(e["index"], e["messageId"], e["code"]) for e in body["errors"]] == [
        (1, "m2", "missing_event")
    ]
    assert list(Event.objects.values_list("message_id", flat=True)) == ["m1"]
    assert QuarantinedRecord.objects.get().reason == "missing_event"


@pytest.mark.parametrize(
    ("_case", "message", "code"),
    [
        ("no identity", {"type": "track", "event": "E"}, "missing_identity"),
        ("track without event", {"type": "track", "userId": "u"}, "missing_event"),
        ("unknown type", {"type": "purchase", "userId": "u"}, "invalid_type"),
        (
            "properties not an object",
            {"type": "track", "event": "E", "userId": "u", "properties": [1]},
            "invalid_field_type",
        ),
        (
            "userId wrong type",
            {"type": "track", "event": "E", "userId": {"a": 1}},
            "invalid_identity",
        ),
        (
            "bad timestamp",
            {"type": "track", "event": "E", "userId": "u", "timestamp": "yesterday"},
            "invalid_timestamp",
        ),
        ("group without groupId", {"type": "group", "userId": "u"}, "missing_group_id"),
        ("alias without previousId", {"type": "alias", "userId": "u"}, "missing_previous_id"),
        (
            "over 32 KB",
            {"type": "track", "event": "E", "userId": "u", "properties": {"blob": "x" * 33_000}},
            "message_too_large",
        ),
        ("not an object", "hello", "invalid_message"),
    ],
)
def test_message_level_faults_answer_200_with_a_code_and_store_nothing(
    tracking_client, _case, message, code
):
    response = _post(tracking_client, "/v1/batch", {"batch": [message]})

    assert response.status_code == 200
    assert [error["code"] for error in response.json()["errors"]] == [code]
    assert Event.objects.count() == 0
    assert QuarantinedRecord.objects.get().reason == code


@pytest.mark.parametrize(
    ("_case", "body", "status"),
    [
        ("malformed JSON", b'{"batch": [', 400),
        ("empty body", b"", 400),
        ("batch is not a list", json.dumps({"batch": {"a": 1}}).encode(), 400),
        (
            "over 2,500 messages",
            json.dumps({"batch": [{"type": "track", "event": "E", "userId": "u"}] * 2501}).encode(),
            413,
        ),
        (
            "over 500 KB",
            json.dumps(
                {
                    "batch": [
                        {
                            "type": "track",
                            "event": "E",
                            "userId": "u",
                            "properties": {"x": "y" * 20_000},
                        }
                    ]
                    * 30
                }
            ).encode(),
            413,
        ),
    ],
)
def test_request_level_faults_answer_4xx_and_store_nothing(tracking_client, _case, body, status):
    response = tracking_client.post("/v1/batch", data=body, content_type="application/json")

    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert Event.objects.count() == 0
    assert QuarantinedRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("_case", "authorization"),
    [
        ("no header", None),
        ("unknown key", basic("x" * 40)),
        ("not basic", "Bearer abc"),
        ("garbage", "Basic !!!"),
    ],
)
def test_missing_or_unknown_write_key_is_401_and_stores_nothing(_case, authorization, db):
    client = APIClient()
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = _post(client, "/v1/track", {"event": "E", "userId": "u"}, **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="cdp"'
    assert Event.objects.count() == 0


def test_write_key_in_the_query_string_is_not_accepted(write_key, db):
    response = _post(APIClient(), f"/v1/track?writeKey={write_key}", {"event": "E", "userId": "u"})

    assert response.status_code == 401
    assert Event.objects.count() == 0


def test_revoked_key_is_refused(tracking_client, source_and_key, actor):
    from profiles.services.sources import write_key_revoke

    write_key_revoke(source_id=source_and_key[0].pk, actor=actor)
    response = _post(tracking_client, "/v1/track", {"event": "E", "userId": "u"})

    assert response.status_code == 401
    assert Event.objects.count() == 0


def test_resending_a_message_id_stores_it_once(tracking_client):
    message = {"type": "track", "event": "Viewed", "userId": "u1", "messageId": "same"}
    first = _post(tracking_client, "/v1/batch", {"batch": [message, message]})
    second = _post(tracking_client, "/v1/batch", {"batch": [message]})

    assert (first.json()["accepted"], first.json()["duplicates"]) == (1, 1)
    assert (second.json()["accepted"], second.json()["duplicates"]) == (0, 1)
    assert Event.objects.count() == 1


def test_a_message_without_message_id_gets_one(tracking_client):
    response = _post(tracking_client, "/v1/track", {"event": "Viewed", "userId": "u1"})

    assert response.status_code == 200
    event = Event.objects.get()
    assert len(event.message_id) == 36
    assert event.payload["messageId"] == event.message_id


def test_gzip_body_is_accepted(tracking_client):
    body = gzip.compress(
        json.dumps(
            {"batch": [{"type": "identify", "userId": "u9", "traits": {"email": "z@example.com"}}]}
        ).encode()
    )
    response = tracking_client.post(
        "/v1/batch", data=body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )

    assert response.status_code == 200
    assert Event.objects.get().user_id == "u9"


def test_gzip_bomb_over_the_limit_is_refused(tracking_client):
    body = gzip.compress(
        json.dumps(
            {
                "batch": [
                    {
                        "type": "track",
                        "event": "E",
                        "userId": "u",
                        "properties": {"x": "0" * 600_000},
                    }
                ]
            }
        ).encode()
    )
    response = tracking_client.post(
        "/v1/batch", data=body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )

    assert response.status_code == 413
    assert Event.objects.count() == 0


def test_nul_characters_are_stripped_before_storage(tracking_client):
    message = {"event": "Vie\u0000wed", "userId": "u1", "properties": {"a\u0000": "b\u0000"}}
    response = _post(tracking_client, "/v1/track", message)

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.event == "Viewed"
    assert event.payload["properties"] == {"a": "b"}


def test_single_endpoints_take_their_type_from_the_path(tracking_client):
    for path, body in [
        ("/v1/identify", {"userId": "u1", "traits": {"email": "a@example.com"}}),
        ("/v1/track", {"userId": "u1", "event": "Clicked"}),
        ("/v1/page", {"userId": "u1", "name": "Home"}),
        ("/v1/screen", {"userId": "u1", "name": "Cart"}),
        ("/v1/group", {"userId": "u1", "groupId": "g1"}),
        ("/v1/alias", {"userId": "u1", "previousId": "anon-1"}),
    ]:
        assert _post(tracking_client, path, body).status_code == 200

    assert sorted(Event.objects.values_list("type", flat=True)) == [
        "alias",
        "group",
        "identify",
        "page",
        "screen",
        "track",
    ]


def test_batch_context_fills_in_message_context_and_skew_is_corrected(tracking_client):
    batch = {
        "batch": [
            {
                "type": "track",
                "event": "E",
                "userId": "u",
                "messageId": "m",
                "timestamp": "2030-01-01T00:00:00Z",
                "context": {"ip": "1.2.3.4"},
            }
        ],
        "context": {"library": {"name": "analytics-python"}, "ip": "9.9.9.9"},
        "sentAt": "2030-01-01T00:00:10Z",
    }
    response = _post(tracking_client, "/v1/batch", batch)

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.payload["context"] == {"library": {"name": "analytics-python"}, "ip": "1.2.3.4"}
    # Client clock ran ahead: the event time moves by (receivedAt - sentAt).
    skew = event.received_at - event.timestamp
    assert abs(skew.total_seconds() - 10) < 5


def test_awkward_text_and_timestamps_are_stored_exactly(tracking_client):
    awkward = 'tab\there, new\nline, back\\slash, "quoted", \'single\', crème 東京 🚀, {"x": 1}'
    batch = {
        "batch": [
            {
                "type": "track",
                "event": "Viewed",
                "userId": f"u\\{i}\t",
                "anonymousId": awkward[:40],
                "messageId": f"m'{i}\"",
                "timestamp": "2026-03-01T10:00:00.5+02:00",
                "properties": {"note": awkward, "big": 2**53, "list": [1.25, None, True]},
            }
            for i in range(3)
        ]
    }
    response = _post(tracking_client, "/v1/batch", batch)

    assert response.json()["accepted"] == 3
    event = Event.objects.get(message_id="m'1\"")
    assert (event.user_id, event.anonymous_id) == ("u\\1", awkward[:40])
    assert event.payload["properties"] == {
        "note": awkward,
        "big": 2**53,
        "list": [1.25, None, True],
    }
    assert event.timestamp.isoformat() == "2026-03-01T08:00:00.500000+00:00"
