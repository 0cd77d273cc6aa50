"""Merge review: accept and reject are applied once however often they are clicked; roles; API."""

from __future__ import annotations

import pytest

from cdp.core.actor import Actor
from cdp.core.errors import ConflictError
from cdp.core.models import AuditEvent
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER
from profiles.models import MatchCandidate, Profile, ProfileMerge
from profiles.services.ingest import events_ingest
from profiles.services.processing import events_process
from profiles.services.review import match_candidate_accept, match_candidate_reject

pytestmark = pytest.mark.django_db

REVIEWER = Actor(user_id=None, label="reviewer")


def _person(source, user_id: str, **traits) -> Profile:
    stored = events_ingest(
        source_id=source.pk,
        messages=[{"type": "identify", "userId": user_id, "traits": traits}],
    )
    events_process(event_ids=stored.event_ids)
    return Profile.objects.get(identifiers__type="user_id", identifiers__value=user_id)


@pytest.fixture
def pair(source_and_key):
    source, _ = source_and_key
    ada = _person(source, "u1", first_name="Ada", last_name="Lovelace", email="ada@a.example")
    other = _person(source, "u2", first_name="Ada", last_name="Lovelace", email="al@b.example")
    candidate = MatchCandidate.objects.create(
        left=ada,
        right=other,
        probability=0.9,
        match_weight=3.2,
        reason="between_thresholds",
        contributions={
            "first_name": {"level": "exact", "weight": 6.1},
            "last_name": {"level": "exact", "weight": 9.0},
            "email": {"level": "else", "weight": -4.2},
            "names_swapped": False,
        },
    )
    return ada, other, candidate


def test_accept_merges_the_pair_once_even_if_clicked_twice(
    pair, django_capture_on_commit_callbacks
):
    ada, other, candidate = pair

    with django_capture_on_commit_callbacks(execute=True):
        first = match_candidate_accept(candidate_id=candidate.pk, actor=REVIEWER)
        second = match_candidate_accept(candidate_id=candidate.pk, actor=REVIEWER)

    merge = ProfileMerge.objects.get()
    assert (merge.survivor_id, merge.absorbed_id) == (ada.pk, other.pk)
    assert merge.details["candidate_id"] == candidate.pk
    assert merge.details["contributions"]["last_name"] == {"level": "exact", "weight": 9.0}
    assert (first.changed, second.changed) == (True, False)
    assert first.merge_id == second.merge_id == merge.pk
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by_label) == ("accepted", "reviewer")
    assert AuditEvent.objects.filter(action="profiles.match.accept").count() == 1
    assert Profile.objects.get(pk=other.pk).merged_into_id == ada.pk


def test_reject_keeps_the_pair_apart_and_is_idempotent(pair):
    _ada, _other, candidate = pair

    first = match_candidate_reject(candidate_id=candidate.pk, actor=REVIEWER)
    second = match_candidate_reject(candidate_id=candidate.pk, actor=REVIEWER)

    assert (first.changed, second.changed) == (True, False)
    assert MatchCandidate.objects.get().status == "rejected"
    assert not ProfileMerge.objects.exists()
    assert AuditEvent.objects.filter(action="profiles.match.reject").count() == 1


@pytest.mark.parametrize(
    ("_case", "first", "then"),
    [
        ("accept_after_reject", match_candidate_reject, match_candidate_accept),
        ("reject_after_accept", match_candidate_accept, match_candidate_reject),
    ],
)
def test_a_decided_pair_cannot_be_decided_the_other_way(pair, _case, first, then):
    _, _, candidate = pair
    first(candidate_id=candidate.pk, actor=REVIEWER)
    merges = ProfileMerge.objects.count()

    with pytest.raises(ConflictError):
        then(candidate_id=candidate.pk, actor=REVIEWER)

    assert ProfileMerge.objects.count() == merges


def test_accepting_a_pair_already_joined_by_another_merge_merges_nothing(pair, source_and_key):
    ada, other, candidate = pair
    source, _ = source_and_key
    third = _person(source, "u3", first_name="Ada", last_name="Lovelace")
    second = MatchCandidate.objects.create(left=other, right=third, probability=0.8)
    match_candidate_accept(candidate_id=candidate.pk, actor=REVIEWER)
    follow_up = MatchCandidate.objects.create(left=ada, right=third, probability=0.8)
    match_candidate_accept(candidate_id=second.pk, actor=REVIEWER)  # other -> ada's survivor

    outcome = match_candidate_accept(candidate_id=follow_up.pk, actor=REVIEWER)

    assert outcome.merge_id is None
    assert ProfileMerge.objects.count() == 2
    assert set(Profile.objects.filter(merged_into=ada).values_list("pk", flat=True)) == {
        other.pk,
        third.pk,
    }


def test_review_api_lists_details_and_decides(pair, api_client_for, django_assert_max_num_queries):
    ada, _other, candidate = pair
    client = api_client_for(INTEGRATION_ADMIN)
    for number in range(5):
        extra = Profile.objects.create(traits={"first_name": f"X{number}"})
        MatchCandidate.objects.create(left=ada, right=extra, probability=0.6 + number / 100)

    with django_assert_max_num_queries(8):
        listing = client.get("/api/matches/")
    detail = client.get(f"/api/matches/{candidate.pk}/")
    accepted = client.post(f"/api/matches/{candidate.pk}/accept")
    again = client.post(f"/api/matches/{candidate.pk}/accept")
    rejected_after = client.post(f"/api/matches/{candidate.pk}/reject")

    assert listing.status_code == 200
    assert listing.json()["count"] == 6
    assert listing.json()["results"][0]["id"] == candidate.pk
    assert detail.status_code == 200
    fields = {row["name"]: row for row in detail.json()["fields"]}
    assert fields["email"] == {
        "name": "email",
        "left": "ada@a.example",
        "right": "al@b.example",
        "level": "else",
        "weight": -4.2,
    }
    assert accepted.json()["changed"] is True
    assert again.json() == {**accepted.json(), "changed": False}
    assert rejected_after.status_code == 409
    assert rejected_after.json()["error"]["code"] == "already_decided"
    assert ProfileMerge.objects.count() == 1
    assert AuditEvent.objects.filter(action="profiles.match.view").count() == 1


def test_roles_without_review_rights_cannot_see_or_decide(pair, api_client_for):
    _, _, candidate = pair
    client = api_client_for(MARKETER)

    responses = [
        client.get("/api/matches/"),
        client.get(f"/api/matches/{candidate.pk}/"),
        client.post(f"/api/matches/{candidate.pk}/accept"),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert MatchCandidate.objects.get().status == "pending"
    assert not ProfileMerge.objects.exists()


def test_admin_pages_render_for_a_reviewer_and_are_closed_to_others(pair, client, make_user):
    _, _, candidate = pair
    client.force_login(make_user(INTEGRATION_ADMIN, "reviewer"))
    pages = [
        "/admin/profiles/matchcandidate/",
        f"/admin/profiles/matchcandidate/{candidate.pk}/review/",
        "/admin/profiles/resolutionrun/add/",
        "/admin/profiles/trackingviolation/",
        "/admin/profiles/survivorshiprule/",
    ]

    answers = [client.get(url) for url in pages]
    client.force_login(make_user(MARKETER, "marketer"))
    refused = client.get(f"/admin/profiles/matchcandidate/{candidate.pk}/review/")

    assert [answer.status_code for answer in answers] == [200] * len(pages)
    assert b'data-chart="contribution-config"' in answers[1].content
    assert refused.status_code in (302, 403)
    assert MatchCandidate.objects.get().status == "pending"
