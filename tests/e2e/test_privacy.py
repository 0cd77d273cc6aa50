"""Privacy in a real browser: a privacy officer opens the request queue, verifies the person's
identity with an emailed code, runs an erasure and downloads its report."""

from __future__ import annotations

import json
from datetime import timedelta

from django.core import mail
from django.utils import timezone

import pytest
from playwright.sync_api import expect

from cdp.core.actor import Actor
from cdp.core.roles import PRIVACY_OFFICER
from consent.models import DataSubjectRequest
from consent.services.requests import dsr_create
from profiles.models import Profile
from profiles.services.ingest import events_ingest
from profiles.services.sources import source_create

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "grace.hopper@example.com"
SYSTEM = Actor(user_id=None, label="test")


def test_an_officer_verifies_identity_erases_a_person_and_downloads_the_report(
    page, live_server, staff_user, login, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    source, _ = source_create(name="web", actor=SYSTEM)
    events_ingest(
        source_id=source.pk,
        messages=[
            {
                "type": "identify",
                "userId": "gh-1",
                "traits": {"email": EMAIL, "first_name": "Grace"},
            },
            {"type": "track", "userId": "gh-1", "event": "Product Viewed"},
        ],
    )
    late = dsr_create(
        kind="access",
        identifiers=[("user_id", "someone-else")],
        actor=SYSTEM,
        received_via="api",
        received_at=timezone.now() - timedelta(days=40),
    )
    erasure = dsr_create(
        kind="erasure", identifiers=[("email", EMAIL)], actor=SYSTEM, received_via="api"
    )
    login(page, staff_user(PRIVACY_OFFICER, "officer"))

    page.locator("#role-home").get_by_role("link", name="Data-subject requests").click()
    rows = page.locator("#dsr-queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-request", str(late.pk))
    expect(rows.first).to_contain_text("OVERDUE")
    expect(page.locator("#dsr-overdue-count")).to_have_text("1 overdue")
    expect(page.locator("canvas[data-chart]")).to_have_attribute("data-rendered", "true")

    page.locator(f"#dsr-queue tr[data-request='{erasure.pk}'] a").click()
    expect(page.locator("#dsr-state")).to_have_text("Received")
    page.get_by_role("button", name="Email a verification code").click()
    expect(page.locator(".messagelist")).to_contain_text("emailed")
    code = mail.outbox[-1].body.split("Your code is ")[1][:6]
    assert mail.outbox[-1].to == [EMAIL]
    page.fill("#code", code)
    page.get_by_role("button", name="Check the code").click()
    expect(page.locator("#dsr-state")).to_have_text("Identity verified")

    page.get_by_role("button", name="Erase this person everywhere").click()
    expect(page.locator("#dsr-state")).to_have_text("Completed", timeout=30_000)
    expect(page.locator("#dsr-job-state")).to_have_text("succeeded")
    expect(page.locator("#dsr-identifiers")).to_contain_text("erased")
    with page.expect_download() as download_info:
        page.locator("#download-report").click()
    report = json.loads(download_info.value.path().read_text(encoding="utf-8"))

    assert report["state"] == "completed"
    assert report["report"]["apps"]["profiles"]["deleted"]["profiles.profile"] == 1
    assert EMAIL not in json.dumps(report)
    assert "Grace" not in json.dumps(report)
    assert [step["action"] for step in report["steps"]] == [
        "received",
        "code_sent",
        "verified",
        "started",
        "completed",
    ]
    assert Profile.objects.count() == 0
    assert DataSubjectRequest.objects.get(pk=erasure.pk).identifiers == []
