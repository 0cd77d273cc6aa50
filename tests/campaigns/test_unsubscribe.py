"""Public recipient pages: one-click unsubscribe (RFC 8058) and the preference page, both
writing to the consent ledger; no login, signed tokens."""

from datetime import UTC, datetime, timedelta

from django.core import mail

import pytest
import time_machine

from campaigns.services.tokens import token_make
from consent.models import ConsentEvent
from consent.public import consent_allows

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def mailed(make_campaign, person, track):
    """A person who received one campaign email; returns (profile id, unsubscribe path)."""
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        make_campaign(trigger_event="Product Viewed")
    with time_machine.travel(T0, tick=False):
        profile_id = person("ada")
        track("ada", "Product Viewed")
    url = mail.outbox[0].extra_headers["List-Unsubscribe"][1:-1]
    return profile_id, url.removeprefix("http://127.0.0.1:8000")


def test_one_click_post_withdraws_the_purpose_with_evidence(mailed, client):
    profile_id, path = mailed

    response = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        HTTP_USER_AGENT="MailProvider/1.0",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 200
    assert consent_allows(profile_id=profile_id, purpose_key="email_marketing") is False
    entry = ConsentEvent.objects.filter(source="unsubscribe").get()
    assert (entry.profile_id, entry.purpose.key, entry.is_granted) == (
        profile_id,
        "email_marketing",
        False,
    )
    assert entry.evidence["method"] == "one_click"
    assert entry.evidence["ip"] == "203.0.113.9"
    assert entry.evidence["user_agent"] == "MailProvider/1.0"


def test_a_get_only_asks_and_changes_nothing(mailed, client):
    profile_id, path = mailed
    before = ConsentEvent.objects.count()

    response = client.get(path)

    assert response.status_code == 200
    assert b'id="unsubscribe-confirm"' in response.content
    assert ConsentEvent.objects.count() == before
    assert consent_allows(profile_id=profile_id, purpose_key="email_marketing") is True


def test_unsubscribing_twice_records_one_withdrawal(mailed, client):
    _, path = mailed

    for _ in range(2):
        assert client.post(path).status_code == 200

    assert ConsentEvent.objects.filter(source="unsubscribe").count() == 1


def test_a_forged_token_is_refused_and_changes_nothing(mailed, client):
    _, path = mailed
    before = ConsentEvent.objects.count()

    response = client.post(path[:-3] + "xx/")

    assert response.status_code == 404
    assert ConsentEvent.objects.count() == before


def test_the_preference_page_shows_and_saves_each_purpose(mailed, client):
    profile_id, path = mailed
    token = path.split("/")[2]
    page = f"/preferences/{token}/"

    shown = client.get(page)
    assert shown.status_code == 200
    assert b'value="email_marketing" checked' in shown.content
    assert b'value="advertising">' in shown.content

    saved = client.post(page, {"purpose": ["advertising"]}, REMOTE_ADDR="198.51.100.2")

    assert saved.status_code == 200
    assert b'id="preferences-saved"' in saved.content
    assert consent_allows(profile_id=profile_id, purpose_key="advertising") is True
    assert consent_allows(profile_id=profile_id, purpose_key="email_marketing") is False
    entries = ConsentEvent.objects.filter(source="preferences").order_by("purpose__key")
    assert [(entry.purpose.key, entry.is_granted) for entry in entries] == [
        ("advertising", True),
        ("email_marketing", False),
    ]
    assert entries[0].evidence["method"] == "preference_page"


def test_a_token_for_an_unknown_profile_is_refused(db, client):
    token = token_make(profile_id=999_999, campaign_id=1, delivery_id="x")

    assert client.get(f"/preferences/{token}/").status_code == 404
    assert client.post(f"/u/{token}/").status_code == 404
    assert ConsentEvent.objects.count() == 0
