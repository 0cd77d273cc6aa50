"""Recorded assignment: 100,000 people split within statistical tolerance, stable across
calls, processes and later weight edits; the SRM check flags a skewed recorded split."""

import subprocess
import sys
from collections import Counter

import pytest

from campaigns.compute.assignment import planned_shares, srm_check
from campaigns.models import Assignment
from campaigns.selectors.campaigns import arm_specs
from campaigns.services.assignment import assignments_ensure
from campaigns.services.definitions import VariantSpec

pytestmark = pytest.mark.django_db

N = 100_000
AB = [
    VariantSpec(key="a", weight=3, subject="s", body_text="t"),
    VariantSpec(key="b", weight=1, subject="s", body_text="t"),
]


def test_a_hundred_thousand_people_are_split_by_weight_and_recorded_once(make_campaign):
    campaign = make_campaign(variants=AB, holdout_share=0.2)
    ids = range(1, N + 1)

    arms = assignments_ensure(campaign=campaign, profile_ids=ids, at=campaign.launched_at)
    again = assignments_ensure(campaign=campaign, profile_ids=ids, at=campaign.launched_at)

    assert arms == again
    assert Assignment.objects.filter(campaign=campaign).count() == N
    counts = Counter(arms.values())
    shares = planned_shares(arm_specs(campaign), 0.2)
    assert not srm_check(counts, shares).has_sample_ratio_mismatch
    assert abs(counts["a"] / N - 0.6) < 0.01
    assert abs(counts["holdout"] / N - 0.2) < 0.01


def test_another_process_computes_the_same_arms(make_campaign):
    campaign = make_campaign(variants=AB, holdout_share=0.2)
    arms = assignments_ensure(campaign=campaign, profile_ids=range(1, 501), at=campaign.launched_at)
    code = (
        "from campaigns.compute.assignment import Variant, assign_many;"
        "arms = [Variant(key='a', weight=3), Variant(key='b', weight=1)];"
        f"print(','.join(assign_many('{campaign.pk}', [str(i) for i in range(1, 501)],"
        f" salt='{campaign.salt}', variants=arms, holdout_share=0.2)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        cwd=".",
    ).stdout.strip()

    assert output.split(",") == [arms[pid] for pid in range(1, 501)]


def test_recorded_arms_survive_a_weight_change(make_campaign):
    campaign = make_campaign(variants=AB, holdout_share=0.2, launch=False)
    before = assignments_ensure(
        campaign=campaign, profile_ids=range(1, 2001), at=campaign.created_at
    )
    campaign.variants.filter(key="a").update(weight=1)
    campaign.refresh_from_db()

    after = assignments_ensure(
        campaign=campaign, profile_ids=range(1, 2001), at=campaign.created_at
    )

    assert after == before


def test_the_srm_check_flags_a_skewed_recorded_split(make_campaign):
    campaign = make_campaign(variants=AB, holdout_share=0.2)
    Assignment.objects.bulk_create(
        [
            Assignment(campaign=campaign, profile_id=pid, arm="a" if pid % 2 else "b")
            for pid in range(1, 20_001)
        ]
    )
    counts = Counter(Assignment.objects.filter(campaign=campaign).values_list("arm", flat=True))
    shares = planned_shares(arm_specs(campaign), 0.2)

    result = srm_check({**dict.fromkeys(shares, 0), **counts}, shares)

    assert result.has_sample_ratio_mismatch
