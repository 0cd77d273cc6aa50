"""Merge review in a real browser: open the queue, read the score breakdown, accept the pair,
see the merged profile, unmerge it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cdp.core.actor import Actor
from cdp.core.roles import INTEGRATION_ADMIN
from profiles.models import MatchCandidate, Profile, ProfileMerge
from profiles.services.ingest import events_ingest
from profiles.services.sources import source_create

pytestmark = pytest.mark.django_db(transaction=True)


def _person(source, user_id: str, **traits) -> Profile:
    events_ingest(
        source_id=source.pk, messages=[{"type": "identify", "userId": user_id, "traits": traits}]
    )
    return Profile.objects.get(identifiers__type="user_id", identifiers__value=user_id)


def test_reviewer_accepts_a_pair_and_unmerges_it(page, live_server, staff_user, login):
    source, _ = source_create(name="crm", kind="crm", actor=Actor(user_id=None, label="test"))
    ada = _person(source, "u1", first_name="Ada", last_name="Lovelace", email="ada@a.example")
    other = _person(source, "u2", first_name="Ada", last_name="Lovelace", email="al@b.example")
    candidate = MatchCandidate.objects.create(
        left=ada,
        right=other,
        probability=0.93,
        match_weight=3.8,
        reason="between_thresholds",
        contributions={
            "first_name": {"level": "exact", "weight": 6.2},
            "last_name": {"level": "exact", "weight": 9.1},
            "email": {"level": "else", "weight": -4.4},
            "names_swapped": False,
        },
    )
    login(page, staff_user(INTEGRATION_ADMIN, "reviewer"))

    page.get_by_role("link", name="Merge review").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("0.9300")
    rows.first.get_by_role("link", name=f"{ada.pk} ~ {other.pk}").click()

    expect(page.locator("#match-probability")).to_have_text("0.9300")
    expect(page.locator("#comparison tr[data-field='email'] .weight")).to_have_text("-4.40")
    expect(page.locator("#comparison tr[data-field='email']")).to_contain_text("al@b.example")
    expect(page.locator("#contribution-chart")).to_have_attribute("data-rendered", "true")
    page.click("#accept-button")

    expect(page.locator("#profile-page")).to_have_attribute("data-profile", str(ada.pk))
    expect(page.locator("ul.messagelist")).to_contain_text(f"Merged into profile {ada.pk}")
    expect(page.locator("#identifiers")).to_contain_text("al@b.example")
    merge = ProfileMerge.objects.get()
    history = page.locator(f"#merges tr[data-merge='{merge.pk}']")
    expect(history).to_contain_text(str(other.pk))
    page.once("dialog", lambda dialog: dialog.accept())
    history.locator("input.unmerge-button").click()

    expect(page.locator("ul.messagelist")).to_contain_text(f"profile {other.pk} stands alone")
    expect(page.locator("#identifiers")).not_to_contain_text("al@b.example")
    expect(history.locator("input.unmerge-button")).to_have_count(0)
    assert Profile.objects.get(pk=other.pk).merged_into_id is None
    candidate.refresh_from_db()
    assert (candidate.status, candidate.reason) == ("rejected", "unmerged")  # kept apart now
