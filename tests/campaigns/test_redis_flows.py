"""With a real Redis broker and Celery worker: the abandoned-cart flow end to end (tracking
API → processing → trigger → delay → email), and exactly-once webhook sends when the worker
is killed mid-batch."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

from django.conf import settings
from django.utils import timezone

import pytest

from campaigns.models import Campaign, Send
from campaigns.services.definitions import VariantSpec
from campaigns.services.outbox import Occurrence, sends_due_sweep, sends_enqueue, sends_recover
from profiles.models import Identifier
from tests.conftest import wait_until

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purposes"),
]

DELAY = 3  # seconds: the 15 minutes of production, shortened


@pytest.fixture
def mail_dir(tmp_path, monkeypatch) -> Path:
    """The worker process writes campaign mail to files here (file backend)."""
    folder = tmp_path / "mail"
    folder.mkdir()
    monkeypatch.setenv(
        "CDP_CAMPAIGN_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
    )
    monkeypatch.setenv("CDP_CAMPAIGN_EMAIL_FILE_PATH", str(folder))
    return folder


def _mails(folder: Path) -> list:
    messages = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(message_from_bytes(chunk.strip()))
    return messages


def _post(client, *messages):
    response = client.post(
        "/v1/batch", data=json.dumps({"batch": list(messages)}), content_type="application/json"
    )
    assert response.status_code == 200, response.content


def _identify(user_id, email_consent):
    return {
        "type": "identify",
        "userId": user_id,
        "traits": {"email": f"{user_id}@example.com", "first_name": user_id.title()},
        "context": {"consent": {"categoryPreferences": {"email": email_consent}}},
    }


def test_abandoned_cart_end_to_end_with_celery_and_redis(
    make_campaign, tracking_client, mail_dir, request
):
    worker = request.getfixturevalue("celery_worker")  # started after mail_dir set its env
    campaign = make_campaign(
        name="Cart abandoned",
        trigger_event="Checkout Started",
        delay_seconds=DELAY,
        exit_event="Order Completed",
        variants=[
            VariantSpec(
                key="a",
                subject="{{ profile.first_name }}, you left something behind",
                body_text="Your cart is waiting.",
            )
        ],
    )
    _post(
        tracking_client,
        *(_identify(user_id, True) for user_id in ("ada", "bob", "cy")),
        *(
            {"type": "track", "userId": u, "event": "Checkout Started"}
            for u in ("ada", "bob", "cy")
        ),
    )
    assert wait_until(lambda: Send.objects.filter(campaign=campaign).count() == 3)
    # Within the delay: bob orders, cy withdraws consent.
    _post(
        tracking_client,
        {
            "type": "track",
            "userId": "bob",
            "event": "Order Completed",
            "properties": {"order_id": "o1", "total": 20},
        },
        _identify("cy", False),
    )
    cy = Identifier.objects.get(type="user_id", value="cy").profile_id
    assert wait_until(lambda: Send.objects.filter(profile_id=cy, reason="no_consent").exists())
    latest_due = max(Send.objects.values_list("due_at", flat=True))
    time.sleep(max(0.0, (latest_due - timezone.now()).total_seconds()) + 0.2)

    assert sends_due_sweep() >= 1  # what beat does every minute: kick the dispatcher via Redis
    assert wait_until(lambda: not Send.objects.filter(status__in=["queued", "sending"]).exists())
    sends_due_sweep()  # a second sweep finds nothing more to send
    time.sleep(1)

    outcome = {send.profile_id: (send.status, send.reason) for send in Send.objects.all()}
    ids = {
        name: Identifier.objects.get(type="user_id", value=name).profile_id
        for name in ("ada", "bob", "cy")
    }
    assert outcome == {
        ids["ada"]: ("sent", ""),
        ids["bob"]: ("skipped", "exited"),
        ids["cy"]: ("skipped", "no_consent"),
    }
    mails = _mails(mail_dir)
    assert [(message["To"], message["Subject"]) for message in mails] == [
        ("ada@example.com", "Ada, you left something behind")
    ]
    assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert worker.process is not None


def test_a_worker_killed_mid_batch_sends_every_webhook_exactly_once_per_delivery_id(
    make_campaign, person, receiver, monkeypatch, request
):
    monkeypatch.setenv("CDP_WEBHOOK_THREADS", "2")
    receiver.delay = 0.05  # a slow endpoint: the batch takes a few seconds
    campaign = make_campaign(
        channel=Campaign.Channel.WEBHOOK,
        webhook_url=receiver.url,
        trigger_event="Never Sent",
        variants=[VariantSpec(key="a")],
    )
    people = [person(f"w{index}") for index in range(200)]  # processed eagerly, before the worker
    worker = request.getfixturevalue("celery_worker")
    due = timezone.now()
    sends_enqueue(
        campaign=campaign,
        occurrences=[
            Occurrence(profile_id=pid, key="test:kill", triggered_at=due, due_at=due)
            for pid in people
        ],
    )  # committed at once (no transaction): the kick reaches the worker through Redis
    assert wait_until(lambda: len(receiver.requests) >= 80, timeout=60)
    worker.process.kill()  # SIGKILL mid-batch: no cleanup, rows stay "sending"
    worker.process.wait()
    worker.process = None
    stuck = Send.objects.filter(status="sending").count()
    assert stuck > 0

    worker.start()
    lease_over = timezone.now() + timedelta(seconds=settings.CDP_SEND_LEASE_SECONDS + 1)
    recovered = sends_recover(now=lease_over)  # the sweeper, once the lease has run out

    assert recovered.requeued == stuck
    assert wait_until(lambda: Send.objects.filter(status="sent").count() == 200, timeout=90)
    delivered = [item["headers"]["X-CDP-Delivery"] for item in receiver.requests]
    expected = {str(value) for value in Send.objects.values_list("delivery_id", flat=True)}
    assert set(delivered) == expected  # every send arrived, deduplicated by its delivery id
    duplicates = len(delivered) - len(set(delivered))
    assert duplicates <= 128  # at most the two chunks in flight when the worker died
    assert all(delivered.count(value) <= 2 for value in expected)
