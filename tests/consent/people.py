"""Test helpers: load one person through every path CDP takes in data — the tracking API
(with a GPC header and consent in context), the consent API, a CRM file import (with a
quarantined row and a file still waiting for its mapping), merges and a later unmerge,
segment membership and campaign sends where those apps offer them, and an earlier access
request with its archive — plus a second person who must come through untouched."""

from __future__ import annotations

import base64
import importlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from cdp.core.actor import Actor
from cdp.core.roles import INTEGRATION_ADMIN, PRIVACY_OFFICER
from profiles.models import Identifier, ImportRun, ProfileMerge
from profiles.services.imports import import_create, import_run_execute
from profiles.services.merge import profile_merge, profile_unmerge
from profiles.services.sources import source_create

SYSTEM_TEST = Actor(user_id=None, label="test")
EMAIL = "zephyrine.quillfeather@example.org"
PHONE = "+49305550199"
USER_ID = "zq-user-8841"
TERMS = (
    EMAIL,
    "Zephyrine.Quillfeather@Example.org",
    PHONE,
    "030 5550199",
    "5550199",
    USER_ID,
    "anon-zq-1",
    "anon-zq-2",
    "anon-zq-3",
    "CRM-ZQ-77",
    "LOY-ZQ-5",
    "Zephyrine",
    "Quillfeather",
)
OTHER_EMAIL = "bartholomew.ironwood@example.net"
OTHER_TERMS = (OTHER_EMAIL, "Bartholomew", "Ironwood", "bi-user-1")

CRM_HEADER = "crm_id,email,phone,first_name,last_name,birth_date,country,consent_email\n"
CRM_FILE = CRM_HEADER + (
    "CRM-ZQ-77, Zephyrine.Quillfeather@Example.org ,030 5550199,Zephyrine,Quillfeather,"
    "1988-04-02,Germany,yes\n"
    "CRM-ZQ-78,zephyrine.quillfeather@example.org,,Zephyrine,Quillfeather,2999-01-01,Germany,\n"
    "CRM-BI-1,bartholomew.ironwood@example.net,,Bartholomew,Ironwood,1970-01-01,Germany,no\n"
)
# Columns the importer cannot map by itself: the run waits, with its file, for a mapping.
UNMAPPED_FILE = (
    "CustomerNo,Mail,Given\n"
    "CRM-ZQ-77,zephyrine.quillfeather@example.org,Zephyrine\n"
    "CRM-BI-1,bartholomew.ironwood@example.net,Bartholomew\n"
)


