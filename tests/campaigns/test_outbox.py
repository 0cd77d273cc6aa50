"""The outbox: one row per occurrence, claims that never overlap, leases, recovery after a
worker's death (requeue vs outcome_unknown), pause/resume/end."""

import threading
from datetime import UTC, datetime, timedelta

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

import pytest
import time_machine

from campaigns.models import Campaign, Send
from campaigns.services.channel_email import email_message, emails_deliver
from campaigns.services.dispatch import sends_dispatch
from campaigns.services.lifecycle import campaign_end, campaign_pause, campaign_resume
from campaigns.services.outbox import Occurrence, sends_claim, sends_enqueue, sends_recover
from campaigns.services.rendering import RenderedMessage
from tests.campaigns.conftest import ACTOR

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def queued(make_campaign, person):
    """A launched email campaign with `n` due rows (one per consenting person)."""

    def make(n, *, channel=Campaign.Channel.EMAIL, **fields):
        with time_machine.travel(T0 - timedelta(hours=1), tick=False):
            campaign = make_campaign(channel=channel, **fields)
            ids = [person(f"u{index}") for index in range(n)]
            sends_enqueue(
                campaign=campaign,
                occurrences=[
                    Occurrence(profile_id=pid, key="test:1", triggered_at=T0, due_at=T0)
                    for pid in ids
                ],
            )
        return campaign, ids

    return make


@pytest.mark.django_db
def test_an_occurrence_is_queued_once_however_often_it_is_offered(queued):
    campaign, ids = queued(2)
    with time_machine.travel(T0, tick=False):
        sends_enqueue(
            campaign=campaign,
            occurrences=[
                Occurrence(profile_id=pid, key="test:1", triggered_at=T0, due_at=T0) for pid in ids
            ],
        )

    assert Send.objects.count() == 2


@pytest.mark.django_db
def test_a_claim_marks_rows_sending_with_a_lease_and_is_not_claimed_again(queued, settings):
    queued(3)

    with time_machine.travel(T0, tick=False):
        first = sends_claim(batch_size=2, now=T0)
        second = sends_claim(batch_size=5, now=T0)
        third = sends_claim(batch_size=5, now=T0)

    assert len(first) == 2
    assert len(second) == 1
    assert third == []
    assert {send.status for send in first + second} == {"sending"}
    lease = T0 + timedelta(seconds=settings.CDP_SEND_LEASE_SECONDS)
    assert {send.lease_until for send in first + second} == {lease}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purposes")
def test_concurrent_claims_never_share_a_row(queued):
    queued(40)
    claimed: list[list[int]] = []

    def worker():
        try:
            while batch := sends_claim(batch_size=3, now=T0):
                claimed.append([send.pk for send in batch])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = [pk for batch in claimed for pk in batch]
    assert len(ids) == 40
    assert len(set(ids)) == 40


@pytest.mark.django_db
def test_a_worker_killed_mid_batch_sends_each_email_at_most_once(queued):
    """Worker A claims 5 emails, delivers 2, hands the 3rd to the mail server, and dies
    before recording it. After the lease the 3rd is `outcome_unknown` (never resent) and
    the 4th and 5th go out once."""
    queued(5)
    with time_machine.travel(T0, tick=False):
        batch = sends_claim(batch_size=10, now=T0)
        rendered = RenderedMessage(
            subject="s",
            text="t",
            html="",
            offer_key=None,
            unsubscribe_url="http://x/u/t/",
            preferences_url="http://x/p/t/",
        )
        items = [
            (send, email_message(rendered=rendered, to=f"u{i}@example.com", delivery_id=f"d{i}"))
            for i, send in enumerate(batch)
        ]
        emails_deliver(items[:2])
        Send.objects.filter(pk=batch[2].pk).update(attempt_started_at=T0)  # died right here

    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert sends_recover().requeued == 0  # the lease has not run out yet
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        outcome = sends_recover()
        dispatched = sends_dispatch()

    assert (outcome.requeued, outcome.unknown) == (2, 1)
    assert dispatched.sent == 2
    by_status = sorted(Send.objects.values_list("status", "reason"))
    assert by_status == [("failed", "outcome_unknown")] + [("sent", "")] * 4
    recipients = [message.to[0] for message in mail.outbox]
    assert len(recipients) == len(set(recipients)) == 4


