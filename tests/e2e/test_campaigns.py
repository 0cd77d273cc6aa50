"""Campaigns in a real browser: a marketer builds an A/B test with a holdout on a segment,
previews a variant for a profile, launches it and reads its results page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, Variant
from cdp.core.actor import Actor
from cdp.core.roles import MARKETER
from profiles.models import Identifier
from profiles.services.ingest import events_ingest
from profiles.services.sources import source_create
from segments.models import Segment
from segments.services.refresh import segment_upload_members
from tests.campaigns.conftest import purposes  # noqa: F401 (the fixture, shared)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("purposes")]
ACTOR = Actor(user_id=None, label="test")


@pytest.fixture
def vip_segment() -> tuple[int, int]:
    """A segment "VIP" holding two people; returns (segment id, Grace's profile id)."""
    source, _ = source_create(name="web", actor=ACTOR)
    events_ingest(
        source_id=source.pk,
        messages=[
            {
                "type": "identify",
                "userId": user_id,
                "messageId": f"m-{user_id}",
                "traits": {"email": f"{user_id}@example.com", "first_name": name},
                "context": {"consent": {"categoryPreferences": {"email": True}}},
            }
            for user_id, name in (("grace", "Grace"), ("alan", "Alan"))
        ],
    )
    segment = Segment.objects.create(name="VIP", kind="static", origin="upload")
    segment_upload_members(
        segment_id=segment.pk,
        identifiers=[("user_id", "grace"), ("user_id", "alan")],
        actor=ACTOR,
    )
    return segment.pk, Identifier.objects.get(type="user_id", value="grace").profile_id


def _fill_variant(page, index: int, key: str, subject: str) -> None:
    page.click("#variants-group .add-row a")
    page.fill(f"#id_variants-{index}-key", key)
    page.fill(f"#id_variants-{index}-weight", "1")
    page.fill(f"#id_variants-{index}-subject", subject)
    page.fill(f"#id_variants-{index}-body_text", "Hello {{ profile.first_name }}")


def test_marketer_builds_previews_launches_and_reads_an_ab_test_with_holdout(
    page, live_server, staff_user, login, vip_segment
):
    segment_id, grace = vip_segment
    login(page, staff_user(MARKETER, "marketer"))

    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "VIP welcome test")
    page.select_option("#id_segment_id", label="VIP")
    page.select_option("#id_trigger", "segment_entry")
    page.select_option("#id_channel", "email")
    page.select_option("#id_purpose_key", "email_marketing")
    page.fill("#id_holdout_share", "0.2")
    _fill_variant(page, 0, "a", "Welcome, {{ profile.first_name }}")
    _fill_variant(page, 1, "b", "{{ profile.first_name }}, 10% off your next order")
    page.click("input[name=_continue]")

    expect(page.locator("#campaign-status")).to_have_text("draft")
    campaign = Campaign.objects.get(name="VIP welcome test")
    assert (campaign.segment_id, campaign.holdout_share) == (segment_id, 0.2)
    assert sorted(Variant.objects.values_list("key", flat=True)) == ["a", "b"]

    page.click("#tool-preview")
    page.select_option("#id_variant", "b")
    page.fill("#id_profile_id", str(grace))
    page.click("#preview-submit")
    expect(page.locator("#preview-subject")).to_have_text("G***, 10% off your next order")
    expect(page.locator("#preview-text")).to_contain_text("Unsubscribe: http")

    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("#campaign-launch")
    expect(page.locator("#campaign-status")).to_have_text("active")

    page.click("#tool-results")
    expect(page.locator("#results-arms tbody tr")).to_have_count(3)  # a, b and the holdout
    expect(page.locator("#results-arms")).to_contain_text("holdout")
    expect(page.locator("#not-enough-data")).to_be_visible()
    expect(page.locator("canvas#chart-rate")).to_have_attribute("data-rendered", "true")
    assert Campaign.objects.get(pk=campaign.pk).status == "active"
