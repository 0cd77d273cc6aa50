"""Tracking plans: violating messages are quarantined or dropped per source setting with a
per-message error, good ones are stored, and the violations inbox counts by event and property."""

from __future__ import annotations

import pytest

from cdp.core.actor import Actor
from cdp.core.errors import InvalidInputError
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER
from profiles.models import Event, QuarantinedRecord, TrackingPlan, TrackingViolation
from profiles.services.ingest import events_ingest
from profiles.services.tracking_plans import tracking_plan_set

pytestmark = pytest.mark.django_db

ADMIN = Actor(user_id=None, label="admin")
ORDER_SCHEMA = {
    "type": "object",
    "required": ["total", "currency"],
    "properties": {
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
}
TRAITS_SCHEMA = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}


def _track(message_id: str, **properties) -> dict:
    return {
        "type": "track",
        "userId": "u1",
        "event": "Order Completed",
        "messageId": message_id,
        "properties": properties,
    }


@pytest.fixture
def planned(source_and_key):
    source, key = source_and_key
    tracking_plan_set(
        source_id=source.pk,
        events={"Order Completed": ORDER_SCHEMA},
        traits_schema={"type": "object", "properties": {"age": {"type": "integer"}}},
        allow_unplanned_events=False,
        actor=ADMIN,
    )
    return source, key


def test_violations_are_quarantined_with_their_reason_and_good_messages_kept(planned):
    source, _ = planned

    result = events_ingest(
        source_id=source.pk,
        messages=[
            _track("m1", total=10, currency="EUR"),
            _track("m2", total=-5, currency="EUR"),
            _track("m3", currency="EUR"),
            {"type": "track", "userId": "u1", "event": "Coupon Used", "messageId": "m4"},
            {"type": "identify", "userId": "u1", "messageId": "m5", "traits": {"age": "old"}},
            {"type": "page", "userId": "u1", "messageId": "m6", "name": "Home"},
        ],
    )

    assert [(e.index, e.code, e.field) for e in result.errors] == [
        (1, "tracking_plan_violation", "total"),
        (2, "tracking_plan_violation", "total"),
        (3, "tracking_plan_violation", ""),
        (4, "tracking_plan_violation", "age"),
    ]
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m1", "m6"]
    assert sorted(QuarantinedRecord.objects.values_list("message_id", "reason")) == [
        ("m2", "tracking_plan_violation"),
        ("m3", "tracking_plan_violation"),
        ("m4", "tracking_plan_violation"),
        ("m5", "tracking_plan_violation"),
    ]
    assert sorted(TrackingViolation.objects.values_list("event", "property", "code", "count")) == [
        ("", "age", "type", 1),
        ("Coupon Used", "", "unplanned_event", 1),
        ("Order Completed", "total", "minimum", 1),
        ("Order Completed", "total", "required", 1),
    ]


def test_a_blocking_plan_drops_violations_without_quarantine_and_counts_them(planned):
    source, _ = planned
    tracking_plan_set(
        source_id=source.pk,
        events={"Order Completed": ORDER_SCHEMA},
        mode="block",
        actor=ADMIN,
    )

    for batch in range(2):
        events_ingest(
            source_id=source.pk, messages=[_track(f"b{batch}", total="ten", currency="EUR")]
        )

    assert not Event.objects.exists()
    assert not QuarantinedRecord.objects.exists()
    violation = TrackingViolation.objects.get()
    assert (violation.property, violation.code, violation.count) == ("total", "type", 2)
    assert violation.last_message_id == "b1"


def test_a_changed_plan_applies_to_the_next_batch(planned):
    source, _ = planned
    events_ingest(source_id=source.pk, messages=[_track("x1", total=1)])
    tracking_plan_set(
        source_id=source.pk,
        events={"Order Completed": {"type": "object"}},
        actor=ADMIN,
    )

    events_ingest(source_id=source.pk, messages=[_track("x2", total=1)])

    assert list(Event.objects.values_list("message_id", flat=True)) == ["x2"]


def test_without_a_plan_everything_is_accepted(source_and_key):
    source, _ = source_and_key

    result = events_ingest(source_id=source.pk, messages=[_track("n1", total=-1)])

    assert result.errors == []
    assert Event.objects.count() == 1
    assert not TrackingViolation.objects.exists()


def test_an_invalid_schema_is_refused_and_nothing_stored(source_and_key):
    source, _ = source_and_key

    with pytest.raises(InvalidInputError):
        tracking_plan_set(
            source_id=source.pk, events={"Order Completed": {"type": "nonsense"}}, actor=ADMIN
        )

    assert not TrackingPlan.objects.exists()


def test_batch_api_reports_the_violation_per_message(planned, tracking_client):
    response = tracking_client.post(
        "/v1/batch",
        {"batch": [_track("a1", total=3, currency="EUR"), _track("a2", total=3, currency="eu")]},
        format="json",
    )

    assert response.status_code == 200
    assert [(e["index"], e["code"]) for e in response.json()["errors"]] == [
        (1, "tracking_plan_violation")
    ]
    assert list(Event.objects.values_list("message_id", flat=True)) == ["a1"]


def test_plan_api_crud_and_violations_inbox(source_and_key, api_client_for):
    source, _ = source_and_key
    client = api_client_for(INTEGRATION_ADMIN)

    put = client.put(
        f"/api/sources/{source.pk}/tracking-plan",
        {"events": {"Order Completed": ORDER_SCHEMA}, "mode": "quarantine"},
        format="json",
    )
    bad = client.put(
        f"/api/sources/{source.pk}/tracking-plan",
        {"events": {"Order Completed": {"type": 7}}},
        format="json",
    )
    events_ingest(source_id=source.pk, messages=[_track("v1", total=-1, currency="EUR")])
    inbox = client.get(f"/api/tracking-violations/?source={source.pk}")
    got = client.get(f"/api/sources/{source.pk}/tracking-plan")
    deleted = client.delete(f"/api/sources/{source.pk}/tracking-plan")
    forbidden = api_client_for(MARKETER).get("/api/tracking-violations/")

    assert put.status_code == 200
    assert bad.status_code == 400
    assert got.json()["events"] == {"Order Completed": ORDER_SCHEMA}
    assert [(row["event"], row["property"], row["count"]) for row in inbox.json()["results"]] == [
        ("Order Completed", "total", 1)
    ]
    assert deleted.status_code == 204
    assert not TrackingPlan.objects.exists()
    assert forbidden.status_code == 403
