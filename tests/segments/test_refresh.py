"""Membership refresh: set-based entries and exits with history, announcements after commit,
idempotency, schedules (cron and the sweeper), static snapshots, and broken definitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from cdp.core import jobs
from segments.models import Segment, SegmentMembership, SegmentSizePoint
from segments.services.refresh import RefreshOutcome, segment_refresh, segments_refresh_sweep

from . import builders as b

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
RECENT_BUYERS = {"all": [{"type": "event", "event": "Order Completed", "within_days": 30}]}


class Recorder:
    """A stand-in Celery task that records SEGMENT_MEMBERSHIP_CHANGED publications."""

    name = "tests.membership_recorder"

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def apply_async(self, kwargs=None, **_options):
        self.calls.append(kwargs)


@pytest.fixture
def announcements(monkeypatch):
    recorder = Recorder()
    monkeypatch.setitem(jobs._subscribers, jobs.SEGMENT_MEMBERSHIP_CHANGED, [recorder])
    return recorder.calls


@pytest.fixture
def buyers():
    ada, bob, cyd = b.profile(), b.profile(), b.profile()
    b.event(ada, "Order Completed", b.NOW - 5 * DAY, {"total": 10})
    b.event(bob, "Order Completed", b.NOW - 20 * DAY, {"total": 10})
    b.event(cyd, "Order Completed", b.NOW - 90 * DAY, {"total": 10})
    b.finish(b.NOW)
    segment = Segment.objects.create(
        name="Recent buyers",
        rule_tree=RECENT_BUYERS,
        next_refresh_at=b.NOW,
        refresh_cron="0 6 * * *",
    )
    return segment, (ada, bob, cyd)


def _current(segment):
    return sorted(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "profile_id", flat=True
        )
    )


def test_refresh_enters_members_with_history_and_announces_them(
    buyers, announcements, django_capture_on_commit_callbacks
):
    segment, (ada, bob, _) = buyers
    with time_machine.travel(b.NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        outcome = segment_refresh(segment_id=segment.pk)

    segment.refresh_from_db()
    assert outcome == RefreshOutcome.DONE
    assert _current(segment) == [ada.pk, bob.pk]
    assert announcements == [
        {"segment_id": segment.pk, "entered_ids": [ada.pk, bob.pk], "exited_ids": []}
    ]
    assert (segment.size, segment.refreshed_version, segment.last_refreshed_at) == (2, 1, b.NOW)
    assert segment.next_refresh_at == b.NOW.replace(day=16, hour=6, minute=0, second=0)
    assert list(SegmentSizePoint.objects.values_list("size", "entered", "exited")) == [(2, 2, 0)]


def test_time_passing_makes_members_exit_with_their_history_kept(
    buyers, announcements, django_capture_on_commit_callbacks
):
    segment, (ada, bob, _) = buyers
    with time_machine.travel(b.NOW, tick=False):
        segment_refresh(segment_id=segment.pk)
    later = b.NOW + 15 * DAY
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        segment_refresh(segment_id=segment.pk, force=True)

    assert _current(segment) == [ada.pk]
    stay = SegmentMembership.objects.get(segment=segment, profile=bob)
    assert (stay.entered_at, stay.exited_at, stay.exited_by) == (b.NOW, later, "refresh")
    assert announcements[-1] == {
        "segment_id": segment.pk,
        "entered_ids": [],
        "exited_ids": [bob.pk],
    }


def test_a_replayed_refresh_changes_nothing_and_announces_nothing(
    buyers, announcements, django_capture_on_commit_callbacks
):
    segment, _ = buyers
    with time_machine.travel(b.NOW, tick=False):
        segment_refresh(segment_id=segment.pk)
    rows = list(SegmentMembership.objects.values_list("pk", "entered_at", "exited_at"))
    announced = len(announcements)

    with time_machine.travel(b.NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        not_due = segment_refresh(segment_id=segment.pk)
        forced = segment_refresh(segment_id=segment.pk, force=True)

    assert (not_due, forced) == (RefreshOutcome.NOT_DUE, RefreshOutcome.DONE)
    assert list(SegmentMembership.objects.values_list("pk", "entered_at", "exited_at")) == rows
    assert len(announcements) == announced


def test_the_sweeper_asks_for_due_and_redefined_segments_only(
    buyers, monkeypatch, django_capture_on_commit_callbacks
):
    segment, _ = buyers
    Segment.objects.filter(origin="rfm").update(refreshed_version=1)  # computed, not due yet
    later = Segment.objects.create(
        name="Later", rule_tree=RECENT_BUYERS, next_refresh_at=b.NOW + DAY, refreshed_version=1
    )
    redefined = Segment.objects.create(
        name="Redefined", rule_tree=RECENT_BUYERS, next_refresh_at=b.NOW + DAY, definition_version=2
    )
    Segment.objects.create(name="Upload", kind="static", origin="upload", next_refresh_at=b.NOW)
    recorder = Recorder()
    monkeypatch.setitem(jobs._subscribers, jobs.SEGMENT_REFRESH_REQUESTED, [recorder])

    with django_capture_on_commit_callbacks(execute=True):
        due = segments_refresh_sweep(now=b.NOW)

    assert sorted(due) == sorted([segment.pk, redefined.pk])
    assert later.pk not in due
    assert sorted(call["segment_id"] for call in recorder.calls) == sorted(due)


def test_a_static_snapshot_is_taken_once(buyers):
    _, (ada, bob, _) = buyers
    snapshot = Segment.objects.create(name="Snapshot", kind="static", rule_tree=RECENT_BUYERS)
    with time_machine.travel(b.NOW, tick=False):
        first = segment_refresh(segment_id=snapshot.pk)
    with time_machine.travel(b.NOW + 60 * DAY, tick=False):
        again = segment_refresh(segment_id=snapshot.pk)

    snapshot.refresh_from_db()
    assert (first, again) == (RefreshOutcome.DONE, RefreshOutcome.NOT_DUE)
    assert _current(snapshot) == [ada.pk, bob.pk]
    assert snapshot.next_refresh_at is None
    assert set(
        SegmentMembership.objects.filter(segment=snapshot).values_list("entered_by", flat=True)
    ) == {"snapshot"}


def test_a_definition_that_no_longer_compiles_is_recorded_not_retried(buyers):
    segment, _ = buyers
    segment.rule_tree = {"all": [{"type": "trait", "trait": "age", "op": "between", "value": 3}]}
    segment.save()

    with time_machine.travel(b.NOW, tick=False):
        outcome = segment_refresh(segment_id=segment.pk)

    segment.refresh_from_db()
    assert outcome == RefreshOutcome.FAILED
    assert segment.refresh_error.startswith("TypeError")
    assert not SegmentMembership.objects.exists()


def test_merged_profiles_leave_at_the_next_refresh(buyers):
    segment, (ada, bob, _) = buyers
    with time_machine.travel(b.NOW, tick=False):
        segment_refresh(segment_id=segment.pk)
    bob.merged_into = ada
    bob.save()

    with time_machine.travel(b.NOW, tick=False):
        segment_refresh(segment_id=segment.pk, force=True)

    assert _current(segment) == [ada.pk]
