"""Results service: per-person outcomes in SQL (goal within the attribution window, revenue,
pre-period), conversions recorded once, snapshots, and the results API."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.models import Assignment, Conversion, ResultSnapshot
from campaigns.services.results import results_refresh, results_refresh_due

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def experiment(make_campaign, person, track):
    with time_machine.travel(T0 - timedelta(days=40), tick=False):
        campaign = make_campaign(
            holdout_share=0.5, attribution_window_hours=48, min_sample_per_arm=2
        )
        ids = {name: person(name) for name in ("h1", "h2", "a1", "a2")}
    with time_machine.travel(T0 - timedelta(days=3), tick=False):
        track("a2", "Order Completed", order_id="pre-1", total=20, currency="EUR")
    for name, arm in (("h1", "holdout"), ("h2", "holdout"), ("a1", "a"), ("a2", "a")):
        Assignment.objects.create(campaign=campaign, profile_id=ids[name], arm=arm, assigned_at=T0)
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        track("a1", "Order Completed", order_id="o-1", total=50, currency="EUR")
    with time_machine.travel(T0 + timedelta(hours=50), tick=False):
        track("h1", "Order Completed", order_id="o-2", total=80, currency="EUR")  # too late
    return campaign, ids


def test_conversions_and_revenue_count_only_inside_the_window(experiment):
    campaign, ids = experiment

    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        report = results_refresh(campaign_id=campaign.pk).report

    arms = {arm["key"]: arm for arm in report["arms"]}
    assert (arms["a"]["n"], arms["a"]["conversions"], arms["a"]["revenue_mean"]) == (2, 1, 25.0)
    assert (arms["holdout"]["n"], arms["holdout"]["conversions"]) == (2, 0)
    assert arms["holdout"]["revenue_mean"] == 0.0
    conversion = Conversion.objects.get()
    assert (conversion.profile_id, conversion.arm) == (ids["a1"], "a")
    assert conversion.converted_at == T0 + timedelta(hours=5)
    assert report["control"] == "holdout"
    assert report["has_enough_data"] is False  # 1 converter is far from 10
    assert [item["key"] for item in report["comparisons"]] == ["a"]
    assert report["comparisons"][0]["cuped"]["revenue"]["theta"] != 0.0  # pre-period used


def test_refreshing_again_adds_a_snapshot_but_no_conversion(experiment):
    campaign, _ = experiment

    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        results_refresh(campaign_id=campaign.pk)
        assert results_refresh_due() == 1

    assert Conversion.objects.count() == 1
    assert ResultSnapshot.objects.filter(campaign=campaign).count() == 2


def test_the_results_api_returns_the_latest_snapshot(
    experiment, api_client_for, django_assert_max_num_queries
):
    campaign, _ = experiment
    client = api_client_for("Marketer")

    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        first = client.get(f"/api/campaigns/{campaign.pk}/results")
        with django_assert_max_num_queries(8):
            again = client.get(f"/api/campaigns/{campaign.pk}/results")

    assert first.status_code == again.status_code == 200
    assert again.json()["report"]["arms"][0]["key"] == "a"
    assert ResultSnapshot.objects.count() == 1
    assert api_client_for(None).get(f"/api/campaigns/{campaign.pk}/results").status_code == 403
