"""Spine in a real browser: role homes, profile search and timeline, a file import."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cdp.core.actor import Actor
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER
from profiles.services.ingest import events_ingest
from profiles.services.sources import source_create

pytestmark = pytest.mark.django_db(transaction=True)

HOME_LINK = {
    MARKETER: "Profiles",
    PRIVACY_OFFICER: "Profiles",
    INTEGRATION_ADMIN: "Sources and write keys",
}


@pytest.mark.parametrize("role", [MARKETER, PRIVACY_OFFICER, INTEGRATION_ADMIN])
def test_each_role_logs_in_and_lands_on_its_home_page(page, live_server, staff_user, login, role):
    login(page, staff_user(role, role.lower().replace(" ", "-")))

    home = page.locator(f"section.role-home[data-role='{role}']")
    expect(home.locator("h2")).to_have_text(f"{role} home")
    expect(home.get_by_role("link", name=HOME_LINK[role])).to_be_visible()
    assert page.locator("section.role-home").count() == 1


def test_find_a_profile_by_email_and_open_its_timeline(page, live_server, staff_user, login):
    source, _ = source_create(name="web", actor=Actor(user_id=None, label="test"))
    events_ingest(
        source_id=source.pk,
        messages=[
            {
                "type": "identify",
                "userId": "u1",
                "messageId": "m1",
                "traits": {"email": "grace@example.com", "first_name": "Grace"},
            },
            {
                "type": "track",
                "userId": "u1",
                "event": "Product Viewed",
                "messageId": "m2",
                "properties": {"sku": "SKU-1"},
            },
            {
                "type": "identify",
                "userId": "u2",
                "messageId": "m3",
                "traits": {"email": "other@example.com"},
            },
        ],
    )
    login(page, staff_user(PRIVACY_OFFICER, "officer"))

    page.goto(f"{live_server.url}/admin/profiles/profile/")
    page.fill("#searchbar", "  GRACE@example.com ")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("grace@example.com")
    rows.first.locator("a").first.click()

    timeline = page.locator("#timeline tbody")
    expect(timeline).to_contain_text("Product Viewed")
    expect(timeline).to_contain_text("SKU-1")
    expect(page.locator("#traits")).to_contain_text("Grace")


def test_marketer_sees_masked_identifiers(page, live_server, staff_user, login):
    source, _ = source_create(name="web", actor=Actor(user_id=None, label="test"))
    events_ingest(
        source_id=source.pk,
        messages=[{"type": "identify", "userId": "u1", "traits": {"email": "grace@example.com"}}],
    )
    login(page, staff_user(MARKETER, "marketer"))

    page.goto(f"{live_server.url}/admin/profiles/profile/")
    expect(page.locator("#result_list")).to_contain_text("g***@e***")
    expect(page.locator("#result_list")).not_to_contain_text("grace@example.com")


def test_run_a_file_import_from_the_admin_and_watch_it_finish(
    page, live_server, staff_user, login, tmp_path
):
    source_create(name="crm", kind="crm", actor=Actor(user_id=None, label="test"))
    path = tmp_path / "customers.csv"
    rows = ["CustomerNo,Mail,First"] + [f"C{i},person{i}@example.com,Name{i}" for i in range(40)]
    rows.append("C99,not-an-email,Broken")
    path.write_text("\n".join(rows) + "\n")
    login(page, staff_user(INTEGRATION_ADMIN, "integrator"))

    page.goto(f"{live_server.url}/admin/profiles/importrun/")
    page.get_by_role("link", name="Add file import").click()
    page.select_option("#id_source", label="crm")
    page.select_option("#id_kind", value="crm")
    page.set_input_files("#id_file", str(path))
    page.click("input[type=submit]")

    # CustomerNo is not a canonical column: the mapping step asks for crm_id.
    expect(page.locator("h1")).to_contain_text("Map the columns")
    page.select_option("#map_crm_id", "CustomerNo")
    page.select_option("#map_email", "Mail")
    page.select_option("#map_first_name", "First")
    page.click("input[type=submit]")

    expect(page.locator("#import-state")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator("#import-percent")).to_have_text("100")
    expect(page.locator("#rows-read")).to_have_text("41")
    expect(page.locator("#rows-stored")).to_have_text("40")
    expect(page.locator("#rows-quarantined")).to_have_text("1")
    page.get_by_role("link", name="Quarantined rows of this import").click()
    expect(page.locator("#result_list")).to_contain_text("invalid_email")
