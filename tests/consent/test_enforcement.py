import pytest

from consent.models import ConsentEvent, EnforcementCount
from consent.services.ledger import ConsentChoice, consent_record
from consent.services.restrictions import restriction_add
from profiles.models import Event, Identifier, Order, TraitValue
from profiles.services.processing import events_process

pytestmark = pytest.mark.django_db

PAGE = {
    "type": "page",
    "userId": "u1",
    "messageId": "p1",
    "name": "Shoes",
    "properties": {"url": "https://shop.example/shoes"},
    "context": {"ip": "203.0.113.5", "traits": {"email": "u1@example.com"}},
}
ORDER = {
    "type": "track",
    "userId": "u1",
    "messageId": "o1",
    "event": "Order Completed",
    "properties": {"order_id": "O-1", "total": 10, "currency": "EUR"},
}


def _send(client, *messages, **headers):
    response = client.post("/v1/batch", {"batch": list(messages)}, format="json", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def _policy(source, policy):
    source.settings = {"consent_policy": policy}
    source.save(update_fields=["settings"])


def _counts():
    return list(EnforcementCount.objects.values_list("stage", "action", "reason", "count"))


def test_without_analytics_consent_a_page_view_is_dropped_to_a_tombstone_and_counted(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    _policy(source, "drop")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, PAGE)

    event = Event.objects.get(message_id="p1")
    assert (event.status, event.profile_id, event.user_id, event.event) == ("dropped", None, "", "")
    assert event.payload == {"type": "page", "messageId": "p1", "dropped": "no_analytics_consent"}
    assert TraitValue.objects.count() == 0
    assert _counts() == [("ingestion", "dropped", "no_analytics_consent", 1)]


def test_strip_keeps_an_anonymous_event_with_no_identifier_property_or_context(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    _policy(source, "strip")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, PAGE)

    event = Event.objects.get(message_id="p1")
    assert (event.status, event.profile_id, event.user_id) == ("processed", None, "")
    assert set(event.payload) == {"type", "name", "messageId", "stripped"}
    assert _counts() == [("ingestion", "stripped", "no_analytics_consent", 1)]


def test_keep_policy_and_consented_people_keep_everything(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    consented = {
        **PAGE,
        "messageId": "p2",
        "userId": "u2",
        "context": {"consent": {"categoryPreferences": {"Analytics": True}}},
    }
    _policy(source, "drop")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, consented)
    _policy(source, "keep")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, PAGE)

    assert sorted(Event.objects.values_list("message_id", "status")) == [
        ("p1", "processed"),
        ("p2", "processed"),
    ]
    assert Event.objects.filter(profile__isnull=False).count() == 2
    assert _counts() == []


def test_account_and_order_messages_are_kept_without_analytics_consent(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    _policy(source, "drop")
    identify = {
        "type": "identify",
        "userId": "u1",
        "messageId": "i1",
        "traits": {"first_name": "Al"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, identify, ORDER)

    assert sorted(Event.objects.values_list("message_id", "status")) == [
        ("i1", "processed"),
        ("o1", "processed"),
    ]
    assert Order.objects.get().order_id == "O-1"
    assert _counts() == []


def test_a_restricted_person_s_events_are_dropped_whatever_the_policy(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, {"type": "identify", "userId": "u1", "messageId": "i1"})
    profile_id = Identifier.objects.get(value="u1").profile_id
    restriction_add(profile_ids=[profile_id], kind="restriction")

    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, ORDER)

    assert Event.objects.get(message_id="o1").status == "dropped"
    assert Order.objects.count() == 0
    assert _counts() == [("ingestion", "dropped", "restricted", 1)]


def test_a_withdrawal_in_the_event_itself_applies_to_that_event(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    _policy(source, "drop")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, {"type": "identify", "userId": "u1", "messageId": "i1"})
    consent_record(
        profile_id=Identifier.objects.get(value="u1").profile_id,
        choices=[ConsentChoice(purpose_key="analytics", is_granted=True)],
        source="web",
    )
    withdrawing = {**PAGE, "context": {"consent": {"categoryPreferences": {"analytics": False}}}}

    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, withdrawing)

    assert Event.objects.get(message_id="p1").status == "dropped"


def test_a_sec_gpc_header_is_recorded_as_an_opt_out_of_sale_with_the_event_as_evidence(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, {**PAGE, "messageId": "g1"}, HTTP_SEC_GPC="1")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, {**PAGE, "messageId": "g2"}, HTTP_SEC_GPC="1")

    entry = ConsentEvent.objects.get()
    event = Event.objects.get(message_id="g1")
    assert (entry.purpose.key, entry.is_granted, entry.source) == ("advertising", False, "gpc")
    assert entry.evidence == {
        "event_id": event.pk,
        "message_id": "g1",
        "signal": "Global Privacy Control",
    }
    assert entry.profile_id == Identifier.objects.get(value="u1").profile_id
    assert event.payload["context"]["gpc"] is True


def test_a_gpc_context_field_on_a_single_track_call_counts_too(
    tracking_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = tracking_client.post(
            "/v1/track",
            {"userId": "u9", "event": "Viewed", "context": {"gpc": True}},
            format="json",
        )

    assert response.status_code == 200
    assert list(ConsentEvent.objects.values_list("purpose__key", "is_granted")) == [
        ("advertising", False)
    ]


def test_processing_the_same_events_again_counts_nothing_twice(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    _policy(source, "drop")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, PAGE)

    outcome = events_process(event_ids=list(Event.objects.values_list("pk", flat=True)))

    assert (outcome.processed, outcome.skipped) == (0, 1)
    assert _counts() == [("ingestion", "dropped", "no_analytics_consent", 1)]


def test_an_unknown_policy_fails_closed(
    source_and_key, tracking_client, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    _policy(source, "whatever")
    with django_capture_on_commit_callbacks(execute=True):
        _send(tracking_client, PAGE)

    assert Event.objects.get().status == "dropped"
