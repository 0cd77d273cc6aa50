"""Admin pages: the builder (marketers only), the segment list with freshness, role-home links,
and the segments section of the profile page (memberships with history, explain)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

import pytest

from cdp.core.roles import INTEGRATION_ADMIN, MARKETER
from segments.models import Segment, SegmentMembership

from . import builders as b

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(make_user):
    def make(role):
        client = Client()
        client.force_login(make_user(role))
        return client

    return make


@pytest.fixture
def germans():
    ada = b.profile({"country": "DE", "email": "ada@example.com"})
    b.finish(b.NOW)
    segment = Segment.objects.create(
        name="Germans",
        rule_tree={"all": [{"type": "trait", "trait": "country", "op": "eq", "value": "DE"}]},
        last_refreshed_at=b.NOW,
        next_refresh_at=b.NOW + timedelta(hours=1),
    )
    SegmentMembership.objects.create(
        segment=segment, profile=ada, entered_at=b.NOW, entered_by="refresh"
    )
    old = Segment.objects.create(name="Old", rule_tree={"all": []})
    SegmentMembership.objects.create(
        segment=old, profile=ada, entered_at=b.NOW - timedelta(days=9), exited_at=b.NOW,
        entered_by="refresh", exited_by="refresh",
    )  # fmt: skip
    return segment, ada


def test_the_builder_is_for_marketers(germans, client_for):
    segment, _ = germans

    marketer = client_for(MARKETER)
    new = marketer.get("/admin/segments/segment/builder/")
    edit = marketer.get(f"/admin/segments/segment/{segment.pk}/builder/")
    refused = client_for(INTEGRATION_ADMIN).get("/admin/segments/segment/builder/")

    assert new.status_code == 200
    assert new.context["builder"]["tree"] == {"all": []}
    assert edit.status_code == 200
    assert edit.context["builder"]["tree"] == segment.rule_tree
    assert "country" in [trait["name"] for trait in edit.context["builder"]["catalogue"]["traits"]]
    assert refused.status_code == 403


def test_the_list_shows_freshness_and_the_home_page_links_the_builder(germans, client_for):
    client = client_for(MARKETER)

    listing = client.get("/admin/segments/segment/")
    home = client.get("/admin/")

    assert listing.status_code == 200
    assert "refreshed" in listing.content.decode()
    assert "/admin/segments/segment/builder/" in home.content.decode()


def test_the_profile_page_shows_memberships_and_explains_one(germans, client_for):
    segment, ada = germans

    response = client_for(MARKETER).get(
        f"/admin/profiles/profile/{ada.pk}/change/?explain={segment.pk}"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="profile-segments"' in html
    assert "member now" in html
    assert "Old" in html
    assert 'id="explain-verdict" data-member="true"' in html
    assert 'data-path="0" data-matched="true"' in html
    assert "country eq DE" in html
