"""The segment builder in a real browser: a marketer composes nested conditions, watches the
count change, saves the segment, sees its members and size chart, and downloads the members."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.utils import timezone

import pytest
from playwright.sync_api import expect

from cdp.core.roles import MARKETER
from segments.models import Segment, SegmentMembership
from tests.segments import builders as b

pytestmark = pytest.mark.django_db(transaction=True)

DAY = timedelta(days=1)


@pytest.fixture
def shoppers():
    """Five people: three Germans (two of them buyers), a French buyer, an American."""
    now = timezone.now()
    people = {
        "ada": b.profile({"country": "DE", "email": "ada@example.com", "first_name": "Ada"}),
        "bea": b.profile({"country": "DE", "email": "bea@example.com"}),
        "cem": b.profile({"country": "DE"}),
        "dan": b.profile({"country": "FR"}),
        "eve": b.profile({"country": "US"}),
    }
    for name in ("ada", "bea", "dan"):
        b.event(people[name], "Order Completed", now - 3 * DAY, {"total": 80})
    b.event(people["ada"], "Order Completed", now - 2 * DAY, {"total": 20})
    b.finish(now)
    return people


def _count(page):
    return page.locator("#segment-count[data-state=ready]")


def test_marketer_builds_a_nested_segment_saves_it_and_downloads_its_members(
    page, live_server, staff_user, login, shoppers
):
    login(page, staff_user(MARKETER, "marketer"))
    page.goto(f"{live_server.url}/admin/segments/segment/builder/")
    expect(_count(page)).to_have_text("5")

    root = page.locator("#rule-tree > .rule-group")
    root.locator(":scope > .group-head .add-condition").click()
    condition = root.locator(":scope > .group-children > .rule-condition").first
    condition.locator(".trait-name").select_option("country")
    condition.locator(".op").select_option("eq")
    condition.locator(".value").fill("DE")
    expect(_count(page)).to_have_text("3")

    # A nested "any of" group: bought at least twice, or bought something over 50.
    root.locator(":scope > .group-head .add-group").click()
    group = root.locator(":scope > .group-children > .rule-group")
    group.locator(":scope > .group-head .group-mode").select_option("any")
    group.locator(":scope > .group-head .add-condition").click()
    twice = group.locator(".rule-condition").nth(0)
    twice.locator(".condition-type").select_option("event")
    twice = group.locator(".rule-condition").nth(0)
    twice.locator(".event-name").select_option("Order Completed")
    twice.locator(".count-op").select_option("gte")
    twice.locator(".count-value").fill("2")
    expect(_count(page)).to_have_text("1")
    group.locator(":scope > .group-head .add-condition").click()
    big = group.locator(".rule-condition").nth(1)
    big.locator(".condition-type").select_option("event")
    big = group.locator(".rule-condition").nth(1)
    big.locator(".event-name").select_option("Order Completed")
    big.locator(".add-where").click()
    big.locator(".where-property").select_option("total")
    big.locator(".where-clause .op").select_option("gt")
    big.locator(".where-clause .value").fill("50")
    expect(_count(page)).to_have_text("2")
    expect(page.locator("#realtime-verdict")).to_have_attribute("data-capable", "true")

    page.fill("#segment-name", "German buyers")
    page.click("#save-segment")
    expect(page.locator("h1")).to_contain_text("German buyers")
    expect(page.locator("#segment-size")).to_have_text("2")
    expect(page.locator("#size-chart")).to_have_attribute("data-rendered", "true")
    segment = Segment.objects.get(name="German buyers")
    assert segment.rule_tree["all"][1]["any"][1]["where"] == [
        {"property": "total", "op": "gt", "value": 50}
    ]
    assert sorted(
        SegmentMembership.objects.filter(segment=segment).values_list("profile_id", flat=True)
    ) == sorted([shoppers["ada"].pk, shoppers["bea"].pk])

    with page.expect_download() as download:
        page.click("#export-members")
    text = download.value.path().read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["profile_id", "entered_at", "email"]
    assert sorted(row[0] for row in rows[1:]) == sorted(
        [str(shoppers["ada"].pk), str(shoppers["bea"].pk)]
    )
    assert "ada@example.com" not in text  # masked for the marketer


def test_an_invalid_condition_shows_the_issue_instead_of_a_count(
    page, live_server, staff_user, login, shoppers
):
    login(page, staff_user(MARKETER, "marketer"))
    page.goto(f"{live_server.url}/admin/segments/segment/builder/")
    expect(_count(page)).to_have_text("5")
    root = page.locator("#rule-tree > .rule-group")
    root.locator(":scope > .group-head .add-condition").click()
    condition = root.locator(".rule-condition").first
    condition.locator(".condition-type").select_option("computed")
    condition = root.locator(".rule-condition").first
    condition.locator(".computed-name").select_option("orders_90d")
    condition.locator(".op").select_option("gte")
    condition.locator(".value").fill("lots")

    expect(page.locator("#preview-errors")).to_contain_text("0: gte needs a number value")
    expect(page.locator("#segment-count")).to_have_text("—")
