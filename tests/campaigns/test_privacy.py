"""The campaigns privacy handler: export everything about a subject; erase leaves no trace
(rows anonymised or deleted, audience export files rewritten), counts kept; idempotent."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from campaigns.models import (
    Assignment,
    AudienceExport,
    Campaign,
    CampaignMembership,
    Conversion,
    Recommendation,
    Send,
)
from campaigns.services.exports import audience_export_write
from campaigns.services.privacy import campaigns_erase, campaigns_export
from cdp.core.privacy import Subject, privacy_handlers

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def subject_data(make_campaign, make_segment, person, track, django_capture_on_commit_callbacks):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ada = person("ada", consents={"advertising": True})
        bob = person("bob", consents={"advertising": True})
        make_campaign(trigger_event="Product Viewed")
        make_campaign(trigger_event="Checkout Started", delay_seconds=3600)
        with django_capture_on_commit_callbacks(execute=True):
            segment_id = make_segment("Ads", ["ada", "bob"])
        export_campaign = make_campaign(
            trigger=Campaign.Trigger.SEGMENT_ENTRY,
            segment_id=segment_id,
            channel=Campaign.Channel.AUDIENCE_EXPORT,
            purpose_key="advertising",
            variants=[],
        )
    with time_machine.travel(T0, tick=False):
        for user_id in ("ada", "bob"):
            track(user_id, "Product Viewed")
            track(user_id, "Checkout Started")
        export = audience_export_write(campaign_id=export_campaign.pk)
    for profile_id in (ada, bob):
        Recommendation.objects.create(
            profile_id=profile_id, rank=1, product_id="p1", method="category"
        )
        Conversion.objects.create(
            campaign=export_campaign, profile_id=profile_id, arm="export", converted_at=T0
        )
    subject = Subject(profile_ids=(ada,), identifiers=(("email", "ada@example.com"),))
    return subject, ada, bob, export


def test_export_lists_the_subjects_rows_and_export_files(subject_data):
    subject, _, _, export = subject_data

    part = campaigns_export(subject)

    assert part.app == "campaigns"
    assert len(part.tables["assignments"]) == 3
    assert sorted(row["status"] for row in part.tables["sends"]) == ["queued", "sent"]
    assert part.tables["audience_export_files"] == [
        {"export": export.file.name, "campaign_id": export.campaign_id}
    ]
    assert len(part.tables["recommendations"]) == 1
    assert len(part.tables["audience_memberships"]) == 1


def test_erasure_leaves_no_trace_of_the_subject_but_keeps_counts(subject_data):
    subject, ada, bob, export = subject_data
    sends_before = Send.objects.count()

    report = campaigns_erase(subject)

    for model in (Send, Assignment, Conversion, CampaignMembership, Recommendation):
        assert not model.objects.filter(profile_id=ada).exists()
    assert report.deleted["campaigns.send (unsent)"] == 1  # the queued checkout email
    assert report.anonymised["campaigns.send"] == 1
    assert report.anonymised["campaigns.assignment"] == 3
    assert report.deleted["audience export file rows"] == 1
    assert Send.objects.count() == sends_before - 1
    assert Send.objects.filter(profile_id__isnull=True).get().occurrence_key == "erased"
    text = Path(AudienceExport.objects.get(pk=export.pk).file.path).read_text()
    assert "ada@example.com" not in text
    assert f"\n{ada}," not in text
    assert "bob@example.com" in text
    assert AudienceExport.objects.get(pk=export.pk).rows == 1
    assert Assignment.objects.filter(profile_id=bob).count() == 3


def test_erasure_is_idempotent_and_registered(subject_data):
    subject, *_ = subject_data
    campaigns_erase(subject)

    again = campaigns_erase(subject)

    assert set(again.deleted.values()) == {0}
    assert set(again.anonymised.values()) == {0}
    assert "campaigns" in [handler.app for handler in privacy_handlers()]
