"""Real-time segments: one /v1/track call moves a profile into a real-time segment (eager
Celery, and with a real worker on Redis); consent changes and merges re-evaluate too; only
real-time segments and only the touched profiles are evaluated."""

from __future__ import annotations

import time

from rest_framework.test import APIClient

import pytest

from cdp.core import jobs
from cdp.core.actor import Actor
from consent.public import ConsentChoice, consent_record
from profiles.models import ComputedTraits, Event, Profile
from profiles.services.sources import source_create
from segments.models import Segment, SegmentMembership
from segments.services.realtime import segments_realtime_evaluate
from tests.conftest import basic, wait_until

from . import builders as b

BIG_SPENDERS = {
    "all": [
        {"type": "trait", "trait": "country", "op": "eq", "value": "DE"},
        {
            "type": "event",
            "event": "Order Completed",
            "where": [{"property": "total", "op": "gte", "value": 100}],
            "within_days": 30,
        },
    ]
}


class Recorder:
    name = "tests.membership_recorder"

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def apply_async(self, kwargs=None, **_options):
        self.calls.append(kwargs)


def _seed(client) -> None:
    """An identified German who has not bought yet, and someone else's order."""
    client.post(
        "/v1/identify",
        {"userId": "u-ada", "traits": {"country": "Germany", "email": "ada@example.com"}},
        format="json",
    )
    client.post(
        "/v1/track",
        {
            "userId": "u-other",
            "event": "Order Completed",
            "properties": {"order_id": "o0", "total": 5},
        },
        format="json",
    )


def _realtime_segment() -> Segment:
    return Segment.objects.create(
        name="Big spenders", rule_tree=BIG_SPENDERS, is_realtime=True, refreshed_version=1
    )


@pytest.mark.django_db
def test_one_track_call_moves_the_profile_into_the_realtime_segment(
    tracking_client, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        _seed(tracking_client)
    ada = Profile.objects.get(identifiers__value="u-ada").pk
    segment = _realtime_segment()
    scheduled = Segment.objects.create(name="Scheduled twin", rule_tree=BIG_SPENDERS)
    recorder = Recorder()
    monkeypatch.setitem(jobs._subscribers, jobs.SEGMENT_MEMBERSHIP_CHANGED, [recorder])

    with django_capture_on_commit_callbacks(execute=True):
        response = tracking_client.post(
            "/v1/track",
            {
                "userId": "u-ada",
                "event": "Order Completed",
                "properties": {"order_id": "o1", "total": 149.5, "currency": "EUR"},
            },
            format="json",
        )

    assert response.status_code == 200
    stay = SegmentMembership.objects.get(segment=segment)
    assert (stay.profile_id, stay.entered_by, stay.exited_at) == (ada, "realtime", None)
    assert recorder.calls == [{"segment_id": segment.pk, "entered_ids": [ada], "exited_ids": []}]
    assert Segment.objects.get(pk=segment.pk).size == 1
    assert not SegmentMembership.objects.filter(segment=scheduled).exists()
    computed = ComputedTraits.objects.get(profile_id=ada)
    assert (computed.orders_count, float(computed.lifetime_value)) == (1, 149.5)


@pytest.mark.django_db
def test_withdrawing_consent_takes_the_profile_out_in_real_time(
    django_capture_on_commit_callbacks,
):
    ada = b.profile({"country": "DE"})
    b.consent(ada, "email_marketing")
    b.finish(b.NOW)
    segment = Segment.objects.create(
        name="Mailable",
        rule_tree={"all": [{"type": "consent", "purpose": "email_marketing"}]},
        is_realtime=True,
    )
    segments_realtime_evaluate(profile_ids=[ada.pk])
    assert SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        consent_record(
            profile_id=ada.pk,
            choices=[ConsentChoice(purpose_key="email_marketing", is_granted=False)],
            source="test",
        )

    stay = SegmentMembership.objects.get(segment=segment)
    assert (stay.exited_by, stay.exited_at is not None) == ("realtime", True)


@pytest.mark.django_db
def test_realtime_evaluation_touches_only_the_given_profiles_and_is_idempotent():
    ada, bob = b.profile({"country": "DE"}), b.profile({"country": "DE"})
    b.finish(b.NOW)
    segment = Segment.objects.create(
        name="Germans",
        rule_tree={"all": [{"type": "trait", "trait": "country", "op": "eq", "value": "DE"}]},
        is_realtime=True,
    )

    first = segments_realtime_evaluate(profile_ids=[ada.pk])
    second = segments_realtime_evaluate(profile_ids=[ada.pk])

    assert (first, second) == (1, 0)
    assert list(
        SegmentMembership.objects.filter(segment=segment).values_list("profile_id", flat=True)
    ) == [ada.pk]
    assert bob.pk not in SegmentMembership.objects.values_list("profile_id", flat=True)


@pytest.mark.django_db
def test_dependent_realtime_segments_are_evaluated_after_what_they_depend_on():
    ada = b.profile({"country": "DE"})
    b.finish(b.NOW)
    germans = Segment.objects.create(
        name="Germans",
        rule_tree={"all": [{"type": "trait", "trait": "country", "op": "eq", "value": "DE"}]},
        is_realtime=True,
    )
    Segment.objects.create(
        name="A: in Germans",  # sorts and numbers after, but created first would not matter
        rule_tree={"all": [{"type": "segment", "segment_id": germans.pk}]},
        is_realtime=True,
    )

    segments_realtime_evaluate(profile_ids=[ada.pk])

    assert SegmentMembership.objects.filter(profile=ada, exited_at__isnull=True).count() == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_a_worker_the_track_call_reaches_the_segment(celery_worker):
    """/v1/track, then a real Celery worker on Redis processes the event and evaluates the
    real-time segment (bench/segments.py measures the latency; here: it happens)."""
    _, issued = source_create(name="web", actor=Actor(user_id=None, label="test"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(issued.plain))
    _seed(client)
    assert wait_until(
        lambda: Profile.objects.filter(identifiers__value="u-other").exists(), timeout=20
    ), list(Event.objects.values_list("status", "error", "attempts"))
    segment = _realtime_segment()

    started = time.monotonic()
    client.post(
        "/v1/track",
        {
            "userId": "u-ada",
            "event": "Order Completed",
            "properties": {"order_id": "o1", "total": 120},
        },
        format="json",
    )
    assert wait_until(
        lambda: SegmentMembership.objects.filter(segment=segment).exists(), timeout=20
    )
    assert time.monotonic() - started < 10
