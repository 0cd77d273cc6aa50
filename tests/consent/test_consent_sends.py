"""Consent at send time: a withdrawal stops a campaign send still pending — at once through the
CONSENT_CHANGED topic, and at send time even when that message was lost. Uses the campaigns
app's services (built in parallel); the test names the exact module it needs."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

import pytest

from cdp.core.actor import Actor
from cdp.core.roles import PRIVACY_OFFICER
from consent.services.ledger import ConsentChoice, consent_record
from profiles.models import Identifier
from profiles.services.ingest import events_ingest

from .people import optional

pytestmark = pytest.mark.django_db

definitions = optional("campaigns.services.definitions")
outbox = optional("campaigns.services.outbox")
dispatch = optional("campaigns.services.dispatch")
lifecycle = optional("campaigns.services.lifecycle")
campaign_models = optional("campaigns.models")
ACTOR = Actor(user_id=None, label="test")


@pytest.fixture
def pending_send(source_and_key, django_capture_on_commit_callbacks):
    """A consenting person with an email campaign send queued for tomorrow."""
    if None in (definitions, outbox, dispatch, lifecycle, campaign_models):
        pytest.fail("campaigns.services.{definitions,outbox,dispatch,lifecycle} are needed")
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(
            source_id=source.pk,
            messages=[
                {
                    "type": "identify",
                    "userId": "u1",
                    "traits": {"email": "ada@example.com"},
                    "context": {"consent": {"categoryPreferences": {"email": True}}},
                }
            ],
        )
    campaign_model = campaign_models.Campaign
    campaign = definitions.campaign_create(
        actor=ACTOR,
        fields={
            "name": "Spring offer",
            "trigger": campaign_model.Trigger.EVENT,
            "trigger_event": "Checkout Started",
            "channel": campaign_model.Channel.EMAIL,
            "purpose_key": "email_marketing",
        },
        variants=[
            definitions.VariantSpec(
                key="a", weight=1, subject="Hello", body_text="Offer", body_html="<p>Offer</p>"
            )
        ],
    )
    campaign = lifecycle.campaign_launch(campaign_id=campaign.pk, actor=ACTOR)
    profile_id = Identifier.objects.get(value="u1").profile_id
    due = timezone.now() + timedelta(days=1)
    outbox.sends_enqueue(
        campaign=campaign,
        occurrences=[
            outbox.Occurrence(
                profile_id=profile_id, key="spring:1", triggered_at=timezone.now(), due_at=due
            )
        ],
    )
    send = campaign_models.Send.objects.get()
    assert send.status == "queued"
    return send


def test_a_withdrawal_through_the_consent_api_stops_the_pending_send_at_once(
    pending_send, api_client_for, django_capture_on_commit_callbacks
):
    officer = api_client_for(PRIVACY_OFFICER)

    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            "/api/consent/withdraw",
            {
                "identifier": {"type": "email", "value": "Ada@Example.com"},
                "purposes": ["email_marketing"],
            },
            format="json",
        )

    assert response.status_code == 200
    pending_send.refresh_from_db()
    assert (pending_send.status, pending_send.reason) == ("skipped", "no_consent")


def test_a_withdrawal_whose_notification_was_lost_still_stops_the_send_at_send_time(
    pending_send, time_machine
):
    consent_record(  # no on-commit execution: the CONSENT_CHANGED message is "lost"
        profile_id=pending_send.profile_id,
        choices=[ConsentChoice(purpose_key="email_marketing", is_granted=False)],
        source="api",
    )
    time_machine.move_to(pending_send.due_at + timedelta(minutes=1))

    dispatch.sends_dispatch(time_budget=5)

    pending_send.refresh_from_db()
    assert (pending_send.status, pending_send.reason) == ("skipped", "no_consent")
    assert mail.outbox == []
