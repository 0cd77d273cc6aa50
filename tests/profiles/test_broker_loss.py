"""With a real Redis broker and worker: messages lost in the broker cost latency, not events."""

import json

import pytest

from cdp.celery import app as celery_app
from cdp.core import jobs
from profiles.models import Event
from profiles.services.processing import events_sweep
from tests.conftest import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_acknowledged_events_are_processed_after_the_broker_dropped_their_messages(
    tracking_client, celery_worker
):
    celery_worker.stop()  # nobody consumes, so the messages sit in Redis ...
    batch = {
        "batch": [
            {"type": "track", "event": "Viewed", "userId": f"u{i % 4}", "messageId": f"m{i}"}
            for i in range(40)
        ]
    }
    response = tracking_client.post(
        "/v1/batch", data=json.dumps(batch), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 40
    jobs.publish_flush()  # the ids buffered by the background publisher reach Redis ...
    celery_app.control.purge()  # ... and are lost
    assert Event.objects.filter(status="pending").count() == 40

    celery_worker.start()
    assert events_sweep(lease_seconds=0) == 40
    assert wait_until(lambda: Event.objects.filter(status="processed").count() == 40)
    assert Event.objects.filter(profile__isnull=True).count() == 0


def test_a_processing_task_published_to_redis_is_run_by_the_worker(tracking_client, celery_worker):
    response = tracking_client.post(
        "/v1/identify",
        data=json.dumps({"userId": "u1", "traits": {"email": "w@example.com"}}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert wait_until(lambda: Event.objects.filter(status="processed").count() == 1)
    assert Event.objects.get().profile.traits == {"email": "w@example.com"}
