"""Email channel (locmem backend): RFC 8058 headers, personalisation with escaping, offers,
recommendations, quiet hours, caps and suppression."""

from datetime import UTC, datetime, time, timedelta

from django.core import mail

import pytest
import time_machine

from campaigns.models import ContentBlock, Recommendation, Send
from campaigns.services.definitions import VariantSpec, content_block_save
from campaigns.services.dispatch import sends_dispatch
from cdp.core.hashing import identifier_hash
from consent.public import suppression_add
from tests.campaigns.conftest import ACTOR

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HTML_VARIANT = VariantSpec(
    key="a",
    subject="For {{ profile.first_name }}",
    body_text="Dear {{ profile.first_name }}, {{ offer }}"
    "{% for item in recommendations %} [{{ item.product_id }}]{% endfor %}",
    body_html="<p>Dear {{ profile.first_name }}</p><div>{{ offer }}</div>",
)


@pytest.fixture
def viewed_campaign(make_campaign):
    def make(**fields):
        with time_machine.travel(T0 - timedelta(hours=1), tick=False):
            return make_campaign(trigger_event="Product Viewed", variants=[HTML_VARIANT], **fields)

    return make


def _view(person, track, user_id, at=T0, **traits):
    with time_machine.travel(at, tick=False):
        profile_id = person(user_id, traits=traits)
        track(user_id, "Product Viewed", product_id="p1")
    return profile_id


def test_every_email_carries_one_click_unsubscribe_headers_and_links(
    viewed_campaign, person, track, client
):
    viewed_campaign()
    _view(person, track, "ada", first_name="Ada")

    (message,) = mail.outbox
    send = Send.objects.get()
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://127.0.0.1:8000/u/")
    assert unsubscribe.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"] == f"<{send.delivery_id}@localhost>"
    assert unsubscribe[1:-1] in message.body
    assert "/preferences/" in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert "Unsubscribe</a>" in html


def test_traits_are_escaped_in_html_but_not_in_text(make_campaign, person, track):
    variant = VariantSpec(
        key="a",
        subject="For {{ profile.nickname }}",
        body_text="Dear {{ profile.nickname }}",
        body_html="<p>Dear {{ profile.nickname }}</p>",
    )
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        make_campaign(trigger_event="Product Viewed", variants=[variant])
    _view(person, track, "mal", nickname="<b>Bo & Co</b>")

    (message,) = mail.outbox
    assert message.body.startswith("Dear <b>Bo & Co</b>\n")
    html = message.alternatives[0][0]
    assert html.startswith("<p>Dear &lt;b&gt;Bo &amp; Co&lt;/b&gt;</p>")
    assert message.subject == "For <b>Bo & Co</b>"


def test_the_matching_offer_block_and_recommendations_are_rendered(viewed_campaign, person, track):
    content_block_save(
        actor=ACTOR,
        key="premium",
        fields={
            "name": "Premium",
            "priority": 10,
            "conditions": [["tier", "==", "gold"]],
            "body": "<em>Premium picks for {{ profile.first_name }}</em>",
        },
    )
    content_block_save(
        actor=ACTOR,
        key="default",
        fields={"name": "Default", "priority": 0, "conditions": [], "body": "Our bestsellers"},
    )
    viewed_campaign()
    gold = _view(person, track, "gia", first_name="Gia", tier="gold")
    Recommendation.objects.create(profile_id=gold, rank=1, product_id="sku-9", method="category")
    _view(person, track, "tom", at=T0 + timedelta(minutes=1), first_name="Tom")

    by_to = {message.to[0]: message for message in mail.outbox}
    assert by_to["gia@example.com"].body.startswith("Dear Gia, <em>Premium picks for Gia</em>")
    assert (
        "<div><em>Premium picks for Gia</em></div>" in by_to["gia@example.com"].alternatives[0][0]
    )
    assert by_to["tom@example.com"].body.startswith("Dear Tom, Our bestsellers")
    assert ContentBlock.objects.count() == 2


def test_recommendations_appear_in_the_template(viewed_campaign, person, track):
    viewed_campaign(delay_seconds=60)
    profile_id = _view(person, track, "rex", first_name="Rex")
    Recommendation.objects.create(
        profile_id=profile_id, rank=1, product_id="sku-1", method="co_purchase"
    )
    Recommendation.objects.create(
        profile_id=profile_id, rank=2, product_id="sku-2", method="category"
    )

    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        sends_dispatch()

    assert " [sku-1] [sku-2]" in mail.outbox[0].body


def test_quiet_hours_defer_to_their_end_in_the_persons_time_zone(viewed_campaign, person, track):
    viewed_campaign(quiet_start=time(21), quiet_end=time(8))
    # 10:00 UTC is 21:00 in Sydney (UTC+11 in March): quiet until 08:00 local = 21:00 UTC.
    _view(person, track, "syd", first_name="Syd", timezone="Australia/Sydney")

    send = Send.objects.get()
    assert (send.status, send.reason, send.due_at) == (
        "queued",
        "quiet_hours",
        datetime(2026, 3, 2, 21, 0, tzinfo=UTC),
    )
    assert mail.outbox == []
    with time_machine.travel(datetime(2026, 3, 2, 21, 1, tzinfo=UTC), tick=False):
        assert sends_dispatch().sent == 1
    assert len(mail.outbox) == 1


def test_quiet_hours_can_skip_instead(viewed_campaign, person, track):
    viewed_campaign(quiet_start=time(9), quiet_end=time(17), quiet_hours_policy="skip")
    _view(person, track, "ned", first_name="Ned")

    assert Send.objects.get().reason == "quiet_hours"
    assert Send.objects.get().status == "skipped"


def test_caps_per_person_and_across_campaigns(viewed_campaign, person, track):
    viewed_campaign(cap_per_person=1)
    viewed_campaign(cap_per_day=1)
    _view(person, track, "cap", first_name="Cap")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        track("cap", "Product Viewed", product_id="p2")

    statuses = sorted(Send.objects.values_list("status", "reason"))
    # First view: one campaign sends, the other is capped by the daily cap (same batch);
    # second view: the per-person cap and the daily cap stop both.
    assert statuses == [
        ("sent", ""),
        ("skipped", "capped"),
        ("skipped", "capped"),
        ("skipped", "capped"),
    ]
    assert len(mail.outbox) == 1


def test_a_suppressed_address_is_never_mailed(viewed_campaign, person, track):
    viewed_campaign()
    with time_machine.travel(T0, tick=False):
        person("sup")
        suppression_add(
            hashes=[("email", identifier_hash("email", "sup@example.com"))], reason="objection"
        )
        track("sup", "Product Viewed", product_id="p1")

    assert Send.objects.get().reason == "suppressed"
    assert mail.outbox == []
