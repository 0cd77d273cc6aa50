"""The abandoned-cart flow in-process (eager Celery, locmem mail, time-machine clock):
"Checkout Started" with no order within the delay leads to exactly one email."""

from datetime import UTC, datetime, timedelta

from django.core import mail

import pytest
import time_machine

from campaigns.models import Assignment, Send
from campaigns.services.dispatch import sends_dispatch
from campaigns.services.outbox import sends_due_sweep
from campaigns.services.triggers import event_triggers_fire
from profiles.models import Event

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def cart_campaign(make_campaign):
    with time_machine.travel(T0 - timedelta(days=2), tick=False):
        return make_campaign(
            name="Cart abandoned",
            trigger_event="Checkout Started",
            delay_seconds=15 * 60,
            exit_event="Order Completed",
        )


def _due_and_dispatch(at):
    with time_machine.travel(at, tick=False):
        sends_due_sweep()
        return sends_dispatch()


def test_checkout_without_an_order_sends_one_email_fifteen_minutes_later(
    cart_campaign, person, track
):
    with time_machine.travel(T0, tick=False):
        profile_id = person("ada", traits={"first_name": "Ada"})
        track("ada", "Checkout Started", cart_id="c1")

    send = Send.objects.get()
    assert (send.profile_id, send.status, send.occurrence_key) == (
        profile_id,
        "queued",
        f"event:{Event.objects.get(event='Checkout Started').pk}",
    )
    assert send.due_at == T0 + timedelta(minutes=15)
    assert _due_and_dispatch(T0 + timedelta(minutes=14)).claimed == 0
    assert mail.outbox == []

    outcome = _due_and_dispatch(T0 + timedelta(minutes=15, seconds=30))

    assert (outcome.claimed, outcome.sent) == (1, 1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Hi Ada, your cart is waiting"
    send.refresh_from_db()
    assert (send.status, send.attempts) == ("sent", 1)
    assert Assignment.objects.get().arm == "a"


def test_an_order_within_the_delay_cancels_the_email(cart_campaign, person, track):
    with time_machine.travel(T0, tick=False):
        person("bob")
        track("bob", "Checkout Started")
    with time_machine.travel(T0 + timedelta(minutes=9), tick=False):
        track("bob", "Order Completed", order_id="o1", total=40, currency="EUR")

    outcome = _due_and_dispatch(T0 + timedelta(minutes=16))

    assert (outcome.sent, outcome.skipped) == (0, 1)
    assert mail.outbox == []
    assert Send.objects.get().reason == "exited"


def test_an_order_before_the_checkout_does_not_cancel_it(cart_campaign, person, track):
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        person("cy")
        track("cy", "Order Completed", order_id="o0", total=10, currency="EUR")
    with time_machine.travel(T0, tick=False):
        track("cy", "Checkout Started")

    assert _due_and_dispatch(T0 + timedelta(minutes=16)).sent == 1


def test_consent_withdrawn_during_the_delay_stops_the_email(cart_campaign, person, track):
    with time_machine.travel(T0, tick=False):
        person("dee")
        track("dee", "Checkout Started")
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        person("dee", email_consent=False)

    # Skipped at once by the consent subscriber, and the dispatcher finds nothing due.
    send = Send.objects.get()
    assert (send.status, send.reason) == ("skipped", "no_consent")
    assert _due_and_dispatch(T0 + timedelta(minutes=16)).claimed == 0
    assert mail.outbox == []


def test_no_consent_at_all_is_skipped_at_send_time(cart_campaign, person, track):
    with time_machine.travel(T0, tick=False):
        person("eve", email_consent=None)
        track("eve", "Checkout Started")

    outcome = _due_and_dispatch(T0 + timedelta(minutes=16))

    assert (outcome.sent, outcome.skipped) == (0, 1)
    assert Send.objects.get().reason == "no_consent"


def test_replayed_trigger_and_dispatch_send_exactly_once(cart_campaign, person, track):
    with time_machine.travel(T0, tick=False):
        person("fay")
        track("fay", "Checkout Started")
        event_ids = list(Event.objects.values_list("pk", flat=True))
        assert event_triggers_fire(event_ids=event_ids) == 1  # offered again, not queued again

    _due_and_dispatch(T0 + timedelta(minutes=16))
    with time_machine.travel(T0 + timedelta(minutes=17), tick=False):
        event_triggers_fire(event_ids=event_ids)
    _due_and_dispatch(T0 + timedelta(minutes=18))

    assert Send.objects.count() == 1
    assert len(mail.outbox) == 1


def test_two_checkouts_are_two_occurrences(cart_campaign, person, track):
    with time_machine.travel(T0, tick=False):
        person("gus")
        track("gus", "Checkout Started")
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        track("gus", "Checkout Started")

    _due_and_dispatch(T0 + timedelta(hours=3))

    assert sorted(Send.objects.values_list("status", flat=True)) == ["sent", "sent"]
    assert len(mail.outbox) == 2
