"""Admin pages for marketers: the campaign editor with variants, lifecycle buttons, preview,
dry run, results with charts, the send log and dead letters."""

import pytest

from campaigns.models import Campaign, Send, Variant
from cdp.core.models import AuditEvent

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Welcome",
    "description": "",
    "segment_id": "",
    "trigger": "event",
    "trigger_event": "Signed Up",
    "trigger_filters": "[]",
    "delay_seconds": "0",
    "exit_event": "",
    "schedule_recurrence": "once",
    "timezone": "",
    "channel": "email",
    "purpose_key": "email_marketing",
    "webhook_url": "",
    "webhook_traits": "[]",
    "quiet_hours_policy": "defer",
    "holdout_share": "0.2",
    "goal_event": "Order Completed",
    "attribution_window_hours": "72",
    "min_sample_per_arm": "100",
    "variants-TOTAL_FORMS": "2",
    "variants-INITIAL_FORMS": "0",
    "variants-MIN_NUM_FORMS": "0",
    "variants-MAX_NUM_FORMS": "1000",
    "variants-0-key": "a",
    "variants-0-name": "Plain",
    "variants-0-weight": "1",
    "variants-0-subject": "Welcome {{ profile.first_name }}",
    "variants-0-body_text": "Hello",
    "variants-0-body_html": "",
    "variants-1-key": "b",
    "variants-1-name": "Offer",
    "variants-1-weight": "1",
    "variants-1-subject": "10% off, {{ profile.first_name }}",
    "variants-1-body_text": "Hello",
    "variants-1-body_html": "",
}


@pytest.fixture
def marketer_client(client, make_user):
    client.force_login(make_user("Marketer"))
    return client


def test_a_marketer_creates_a_campaign_with_variants_through_the_editor(marketer_client):
    assert marketer_client.get("/admin/campaigns/campaign/add/").status_code == 200

    response = marketer_client.post("/admin/campaigns/campaign/add/", FORM)

    assert response.status_code == 302, (
        response.context["adminform"].errors if response.context else ""
    )
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.holdout_share, campaign.status) == ("Welcome", 0.2, "draft")
    assert sorted(Variant.objects.values_list("key", "weight")) == [("a", 1.0), ("b", 1.0)]
    assert AuditEvent.objects.filter(action="campaigns.campaign.create").count() == 1


def test_the_editor_shows_domain_errors_on_their_fields(marketer_client):
    response = marketer_client.post(
        "/admin/campaigns/campaign/add/",
        {**FORM, "trigger_event": "", "variants-1-body_text": "{% if %}"},
    )

    assert response.status_code == 200
    assert "An event trigger needs an event name." in response.content.decode()
    assert Campaign.objects.count() == 0


def test_launch_button_then_pages(marketer_client, person):
    marketer_client.post("/admin/campaigns/campaign/add/", FORM)
    campaign = Campaign.objects.get()
    profile_id = person("ada", traits={"first_name": "Ada"})

    page = marketer_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert 'id="campaign-launch"' in page.content.decode()
    launched = marketer_client.post(f"/admin/campaigns/campaign/{campaign.pk}/lifecycle/launch/")
    preview = marketer_client.get(
        f"/admin/campaigns/campaign/{campaign.pk}/preview/",
        {"variant": "b", "profile_id": profile_id},
    )
    dry = marketer_client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/dry-run/", {"profile_id": profile_id}
    )
    results = marketer_client.get(f"/admin/campaigns/campaign/{campaign.pk}/results/")

    assert launched.status_code == 302
    assert Campaign.objects.get().status == "active"
    assert "10% off, A***" in preview.content.decode()  # marketers see masked traits
    assert 'id="dry-run-report"' in dry.content.decode()
    body = results.content.decode()
    assert 'id="not-enough-data"' in body
    assert 'data-chart="rate-chart"' in body


def test_other_roles_cannot_open_campaign_pages(client, make_user, make_campaign):
    campaign = make_campaign()
    client.force_login(make_user("Integration admin"))

    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/results/").status_code == 403
    assert client.post(f"/admin/campaigns/campaign/{campaign.pk}/lifecycle/end/").status_code == 403
    assert Campaign.objects.get().status == "active"


def test_the_send_log_and_dead_letters_list(
    marketer_client, make_campaign, person, track, django_assert_max_num_queries
):
    campaign = make_campaign(trigger_event="Product Viewed")
    for user_id in ("a", "b"):
        person(user_id)
        track(user_id, "Product Viewed")
    Send.objects.filter(profile_id=Send.objects.order_by("pk").first().profile_id).update(
        status="failed", reason="rejected"
    )

    with django_assert_max_num_queries(15):
        log = marketer_client.get(f"/admin/campaigns/send/?campaign__id__exact={campaign.pk}")
    dead = marketer_client.get("/admin/campaigns/deadletter/")

    assert log.status_code == dead.status_code == 200
    assert log.context["cl"].result_count == 2
    assert dead.context["cl"].result_count == 1
