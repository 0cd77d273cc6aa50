"""Batch scoring onto profiles: RFM scores against a straightforward reference computation,
RFM segments, lifecycle stages (with configurable thresholds), the ready-made RFM segments,
and the nightly jobs' progress rows."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
import time_machine

from cdp.core.models import JobRun
from profiles.models import ComputedTraits, Profile
from segments.compute.rfm import rfm_segment
from segments.models import Segment, SegmentMembership
from segments.services.refresh import segment_refresh
from segments.services.scoring import computed_traits_recompute_job, rfm_rescore, rfm_rescore_job

from . import builders as b

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def buyers():
    rng = random.Random(7)
    people = []
    for _ in range(23):
        who = b.profile()
        for _ in range(rng.randint(1, 6)):
            b.order(
                who,
                b.NOW - rng.randint(1, 400) * DAY - rng.randint(0, 3600) * timedelta(seconds=1),
                rng.randint(5, 500),
            )
        people.append(who)
    b.order(people[0], b.NOW - 3 * DAY, 1000.0, status="refunded")  # does not count
    prospect = b.profile()
    merged = b.profile()
    b.order(merged, b.NOW - DAY, 50.0)
    merged.merged_into = people[1]
    merged.save()
    b.finish(b.NOW)
    return people, prospect


def _reference_scores(people):
    """RFM by hand: rank buyers by each value (recency: most recent best), ties by profile id,
    the k-th of n gets ceil(5k/n)."""
    rows = []
    for who in people:
        orders = list(who.orders.filter(status="completed").values_list("placed_at", "total_base"))
        last = max(at for at, _ in orders)
        rows.append(
            {
                "id": who.pk,
                "recency": (b.NOW - last).total_seconds(),
                "frequency": len(orders),
                "monetary": float(sum(total for _, total in orders)),
            }
        )
    n = len(rows)
    scores = {row["id"]: {} for row in rows}
    for name, key in (
        ("r", lambda r: (-r["recency"], r["id"])),
        ("f", lambda r: (r["frequency"], r["id"])),
        ("m", lambda r: (r["monetary"], r["id"])),
    ):
        for rank, row in enumerate(sorted(rows, key=key), start=1):
            scores[row["id"]][name] = math.ceil(rank * 5 / n)
    return scores


def test_rfm_scores_match_a_straightforward_reference(buyers):
    people, prospect = buyers

    written = rfm_rescore(now=b.NOW)

    assert written == 24  # 23 buyers + 1 prospect; the merged profile is not a person now
    expected = _reference_scores(people)
    for who in people:
        row = ComputedTraits.objects.get(profile=who)
        want = expected[who.pk]
        assert (row.r_score, row.f_score, row.m_score) == (want["r"], want["f"], want["m"]), who.pk
        assert row.rfm_segment == rfm_segment(want["r"], want["f"], want["m"])
        assert row.scored_at == b.NOW
    quiet = ComputedTraits.objects.get(profile=prospect)
    assert (quiet.r_score, quiet.rfm_segment, quiet.lifecycle_stage) == (None, "", "prospect")


@pytest.mark.parametrize(
    ("_case", "days_ago", "orders", "thresholds", "stage"),
    [
        ("_new", [5], 1, {}, "new"),
        ("_active", [40, 60], 2, {}, "active"),
        ("_loyal", [40, 50, 60, 70, 80], 5, {}, "loyal"),
        ("_at_risk", [100], 1, {}, "at_risk"),
        ("_lapsed", [200], 1, {}, "lapsed"),
        ("_configured_lapsed_sooner", [100], 1, {"active_days": 60, "lapsed_days": 90}, "lapsed"),
    ],
)
def test_lifecycle_stages_follow_the_thresholds(
    settings, _case, days_ago, orders, thresholds, stage
):
    settings.CDP_LIFECYCLE_THRESHOLDS = thresholds
    who = b.profile()
    for days in days_ago:
        b.order(who, b.NOW - days * DAY, 20.0)
    b.finish(b.NOW)

    rfm_rescore(now=b.NOW)

    assert ComputedTraits.objects.get(profile=who).lifecycle_stage == stage


def test_ready_made_rfm_segments_take_their_members_after_scoring(buyers):
    rfm_rescore(now=b.NOW)
    champions = Segment.objects.get(name="RFM: Champions")

    with time_machine.travel(b.NOW, tick=False):
        segment_refresh(segment_id=champions.pk)

    expected = set(
        ComputedTraits.objects.filter(rfm_segment="Champions").values_list("profile_id", flat=True)
    )
    assert expected
    assert (
        set(
            SegmentMembership.objects.filter(segment=champions, exited_at__isnull=True).values_list(
                "profile_id", flat=True
            )
        )
        == expected
    )
    assert Segment.objects.filter(origin="rfm").count() == 11


@pytest.mark.usefixtures("buyers")
def test_nightly_jobs_record_progress_and_are_idempotent():
    with time_machine.travel(b.NOW, tick=False):
        first = computed_traits_recompute_job()
        before = list(
            ComputedTraits.objects.order_by("pk").values_list(
                "profile_id", "orders_count", "lifetime_value"
            )
        )
        second = computed_traits_recompute_job()
        scored = rfm_rescore_job()

    assert (first.state, first.progress_done, first.progress_total) == ("succeeded", 24, 24)
    assert second.result == {"profiles": 24}
    assert (
        list(
            ComputedTraits.objects.order_by("pk").values_list(
                "profile_id", "orders_count", "lifetime_value"
            )
        )
        == before
    )
    assert (scored.state, scored.kind) == ("succeeded", "rfm_rescore")
    assert JobRun.objects.count() == 3
    assert Profile.objects.filter(merged_into__isnull=True).count() == 24