@pytest.mark.django_db
def test_webhook_rows_of_a_dead_worker_are_requeued(queued, receiver):
    queued(2, channel=Campaign.Channel.WEBHOOK, webhook_url=receiver.url)
    with time_machine.travel(T0, tick=False):
        batch = sends_claim(batch_size=10, now=T0)
        Send.objects.filter(pk=batch[0].pk).update(attempt_started_at=T0)

    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        outcome = sends_recover()
        dispatched = sends_dispatch()

    assert (outcome.requeued, outcome.unknown, dispatched.sent) == (2, 0, 2)
    assert {payload["delivery_id"] for payload in receiver.payloads()} == {
        str(send.delivery_id) for send in batch
    }


@pytest.mark.django_db
def test_pause_holds_queued_sends_and_resume_releases_them(queued):
    campaign, _ = queued(2)
    campaign_pause(campaign_id=campaign.pk, actor=ACTOR)

    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert sends_dispatch().claimed == 0
        campaign_resume(campaign_id=campaign.pk, actor=ACTOR)
        assert sends_dispatch().sent == 2


@pytest.mark.django_db
def test_ending_a_campaign_skips_what_is_still_queued(queued):
    campaign, _ = queued(2)

    campaign_end(campaign_id=campaign.pk, actor=ACTOR)
    campaign_end(campaign_id=campaign.pk, actor=ACTOR)  # idempotent

    assert (
        sorted(Send.objects.values_list("status", "reason")) == [("skipped", "campaign_ended")] * 2
    )
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert sends_dispatch().claimed == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_past_its_end_date_a_campaign_sends_nothing(queued):
    queued(1, ends_at=T0 - timedelta(minutes=1))

    with time_machine.travel(T0, tick=False):
        outcome = sends_dispatch()

    assert (outcome.claimed, outcome.skipped) == (1, 1)
    assert Send.objects.get().reason == "campaign_ended"


class InspectingBackend(BaseEmailBackend):
    """A mail server (the boundary) that notes, as each message is handed over, the state
    of every outbox row: which are marked sent, and which are marked handed over."""

    seen: list[tuple[str, set[str], set[str]]] = []

    def send_messages(self, email_messages):
        sent = {str(value) for value in Send.objects.filter(status="sent").values_list(
            "delivery_id", flat=True
        )}  # fmt: skip
        started = {str(value) for value in Send.objects.filter(
            status="sending", attempt_started_at__isnull=False
        ).values_list("delivery_id", flat=True)}  # fmt: skip
        for message in email_messages:
            InspectingBackend.seen.append((message.extra_headers["X-CDP-Delivery"], sent, started))
        return len(email_messages)


@pytest.mark.django_db
def test_each_email_group_is_marked_handed_over_before_and_sent_after(queued, settings):
    settings.CDP_EMAIL_GROUP_SIZE = 4
    settings.CDP_CAMPAIGN_EMAIL_BACKEND = "tests.campaigns.test_outbox.InspectingBackend"
    InspectingBackend.seen = []
    queued(10)

    with time_machine.travel(T0, tick=False):
        assert sends_dispatch().sent == 10

    order = [delivery for delivery, _, _ in InspectingBackend.seen]
    assert len(order) == 10
    for position, (delivery, sent, started) in enumerate(InspectingBackend.seen):
        group = position // 4
        assert sent == set(order[: group * 4])  # earlier groups: recorded as sent
        assert started == set(order[group * 4 : group * 4 + 4])  # this group only
        assert delivery in started
    assert set(Send.objects.values_list("status", flat=True)) == {"sent"}
