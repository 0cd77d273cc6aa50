"""ML segments in a real browser: a marketer starts a clustering run, follows its progress,
reads the elbow and silhouette charts and the cluster profiles, renames a cluster, and picks
it as a campaign's audience."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cdp.core.roles import MARKETER
from segments.models import Cluster, ModelRun, Segment
from tests.segments.ml_data import population

pytestmark = pytest.mark.django_db(transaction=True)


def test_marketer_clusters_renames_and_targets_a_cluster(page, live_server, staff_user, login):
    population(per_group=40)
    login(page, staff_user(MARKETER, "marketer"))

    page.get_by_role("link", name="Clustering runs").click()
    page.get_by_role("link", name="Add clustering or model run").click()
    expect(page.locator("h1")).to_have_text("Start a clustering run")
    page.fill("#id_name", "Shoppers")
    page.select_option("#id_algorithm", "kmeans")
    for feature in ("orders_count", "lifetime_value", "sessions_30d", "recency_days"):
        page.check(f"#use_{feature}")
    page.click("#start-run")

    # The progress bar polls the run row until it finishes, then the page shows the results.
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("#run-percent")).to_have_text("100")
    expect(page.locator("#metric-k")).to_have_text("3")
    for chart in ("#chart-elbow", "#chart-silhouette", "#chart-pca"):
        expect(page.locator(chart)).to_have_attribute("data-rendered", "true")
    expect(page.locator("#pipeline-steps")).to_contain_text("lifetime_value: median imputation")
    rows = page.locator("#cluster-profiles tr.cluster-row")
    expect(rows).to_have_count(3)
    expect(page.locator("#cluster-kpis")).to_contain_text("Repeat purchase rate")

    run = ModelRun.objects.get()
    biggest = Cluster.objects.filter(run=run).order_by("-profile__z_scores__lifetime_value").first()
    row = page.locator(f"#cluster-profiles tr.cluster-row[data-index='{biggest.index}']")
    row.locator("input[name=name]").fill("VIP spenders")
    row.get_by_role("button", name="Rename").click()
    expect(page.locator(".messagelist")).to_contain_text("Renamed to “VIP spenders”")
    expect(row.locator(".cluster-name")).to_contain_text("VIP spenders")
    segment = Segment.objects.get(pk=biggest.segment_id)
    assert segment.name == "Shoppers: VIP spenders"
    assert segment.size == 40

    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    audience = page.locator("#id_segment_id")
    expect(audience.locator("option", has_text="Shoppers: VIP spenders")).to_have_count(1)
    audience.select_option(label="Shoppers: VIP spenders")
    page.fill("#id_name", "Thank our VIPs")
    page.select_option("#id_trigger", "segment_entry")  # when someone enters the cluster
    page.get_by_role("button", name="Add another Variant").click()
    page.fill("#id_variants-0-key", "a")
    page.fill("#id_variants-0-subject", "Thank you")
    page.fill("#id_variants-0-body_text", "You are one of our best customers.")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("Thank our VIPs")
    page.get_by_role("link", name="Thank our VIPs").first.wait_for()
    expect(page.locator("#result_list")).to_contain_text("Shoppers: VIP spenders")
