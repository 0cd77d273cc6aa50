"""Webhook channel against a local HTTP server: signed deliveries, retries with backoff,
rejection, the dead-letter list and its retry."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.compute.signing import verify_webhook_signature
from campaigns.models import Campaign, DeadLetter, Send
from campaigns.services.definitions import VariantSpec
from campaigns.services.dispatch import sends_dispatch
from campaigns.services.outbox import Occurrence, dead_letters_retry, sends_enqueue
from tests.campaigns.conftest import ACTOR

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
VARIANTS = [VariantSpec(key="a", subject="Hello {{ profile.first_name }}", body_text="Hi")]


@pytest.fixture
def hook_campaign(make_campaign, receiver):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        return make_campaign(
            channel=Campaign.Channel.WEBHOOK,
            webhook_url=receiver.url,
            webhook_traits=["first_name"],
            trigger_event="Product Viewed",
            variants=VARIANTS,
        )


def _view(person, track, user_id="ada"):
    with time_machine.travel(T0, tick=False):
        person(user_id, traits={"first_name": "Ada", "last_name": "Lovelace"})
        track(user_id, "Product Viewed", product_id="p1")


def test_delivery_is_signed_carries_its_id_and_only_the_chosen_traits(
    hook_campaign, receiver, person, track
):
    _view(person, track)

    send = Send.objects.get()
    assert send.status == "sent"
    (request,) = receiver.requests
    headers = request["headers"]
    assert headers["X-CDP-Delivery"] == str(send.delivery_id)
    assert headers["X-CDP-Attempt"] == "1"
    assert verify_webhook_signature(
        hook_campaign.webhook_secret,
        header=headers["X-CDP-Signature"],
        body=request["body"],
        now=int(T0.timestamp()),
    )
    assert not verify_webhook_signature(
        "another-secret",
        header=headers["X-CDP-Signature"],
        body=request["body"],
        now=int(T0.timestamp()),
    )
    payload = receiver.payloads()[0]
    assert payload["traits"] == {"first_name": "Ada"}
    assert payload["content"]["subject"] == "Hello Ada"
    assert (payload["type"], payload["variant"], payload["profile_id"]) == (
        "campaign.message",
        "a",
        send.profile_id,
    )


def test_server_errors_are_retried_with_backoff_until_delivered(
    hook_campaign, receiver, person, track
):
    receiver.statuses = [500, 503]
    _view(person, track)

    send = Send.objects.get()
    assert (send.status, send.attempts, send.error) == ("queued", 1, "HTTP 500")
    assert send.due_at == T0 + timedelta(seconds=30)
    with time_machine.travel(T0 + timedelta(seconds=29), tick=False):
        assert sends_dispatch().claimed == 0
    with time_machine.travel(T0 + timedelta(seconds=31), tick=False):
        assert sends_dispatch().retrying == 1
    send.refresh_from_db()
    assert (send.attempts, send.due_at) == (2, T0 + timedelta(seconds=31 + 60))
    with time_machine.travel(T0 + timedelta(seconds=95), tick=False):
        assert sends_dispatch().sent == 1

    send.refresh_from_db()
    assert (send.status, send.attempts, send.error) == ("sent", 3, "")
    assert [request["headers"]["X-CDP-Attempt"] for request in receiver.requests] == ["1", "2", "3"]
    assert {request["headers"]["X-CDP-Delivery"] for request in receiver.requests} == {
        str(send.delivery_id)
    }


def test_retries_exhausted_go_to_the_dead_letter_list_and_can_be_retried(
    hook_campaign, receiver, person, track, settings, django_capture_on_commit_callbacks
):
    settings.CDP_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [500, 500, 500]
    _view(person, track)
    for minutes in (1, 3):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            sends_dispatch()

    dead = DeadLetter.objects.get()
    assert (dead.status, dead.reason, dead.attempts, dead.error) == (
        "failed",
        "retries_exhausted",
        3,
        "HTTP 500",
    )
    assert len(receiver.requests) == 3
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert sends_dispatch().claimed == 0  # a dead letter is never picked up by itself
        with django_capture_on_commit_callbacks(execute=True):  # the retry kicks dispatch
            assert dead_letters_retry(send_ids=[dead.pk], actor=ACTOR) == 1

    send = Send.objects.get()
    assert (send.status, send.attempts) == ("sent", 1)
    assert DeadLetter.objects.count() == 0
    assert len(receiver.requests) == 4


def test_a_client_error_is_rejected_without_retry(hook_campaign, receiver, person, track):
    receiver.statuses = [410]
    _view(person, track)

    send = Send.objects.get()
    assert (send.status, send.reason, send.error, send.attempts) == (
        "failed",
        "rejected",
        "HTTP 410",
        1,
    )
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert sends_dispatch().claimed == 0
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_retried(make_campaign, person, track, receiver):
    receiver.close()  # nothing listens on that port any more
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        make_campaign(
            channel=Campaign.Channel.WEBHOOK,
            webhook_url=receiver.url,
            trigger_event="Product Viewed",
            variants=VARIANTS,
        )
    _view(person, track)

    send = Send.objects.get()
    assert (send.status, send.attempts, send.error) == ("queued", 1, "ConnectionRefusedError")


def test_a_cap_counts_the_webhooks_still_on_the_wire_when_the_next_batch_is_claimed(
    make_campaign, receiver, person
):
    """The next batch is claimed while the last chunk of the previous one is in flight:
    that chunk is recorded before the new batch reads its send history."""
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        campaign = make_campaign(
            channel=Campaign.Channel.WEBHOOK,
            webhook_url=receiver.url,
            trigger_event="Product Viewed",
            variants=VARIANTS,
            cap_per_person=1,
        )
        profile_id = person("ada", traits={"first_name": "Ada"})
        sends_enqueue(
            campaign=campaign,
            occurrences=[
                Occurrence(profile_id=profile_id, key=f"test:{n}", triggered_at=T0, due_at=T0)
                for n in (1, 2)
            ],
        )

    with time_machine.travel(T0, tick=False):
        outcome = sends_dispatch(batch_size=1)

    assert (outcome.claimed, outcome.sent, outcome.skipped) == (2, 1, 1)
    assert sorted(Send.objects.values_list("status", "reason")) == [
        ("sent", ""),
        ("skipped", "capped"),
    ]
    assert len(receiver.requests) == 1


def test_outcomes_of_a_chunk_are_recorded_row_by_row(make_campaign, receiver, person, settings):
    settings.CDP_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500, 410, 500, 200]
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        campaign = make_campaign(
            channel=Campaign.Channel.WEBHOOK,
            webhook_url=receiver.url,
            trigger_event="Product Viewed",
            variants=VARIANTS,
        )
        ids = [person(f"p{n}") for n in range(5)]
        sends_enqueue(
            campaign=campaign,
            occurrences=[
                Occurrence(profile_id=pid, key="test:1", triggered_at=T0, due_at=T0) for pid in ids
            ],
        )
    Send.objects.filter(profile_id=ids[0]).update(attempts=1)  # its last attempt

    with time_machine.travel(T0, tick=False):
        outcome = sends_dispatch()

    # Which row got which answer depends on the threads' order: read it off the requests.
    answers = {
        request["headers"]["X-CDP-Delivery"]: status
        for request, status in zip(receiver.requests, [500, 410, 500, 200, 200], strict=True)
    }
    expected = {"sent": 0, "retrying": 0, "failed": 0}
    for send in Send.objects.all():
        status, last_attempt = answers[str(send.delivery_id)], send.profile_id == ids[0]
        if status == 200:
            assert (send.status, send.error, send.attempts) == ("sent", "", 1 + last_attempt)
            expected["sent"] += 1
        elif status == 410:
            assert (send.status, send.reason, send.error) == ("failed", "rejected", "HTTP 410")
            expected["failed"] += 1
        elif last_attempt:
            assert (send.status, send.reason, send.attempts) == ("failed", "retries_exhausted", 2)
            expected["failed"] += 1
        else:
            assert (send.status, send.error, send.attempts, send.due_at) == (
                "queued",
                "HTTP 500",
                1,
                T0 + timedelta(seconds=30),
            )
            expected["retrying"] += 1
    assert (outcome.sent, outcome.retrying, outcome.failed) == tuple(expected.values())
