import json

import pytest

from profiles.models import Event
from profiles.services.processing import events_sweep

pytestmark = pytest.mark.django_db


def test_events_whose_broker_messages_were_lost_are_processed_after_the_sweep(
    tracking_client, django_capture_on_commit_callbacks
):
    batch = {
        "batch": [
            {"type": "track", "event": "Viewed", "userId": f"u{i % 3}", "messageId": f"m{i}"}
            for i in range(12)
        ]
    }
    # The commit callbacks (the broker messages) are captured and never run: lost.
    with django_capture_on_commit_callbacks(execute=False) as lost:
        response = tracking_client.post(
            "/v1/batch", data=json.dumps(batch), content_type="application/json"
        )
    assert response.status_code == 200
    assert len(lost) == 1
    assert Event.objects.filter(status="pending").count() == 12

    with django_capture_on_commit_callbacks(execute=True):
        swept = events_sweep(lease_seconds=0)

    assert swept == 12
    assert Event.objects.filter(status="processed").count() == 12
    assert Event.objects.filter(profile__isnull=True).count() == 0


def test_sweep_leaves_events_within_their_lease_alone(
    tracking_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        tracking_client.post(
            "/v1/track",
            data=json.dumps({"event": "E", "userId": "u"}),
            content_type="application/json",
        )

    with django_capture_on_commit_callbacks(execute=True) as kicked:
        assert events_sweep(lease_seconds=3600) == 0
    assert kicked == []
    assert Event.objects.get().status == "pending"


def test_sweeping_twice_processes_each_event_once(
    tracking_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        tracking_client.post(
            "/v1/identify",
            data=json.dumps({"userId": "u1", "traits": {"email": "a@example.com"}}),
            content_type="application/json",
        )
    with django_capture_on_commit_callbacks(execute=True):
        events_sweep(lease_seconds=0)
    with django_capture_on_commit_callbacks(execute=True):
        assert events_sweep(lease_seconds=0) == 0

    event = Event.objects.get()
    assert (event.status, event.profile.identifiers.count()) == ("processed", 2)
