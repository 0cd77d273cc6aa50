"""Segment-driven campaigns: entry triggers (real-time, exactly once per entry), the
reconcile sweeper, and audience list pushes (adds/removes, consent withdrawals)."""

from datetime import UTC, datetime, timedelta

from django.core import mail

import pytest
import time_machine

from campaigns.models import Campaign, CampaignMembership, Send
from campaigns.services.memberships import memberships_reconcile, segment_membership_changed

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def entry_campaign(make_campaign, make_segment, person, django_capture_on_commit_callbacks):
    for user_id in ("u1", "u2"):
        person(user_id)
    with django_capture_on_commit_callbacks(execute=True):
        segment_id = make_segment("VIP", ["u1"])
        return make_campaign(trigger=Campaign.Trigger.SEGMENT_ENTRY, segment_id=segment_id)


def _upload(make_segment, django_capture_on_commit_callbacks, user_ids):
    with django_capture_on_commit_callbacks(execute=True):
        make_segment("VIP", user_ids)


def test_members_at_launch_are_recorded_but_not_messaged(entry_campaign):
    assert CampaignMembership.objects.filter(campaign=entry_campaign, is_member=True).count() == 1
    assert Send.objects.count() == 0


def test_an_entry_sends_once_and_a_re_entry_sends_again(
    entry_campaign, make_segment, django_capture_on_commit_callbacks
):
    _upload(make_segment, django_capture_on_commit_callbacks, ["u1", "u2"])
    assert [message.to for message in mail.outbox] == [["u2@example.com"]]

    _upload(make_segment, django_capture_on_commit_callbacks, ["u1"])  # u2 leaves
    _upload(make_segment, django_capture_on_commit_callbacks, ["u1", "u2"])  # and comes back

    keys = sorted(Send.objects.values_list("occurrence_key", flat=True))
    segment_id = entry_campaign.segment_id
    assert keys == [f"entry:{segment_id}:1", f"entry:{segment_id}:2"]
    assert len(mail.outbox) == 2


def test_a_redelivered_membership_message_fires_nothing(
    entry_campaign, make_segment, django_capture_on_commit_callbacks
):
    _upload(make_segment, django_capture_on_commit_callbacks, ["u1", "u2"])
    u2 = CampaignMembership.objects.get(entry_count=1).profile_id

    with django_capture_on_commit_callbacks(execute=True):
        offered = segment_membership_changed(
            segment_id=entry_campaign.segment_id, entered_ids=[u2], exited_ids=[]
        )

    assert offered == 0
    assert Send.objects.count() == 1


def test_the_reconcile_sweeper_applies_an_entry_whose_message_was_lost(
    entry_campaign, make_segment, django_capture_on_commit_callbacks
):
    make_segment("VIP", ["u1", "u2"])  # on_commit callbacks not run: the message is lost
    assert Send.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert memberships_reconcile() == 1
        assert memberships_reconcile() == 0  # idempotent

    assert len(mail.outbox) == 1


@pytest.fixture
def list_push(make_campaign, make_segment, person, receiver, django_capture_on_commit_callbacks):
    person("ads1", consents={"advertising": True})
    person("ads2", consents={"advertising": False})
    with django_capture_on_commit_callbacks(execute=True):
        segment_id = make_segment("Lookalike seed", ["ads1", "ads2"])
        return make_campaign(
            trigger=Campaign.Trigger.SEGMENT_ENTRY,
            segment_id=segment_id,
            channel=Campaign.Channel.AUDIENCE_EXPORT,
            purpose_key="advertising",
            webhook_url=receiver.url,
            variants=[],
        )


def test_launch_pushes_the_consenting_members(list_push, receiver):
    (payload,) = receiver.payloads()
    assert (payload["type"], payload["email"]) == ("audience.add", "ads1@example.com")
    assert len(payload["email_sha256"]) == 64
    assert CampaignMembership.objects.get(is_exported=True).profile_id == payload["profile_id"]


def test_withdrawing_consent_pushes_a_removal(list_push, receiver, person):
    person("ads1", consents={"advertising": False})

    assert [payload["type"] for payload in receiver.payloads()] == [
        "audience.add",
        "audience.remove",
    ]
    assert CampaignMembership.objects.filter(is_exported=True).count() == 0


def test_leaving_the_segment_pushes_a_removal_and_joining_an_add(
    list_push, receiver, person, make_segment, django_capture_on_commit_callbacks
):
    person("ads3", consents={"advertising": True})
    with django_capture_on_commit_callbacks(execute=True):
        make_segment("Lookalike seed", ["ads2", "ads3"])

    pushed = [(payload["type"], payload["email"]) for payload in receiver.payloads()]
    assert pushed[0] == ("audience.add", "ads1@example.com")
    assert sorted(pushed[1:]) == [
        ("audience.add", "ads3@example.com"),
        ("audience.remove", "ads1@example.com"),
    ]


def test_an_event_campaign_on_a_segment_only_fires_for_members(
    make_campaign, make_segment, person, track, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        person("in")
        person("out")
        with django_capture_on_commit_callbacks(execute=True):
            segment_id = make_segment("Members", ["in"])
        make_campaign(trigger_event="Product Viewed", segment_id=segment_id)
    with time_machine.travel(T0, tick=False):
        track("in", "Product Viewed")
        track("out", "Product Viewed")

    assert [message.to for message in mail.outbox] == [["in@example.com"]]
