"""Preview of a variant for a profile, and the dry run (test profile, or a replayed window)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.models import Assignment, Send
from campaigns.services.definitions import VariantSpec
from campaigns.services.simulation import campaign_dry_run, variant_preview
from cdp.core.errors import InvalidInputError, NotFoundError
from cdp.core.models import AuditEvent
from tests.campaigns.conftest import ACTOR

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
AB = [
    VariantSpec(key="a", weight=1, subject="A for {{ profile.first_name }}", body_text="a"),
    VariantSpec(key="b", weight=1, subject="B for {{ profile.first_name }}", body_text="b"),
]


def test_preview_renders_the_variant_for_the_profile_and_is_audited(make_campaign, person):
    campaign = make_campaign(variants=AB, launch=False)
    profile_id = person("ada", traits={"first_name": "Ada"})

    shown = variant_preview(
        campaign_id=campaign.pk,
        variant_key="b",
        profile_id=profile_id,
        actor=ACTOR,
        can_view_pii=True,
    )
    masked = variant_preview(
        campaign_id=campaign.pk,
        variant_key="b",
        profile_id=profile_id,
        actor=ACTOR,
        can_view_pii=False,
    )

    assert (shown.message.subject, shown.to) == ("B for Ada", "ada@example.com")
    assert masked.message.subject == "B for A***"
    assert masked.to == "a***@e***"
    assert AuditEvent.objects.filter(action="campaigns.campaign.preview").count() == 2
    assert Send.objects.count() == 0


def test_preview_of_an_unknown_variant_or_profile_is_refused(make_campaign, person):
    campaign = make_campaign(variants=AB, launch=False)
    with pytest.raises(NotFoundError):
        variant_preview(
            campaign_id=campaign.pk, variant_key="z", profile_id=1, actor=ACTOR, can_view_pii=True
        )
    with pytest.raises(NotFoundError):
        variant_preview(
            campaign_id=campaign.pk, variant_key="a", profile_id=999, actor=ACTOR, can_view_pii=True
        )


def test_dry_run_of_a_test_profile_says_when_and_on_which_arm(make_campaign, person):
    campaign = make_campaign(variants=AB, launch=False, delay_seconds=900)
    profile_id = person("ada")

    with time_machine.travel(T0, tick=False):
        report = campaign_dry_run(campaign_id=campaign.pk, actor=ACTOR, profile_id=profile_id)

    (row,) = report.rows
    assert (row.profile_id, row.outcome, row.reason) == (profile_id, "send", "")
    assert row.send_at == T0 + timedelta(minutes=15)
    assert row.arm in ("a", "b")
    assert Assignment.objects.count() == 0  # nothing recorded
    assert Send.objects.count() == 0


def test_dry_run_replays_a_window_with_reasons(make_campaign, person, track):
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        person("buyer")
        person("quiet", email_consent=None)
        person("browser")
    with time_machine.travel(T0, tick=False):
        track("buyer", "Checkout Started")
        track("quiet", "Checkout Started")
        track("browser", "Checkout Started")
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        track("buyer", "Order Completed", order_id="o1", total=10, currency="EUR")
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        track("browser", "Order Completed", order_id="o2", total=10, currency="EUR")  # much later
        campaign = make_campaign(
            variants=AB,
            launch=False,
            delay_seconds=900,
            exit_event="Order Completed",
            holdout_share=0.0,
        )
        report = campaign_dry_run(
            campaign_id=campaign.pk,
            actor=ACTOR,
            start=T0 - timedelta(hours=1),
            end=T0 + timedelta(hours=1),
        )

    assert report.total == 3
    assert report.outcomes == {"send": 1, "skip": 2}
    assert report.reasons == {"exited": 1, "no_consent": 1}
    (sent,) = [row for row in report.rows if row.outcome == "send"]
    assert sent.send_at == T0 + timedelta(minutes=15)
    assert sum(report.arms.values()) == 1


def test_dry_run_needs_a_profile_or_a_window(make_campaign):
    campaign = make_campaign(variants=AB, launch=False)

    with pytest.raises(InvalidInputError, match="window"):
        campaign_dry_run(campaign_id=campaign.pk, actor=ACTOR)
