"""Unmerge restores both profiles exactly — identifiers, events, observations, golden values with
provenance, orders and consent — and keeps the pair apart afterwards; it is audited."""

from __future__ import annotations

import pytest

from cdp.core.actor import Actor
from cdp.core.models import AuditEvent
from consent.models import Purpose
from profiles.models import MatchCandidate, Profile, ProfileMerge
from profiles.services.ingest import events_ingest
from profiles.services.processing import events_process
from profiles.services.review import match_candidate_accept, merge_undo
from profiles.services.sources import source_create

from .identity_data import profile_dump

pytestmark = pytest.mark.django_db

REVIEWER = Actor(user_id=None, label="reviewer")


def _send(source, *messages) -> None:
    stored = events_ingest(source_id=source.pk, messages=list(messages))
    events_process(event_ids=stored.event_ids)


@pytest.fixture
def two_people():
    Purpose.objects.get_or_create(
        key="email_marketing",
        defaults={"name": "Email marketing", "category_aliases": ["email"]},
    )
    shop, _ = source_create(name="shop", kind="shop", trust=40, actor=REVIEWER)
    crm, _ = source_create(name="crm", kind="crm", trust=80, actor=REVIEWER)
    consent = {"consent": {"categoryPreferences": {"email": True}}}
    _send(
        crm,
        {
            "type": "identify",
            "userId": "u-ada",
            "messageId": "c1",
            "timestamp": "2025-01-01T10:00:00Z",
            "traits": {"email": "ada@example.com", "first_name": "Ada", "city": "London"},
            "context": consent,
        },
        {
            "type": "track",
            "userId": "u-ada",
            "event": "Order Completed",
            "messageId": "c2",
            "timestamp": "2025-01-02T10:00:00Z",
            "properties": {"order_id": "O-1", "total": "12.50", "currency": "EUR"},
        },
    )
    _send(
        shop,
        {
            "type": "identify",
            "anonymousId": "anon-9",
            "messageId": "s1",
            "timestamp": "2025-02-01T10:00:00Z",
            "traits": {
                "email": "ada.l@example.org",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "city": "Londres",
            },
            "context": {"consent": {"categoryPreferences": {"email": False}}},
        },
        {
            "type": "page",
            "anonymousId": "anon-9",
            "messageId": "s2",
            "name": "Home",
            "timestamp": "2025-02-03T10:00:00Z",
        },
    )
    ada = Profile.objects.get(identifiers__value="u-ada")
    other = Profile.objects.get(identifiers__value="anon-9")
    candidate = MatchCandidate.objects.create(left=ada, right=other, probability=0.8)
    return ada, other, candidate


def test_unmerge_restores_both_profiles_exactly(two_people, django_capture_on_commit_callbacks):
    ada, other, candidate = two_people
    before = (profile_dump(ada.pk), profile_dump(other.pk))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = match_candidate_accept(candidate_id=candidate.pk, actor=REVIEWER)
    merged = profile_dump(ada.pk)
    assert merged != before[0]
    assert merged["traits"]["last_name"] == "Lovelace"
    assert merged["traits"]["city"] == "London"  # the CRM is trusted more than the shop
    assert len(merged["events"]) == 4

    with django_capture_on_commit_callbacks(execute=True):
        undone = merge_undo(merge_id=outcome.merge_id, actor=REVIEWER)

    assert undone.undone is True
    assert (profile_dump(ada.pk), profile_dump(other.pk)) == before
    assert ProfileMerge.objects.get().undone_by_label == "reviewer"
    assert AuditEvent.objects.filter(action="profiles.profile.unmerge").count() == 1


def test_unmerge_keeps_the_pair_apart_and_a_second_unmerge_changes_nothing(two_people):
    ada, other, candidate = two_people
    outcome = match_candidate_accept(candidate_id=candidate.pk, actor=REVIEWER)
    merge_undo(merge_id=outcome.merge_id, actor=REVIEWER)
    after = (profile_dump(ada.pk), profile_dump(other.pk))

    again = merge_undo(merge_id=outcome.merge_id, actor=REVIEWER)

    assert again.undone is False
    assert (profile_dump(ada.pk), profile_dump(other.pk)) == after
    assert MatchCandidate.objects.get().status == "rejected"
    assert MatchCandidate.objects.get().reason == "unmerged"
    assert AuditEvent.objects.filter(action="profiles.profile.unmerge").count() == 1


def test_unmerge_api_and_merge_history(two_people, api_client_for):
    ada, other, candidate = two_people
    client = api_client_for("Integration admin")
    merge_id = client.post(f"/api/matches/{candidate.pk}/accept").json()["merge_id"]

    history = client.get(f"/api/profiles/{ada.pk}/merges/")
    undone = client.post(f"/api/merges/{merge_id}/unmerge")
    missing = client.post("/api/merges/999999/unmerge")

    assert [row["absorbed_id"] for row in history.json()] == [other.pk]
    assert history.json()[0]["details"]["candidate_id"] == candidate.pk
    assert undone.json() == {"merge_id": merge_id, "restored_id": other.pk, "undone": True}
    assert missing.status_code == 404
    assert Profile.objects.get(pk=other.pk).merged_into_id is None
