"""Campaigns API: create with variants, read, edit, lifecycle, preview, dry run, send log,
dead letters, content blocks; roles; query budgets."""

import pytest

from campaigns.models import Campaign, Send
from cdp.core.models import AuditEvent

pytestmark = pytest.mark.django_db

CREATE = {
    "name": "Cart abandoned",
    "trigger": "event",
    "trigger_event": "Checkout Started",
    "delay_seconds": 900,
    "exit_event": "Order Completed",
    "channel": "email",
    "purpose_key": "email_marketing",
    "holdout_share": 0.1,
    "variants": [
        {"key": "a", "weight": 1, "subject": "Hi {{ profile.first_name }}", "body_text": "A"},
        {"key": "b", "weight": 1, "subject": "Hey {{ profile.first_name }}", "body_text": "B"},
    ],
}


@pytest.fixture
def marketer(api_client_for):
    return api_client_for("Marketer")


def test_a_marketer_creates_reads_and_launches_a_campaign(marketer):
    created = marketer.post("/api/campaigns/", CREATE, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["holdout_share"]) == ("draft", 0.1)
    assert [variant["key"] for variant in body["variants"]] == ["a", "b"]
    launched = marketer.post(f"/api/campaigns/{body['id']}/launch")
    assert launched.status_code == 200
    assert launched.json()["status"] == "active"
    paused = marketer.post(f"/api/campaigns/{body['id']}/pause")
    assert paused.json()["status"] == "paused"
    assert marketer.post(f"/api/campaigns/{body['id']}/resume").json()["status"] == "active"
    assert marketer.post(f"/api/campaigns/{body['id']}/end").json()["status"] == "ended"
    assert list(
        AuditEvent.objects.filter(action__startswith="campaigns.campaign")
        .values_list("action", flat=True)
        .order_by("pk")
    ) == [
        "campaigns.campaign.create",
        "campaigns.campaign.launch",
        "campaigns.campaign.pause",
        "campaigns.campaign.resume",
        "campaigns.campaign.end",
    ]


def test_invalid_input_is_a_clear_400_and_writes_nothing(marketer):
    response = marketer.post("/api/campaigns/", {**CREATE, "trigger_event": ""}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert "trigger_event" in response.json()["error"]["details"]
    assert Campaign.objects.count() == 0


def test_locked_fields_after_launch_are_a_409(marketer):
    campaign_id = marketer.post("/api/campaigns/", CREATE, format="json").json()["id"]
    marketer.post(f"/api/campaigns/{campaign_id}/launch")

    response = marketer.patch(
        f"/api/campaigns/{campaign_id}/", {"holdout_share": 0.3}, format="json"
    )
    edited = marketer.patch(f"/api/campaigns/{campaign_id}/", {"description": "v2"}, format="json")

    assert response.status_code == 409
    assert edited.status_code == 200
    assert Campaign.objects.get().holdout_share == 0.1


@pytest.mark.parametrize("role", [None, "Privacy officer", "Integration admin"])
def test_other_roles_cannot_manage_campaigns(api_client_for, role):
    client = api_client_for(role)

    assert client.post("/api/campaigns/", CREATE, format="json").status_code == 403
    assert client.get("/api/campaigns/").status_code == 403
    assert Campaign.objects.count() == 0


def test_the_list_has_a_query_budget(marketer, django_assert_max_num_queries):
    for index in range(5):
        marketer.post("/api/campaigns/", {**CREATE, "name": f"c{index}"}, format="json")

    with django_assert_max_num_queries(6):
        response = marketer.get("/api/campaigns/")

    assert response.json()["count"] == 5


def test_preview_and_dry_run_endpoints(marketer, person):
    profile_id = person("ada", traits={"first_name": "Ada"})
    campaign_id = marketer.post("/api/campaigns/", CREATE, format="json").json()["id"]

    preview = marketer.post(
        f"/api/campaigns/{campaign_id}/preview",
        {"variant": "b", "profile_id": profile_id},
        format="json",
    )
    dry = marketer.post(
        f"/api/campaigns/{campaign_id}/dry-run", {"profile_id": profile_id}, format="json"
    )

    assert preview.status_code == 200
    assert (preview.json()["subject"], preview.json()["masked"]) == ("Hey A***", True)
    assert dry.status_code == 200
    assert dry.json()["total"] == 1
    assert dry.json()["rows"][0]["outcome"] in ("send", "skip")


def test_the_send_log_is_paginated_filtered_and_open_to_privacy_officers(
    make_campaign, person, track, api_client_for, django_assert_max_num_queries
):
    campaign = make_campaign(trigger_event="Product Viewed")
    for user_id in ("a1", "a2", "a3"):
        person(user_id)
        track(user_id, "Product Viewed")
    Send.objects.filter(pk=Send.objects.order_by("pk").first().pk).update(
        status="skipped", reason="capped"
    )

    client = api_client_for("Privacy officer")
    with django_assert_max_num_queries(6):
        everything = client.get(f"/api/campaigns/{campaign.pk}/sends")
    capped = client.get(f"/api/campaigns/{campaign.pk}/sends?reason=capped")

    assert everything.json()["count"] == 3
    assert [row["reason"] for row in capped.json()["results"]] == ["capped"]


def test_content_blocks_are_saved_by_key(marketer):
    block = {
        "key": "premium",
        "name": "Premium",
        "priority": 5,
        "conditions": [["monetary", ">", 500]],
        "body": "VIP",
    }

    first = marketer.post("/api/campaigns/content-blocks/", block, format="json")
    second = marketer.post(
        "/api/campaigns/content-blocks/", {**block, "body": "VIP!"}, format="json"
    )
    bad = marketer.post(
        "/api/campaigns/content-blocks/", {**block, "key": "x", "body": "{% for %}"}, format="json"
    )

    assert (first.status_code, second.status_code, bad.status_code) == (201, 201, 400)
    assert marketer.get("/api/campaigns/content-blocks/").json() == [
        {**block, "body": "VIP!", "is_active": True}
    ]


def test_the_schema_documents_the_campaign_endpoints(marketer):
    schema = marketer.get("/api/schema/?format=json")

    paths = schema.json()["paths"]
    assert "/api/campaigns/{campaign_id}/results" in paths
    assert "/api/campaigns/dead-letters/retry" in paths