@dataclass
class Loaded:
    web_key: str
    officer: APIClient
    integration: APIClient
    tracking: APIClient
    batches: list[dict[str, Any]] = field(default_factory=list)
    crm_path: Path | None = None
    paths: list[str] = field(default_factory=list)  # which optional paths ran


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def optional(module: str) -> ModuleType | None:
    """An app module when it exists (apps built in parallel may not have it yet)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _batch(client: APIClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post("/v1/batch", body, format="json", **headers)
    assert response.status_code == 200, response.content
    return response.json()


PERSON_BATCH = {
    "batch": [
        {
            "type": "identify",
            "userId": USER_ID,
            "anonymousId": "anon-zq-1",
            "messageId": "zq-m1",
            "timestamp": "2026-03-01T10:00:00Z",
            "traits": {
                "email": " Zephyrine.Quillfeather@Example.org ",
                "phone": "+49 30 5550199",
                "first_name": "Zephyrine",
                "last_name": "Quillfeather",
            },
            "context": {
                "ip": "203.0.113.77",
                "consent": {"categoryPreferences": {"Analytics": True, "Email": True}},
            },
        },
        {
            "type": "page",
            "anonymousId": "anon-zq-1",
            "userId": USER_ID,
            "messageId": "zq-m2",
            "name": "Shoes",
            "timestamp": "2026-03-01T10:01:00Z",
            "properties": {"url": "https://shop.example/shoes"},
        },
        {
            "type": "track",
            "userId": USER_ID,
            "messageId": "zq-m3",
            "event": "Order Completed",
            "timestamp": "2026-03-01T10:05:00Z",
            "properties": {"order_id": "ZQ-ORDER-1", "total": 120, "currency": "EUR"},
        },
    ]
}
SECOND_DEVICE_BATCH = {
    "batch": [
        {
            "type": "page",
            "anonymousId": "anon-zq-2",
            "messageId": "zq-m4",
            "name": "Home",
            "timestamp": "2026-03-02T08:00:00Z",
        },
        {
            "type": "identify",
            "anonymousId": "anon-zq-2",
            "userId": USER_ID,
            "messageId": "zq-m5",
            "timestamp": "2026-03-02T08:01:00Z",
            "traits": {"first_name": "Zephyrine"},
        },
    ]
}
OTHER_BATCH = {
    "batch": [
        {
            "type": "identify",
            "userId": "bi-user-1",
            "messageId": "bi-m1",
            "traits": {
                "email": OTHER_EMAIL,
                "first_name": "Bartholomew",
                "last_name": "Ironwood",
            },
        }
    ]
}


def load_person(
    *, make_user: Any, capture: Any, tmp_path: Path, with_access_request: bool = True
) -> Loaded:
    """Load the person (and the other person) through every path. `capture` is pytest-django's
    django_capture_on_commit_callbacks, so the eager tasks run after each step commits."""
    with capture(execute=True):
        _web, issued = source_create(name="web", actor=SYSTEM_TEST)
        crm, _ = source_create(name="crm", kind="crm", actor=SYSTEM_TEST)
    officer, integration, tracking = APIClient(), APIClient(), APIClient()
    officer.force_authenticate(make_user(PRIVACY_OFFICER))
    integration.force_authenticate(make_user(INTEGRATION_ADMIN))
    tracking.credentials(HTTP_AUTHORIZATION=basic(issued.plain))
    loaded = Loaded(
        web_key=issued.plain, officer=officer, integration=integration, tracking=tracking
    )

    # 1. Tracking API: the person (with a Global Privacy Control header), a second device that
    #    identify stitches (a merge), and the other person.
    with capture(execute=True):
        _batch(tracking, PERSON_BATCH, HTTP_SEC_GPC="1")
    with capture(execute=True):
        _batch(tracking, SECOND_DEVICE_BATCH)
    with capture(execute=True):
        _batch(tracking, OTHER_BATCH)
    loaded.batches = [PERSON_BATCH, SECOND_DEVICE_BATCH]

    # 2. Consent API, by identifier, with evidence.
    with capture(execute=True):
        response = integration.post(
            "/api/consent/grant",
            {
                "identifier": {"type": "email", "value": EMAIL},
                "purposes": ["sms_marketing"],
                "evidence": {"form": "preferences-v3", "ip": "203.0.113.77", "user_agent": "Zed/1"},
            },
            format="json",
        )
    assert response.status_code == 200, response.content

    # 3. File imports: a CRM file (one row quarantined), and one waiting for its mapping.
    loaded.crm_path = tmp_path / "crm-export.csv"
    loaded.crm_path.write_text(CRM_FILE)
    with capture(execute=True):
        run = import_create(
            source_id=crm.pk, kind="crm", upload=loaded.crm_path, actor=SYSTEM_TEST, start=False
        )
        import_run_execute(import_run_id=run.pk)
    unmapped = tmp_path / "customers-april.csv"
    unmapped.write_text(UNMAPPED_FILE)
    waiting = import_create(source_id=crm.pk, kind="crm", upload=unmapped, actor=SYSTEM_TEST)
    assert waiting.state == ImportRun.State.MAPPING

    # 4. A loyalty-card profile merged by hand (unmerged later, after the request arrives).
    with capture(execute=True):
        _batch(
            tracking,
            {
                "batch": [
                    {
                        "type": "identify",
                        "anonymousId": "anon-zq-3",
                        "messageId": "zq-m6",
                        "traits": {"loyalty_id": "LOY-ZQ-5", "last_name": "Quillfeather"},
                    }
                ]
            },
        )
    survivor = Identifier.objects.get(type="user_id", value=USER_ID).profile_id
    loyalty = Identifier.objects.get(type="loyalty_id", value="LOY-ZQ-5").profile_id
    with capture(execute=True):
        profile_merge(survivor_id=survivor, absorbed_id=loyalty, reason="manual", actor=SYSTEM_TEST)

    # 5. Segment membership and campaign sends, where those apps offer a way in.
    _segment_membership(loaded, capture)
    _campaign_sends(loaded, capture, survivor)

    # 6. An earlier access request, answered with an archive under MEDIA_ROOT.
    if with_access_request:
        request_id = _access_request(loaded, capture)
        assert request_id
    return loaded


def _segment_membership(loaded: Loaded, capture: Any) -> None:
    definitions = optional("segments.services.definitions")
    refresh = optional("segments.services.refresh")
    if definitions is None or refresh is None:
        return
    with capture(execute=True):
        segment = definitions.segment_create(
            data=definitions.SegmentInput(
                name="VIP upload", rule_tree={"any": []}, kind="static", refresh_cron="0 * * * *"
            ),
            actor=SYSTEM_TEST,
            origin="upload",
        )
        refresh.segment_upload_members(
            segment_id=segment.pk,
            identifiers=[("email", EMAIL), ("email", OTHER_EMAIL)],
            actor=SYSTEM_TEST,
        )
    loaded.paths.append("segment_membership")


def _campaign_sends(loaded: Loaded, capture: Any, profile_id: int) -> None:
    """One email sent to the person now and one still queued for tomorrow."""
    modules = [
        optional(f"campaigns.services.{name}") for name in ("definitions", "lifecycle", "outbox")
    ]
    dispatch, models = optional("campaigns.services.dispatch"), optional("campaigns.models")
    if None in (*modules, dispatch, models):
        return
    definitions, lifecycle, outbox = modules
    campaign = definitions.campaign_create(
        actor=SYSTEM_TEST,
        fields={
            "name": "Welcome",
            "trigger": models.Campaign.Trigger.EVENT,
            "trigger_event": "Checkout Started",
            "channel": models.Campaign.Channel.EMAIL,
            "purpose_key": "email_marketing",
        },
        variants=[
            definitions.VariantSpec(
                key="a",
                weight=1,
                subject="Hello {{ profile.first_name }}",
                body_text="Hello {{ profile.first_name }}",
                body_html="<p>Hello {{ profile.first_name }}</p>",
            )
        ],
    )
    campaign = lifecycle.campaign_launch(campaign_id=campaign.pk, actor=SYSTEM_TEST)
    now = timezone.now()
    occurrences = [
        outbox.Occurrence(profile_id=profile_id, key=key, triggered_at=now, due_at=due)
        for key, due in (("now", now), ("tomorrow", now + timedelta(days=1)))
    ]
    with capture(execute=True):
        outbox.sends_enqueue(campaign=campaign, occurrences=occurrences)
    dispatch.sends_dispatch(time_budget=5)
    assert sorted(models.Send.objects.values_list("status", flat=True)) == ["queued", "sent"]
    loaded.paths.append("campaign_sends")


def _access_request(loaded: Loaded, capture: Any) -> int:
    created = loaded.officer.post(
        "/api/consent/requests/",
        {"kind": "access", "identifiers": [{"type": "email", "value": EMAIL}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    response = loaded.officer.post(
        f"/api/consent/requests/{request_id}/verify", {"note": "ID card seen"}, format="json"
    )
    assert response.status_code == 200, response.content
    with capture(execute=True):
        response = loaded.officer.post(f"/api/consent/requests/{request_id}/execute")
    assert response.status_code == 200, response.content
    assert loaded.officer.get(f"/api/consent/requests/{request_id}/").json()["has_archive"]
    return request_id


def request_verified_by_code(loaded: Loaded, capture: Any, *, kind: str) -> int:
    """A request received from the integration's web form and verified by an emailed code."""
    created = loaded.integration.post(
        "/api/consent/requests/",
        {"kind": kind, "identifiers": [{"type": "email", "value": EMAIL.upper()}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    mail.outbox.clear()
    sent = loaded.officer.post(f"/api/consent/requests/{request_id}/verification/send")
    assert sent.status_code == 200, sent.content
    assert mail.outbox[-1].to == [EMAIL]
    code = mail.outbox[-1].body.split("Your code is ")[1][:6]
    confirmed = loaded.integration.post(
        f"/api/consent/requests/{request_id}/verification/confirm", {"code": code}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["state"] == "verified"
    return request_id


def unmerge_loyalty(capture: Any) -> None:
    """Split the loyalty-card profile off again (after the request was received)."""
    merge = ProfileMerge.objects.get(reason="manual", undone_at=None)
    with capture(execute=True):
        profile_unmerge(merge_id=merge.pk, actor=SYSTEM_TEST)
