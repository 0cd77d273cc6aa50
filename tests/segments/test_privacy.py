"""A data subject's segment memberships: exported with their history, erased on erasure."""

from __future__ import annotations

import pytest

from cdp.core.privacy import Subject, privacy_handlers
from segments.models import Segment, SegmentMembership

from . import builders as b

pytestmark = pytest.mark.django_db


@pytest.fixture
def stays():
    ada, bob = b.profile(), b.profile()
    vip = Segment.objects.create(name="VIP")
    SegmentMembership.objects.create(
        segment=vip, profile=ada, entered_at=b.NOW, exited_at=b.NOW, entered_by="refresh",
        exited_by="refresh",
    )  # fmt: skip
    SegmentMembership.objects.create(
        segment=vip, profile=ada, entered_at=b.NOW, entered_by="realtime"
    )
    SegmentMembership.objects.create(
        segment=vip, profile=bob, entered_at=b.NOW, entered_by="refresh"
    )
    return ada, bob


def _handler():
    return next(handler for handler in privacy_handlers() if handler.app == "segments")


def test_export_lists_every_stay_of_the_subject(stays):
    ada, _ = stays

    part = _handler().export(Subject(profile_ids=(ada.pk,), identifiers=()))

    assert [(row["segment"], row["exited_by"]) for row in part.tables["segment_memberships"]] == [
        ("VIP", "refresh"),
        ("VIP", ""),
    ]


def test_erasure_deletes_current_and_past_rows_and_only_the_subjects(stays):
    ada, bob = stays
    subject = Subject(profile_ids=(ada.pk,), identifiers=())

    report = _handler().erase(subject)
    again = _handler().erase(subject)

    assert report.deleted == {"segments_segmentmembership": 2}
    assert again.deleted == {"segments_segmentmembership": 0}
    assert list(SegmentMembership.objects.values_list("profile_id", flat=True)) == [bob.pk]
