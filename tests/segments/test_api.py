"""The segments API: CRUD with validation errors, preview, members (paginated and CSV),
explain, history, overlap, uploads, permissions and query budgets."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine

from cdp.core.models import AuditEvent
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER
from segments.models import Segment, SegmentMembership

from . import builders as b

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
GERMANS = {"all": [{"type": "trait", "trait": "country", "op": "eq", "value": "DE"}]}


@pytest.fixture
def people():
    ada = b.profile({"country": "DE", "email": "ada@example.com", "first_name": "Ada"})
    bob = b.profile({"country": "DE", "email": "bob@example.com"})
    cyd = b.profile({"country": "FR"})
    b.event(ada, "Order Completed", b.NOW - 2 * DAY, {"total": 50})
    b.finish(b.NOW)
    return ada, bob, cyd


@pytest.fixture
def marketer(api_client_for):
    return api_client_for(MARKETER)


@pytest.fixture
def frozen():
    with time_machine.travel(b.NOW, tick=False):
        yield


def _create(client, tree=GERMANS, **extra):
    body = {"name": "Germans", "rule_tree": tree, **extra}
    return client.post("/api/segments/", body, format="json")


def test_create_refreshes_the_new_segment_and_records_members(
    people, marketer, frozen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _create(marketer)

    assert response.status_code == 201
    segment = Segment.objects.get(name="Germans")
    assert response.json()["id"] == segment.pk
    assert sorted(
        SegmentMembership.objects.filter(segment=segment).values_list("profile_id", flat=True)
    ) == sorted([people[0].pk, people[1].pk])
    assert segment.size == 2
    assert segment.next_refresh_at == b.NOW.replace(minute=0, second=0) + timedelta(hours=1)
    assert AuditEvent.objects.filter(action="segments.segment.create").count() == 1


@pytest.mark.parametrize(
    ("_case", "tree", "code"),
    [
        (
            "_unknown_trait",
            {"all": [{"type": "trait", "trait": "shoe_size", "op": "eq", "value": "x"}]},
            "unknown_trait",
        ),
        (
            "_wrong_type",
            {"all": [{"type": "trait", "trait": "country", "op": "gt", "value": 3}]},
            "wrong_type",
        ),
        (
            "_bad_value",
            {"all": [{"type": "computed", "trait": "orders_90d", "op": "gte", "value": "many"}]},
            "bad_value",
        ),
        ("_unknown_event", {"all": [{"type": "event", "event": "Teleported"}]}, "unknown_event"),
        ("_unknown_segment", {"all": [{"type": "segment", "segment_id": 999}]}, "unknown_segment"),
    ],
)
def test_invalid_trees_are_refused_with_every_issue_and_nothing_is_created(
    people, marketer, _case, tree, code
):
    response = _create(marketer, tree)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_rule_tree"
    assert [issue["code"] for issue in error["details"]["issues"]] == [code]
    assert error["details"]["issues"][0]["path"] == "0"
    assert not Segment.objects.filter(origin="rules").exists()


def test_a_cycle_between_segments_is_refused(people, marketer):
    first = _create(marketer).json()["id"]
    second = marketer.post(
        "/api/segments/",
        {"name": "In Germans", "rule_tree": {"all": [{"type": "segment", "segment_id": first}]}},
        format="json",
    ).json()["id"]

    response = marketer.put(
        f"/api/segments/{first}/",
        {"name": "Germans", "rule_tree": {"all": [{"type": "segment", "segment_id": second}]}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "segment_cycle"
    assert response.json()["error"]["details"]["cycle"] == [first, second, first]
    assert Segment.objects.get(pk=first).rule_tree == GERMANS


def test_realtime_is_refused_for_batch_scored_traits(people, marketer):
    tree = {"all": [{"type": "computed", "trait": "rfm_segment", "op": "eq", "value": "Champions"}]}

    response = _create(marketer, tree, is_realtime=True)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_realtime_capable"
    assert not Segment.objects.filter(name="Germans").exists()


def test_preview_counts_samples_and_judges_realtime(people, marketer, frozen):
    tree = {
        "all": [
            *GERMANS["all"],
            {"type": "event", "event": "Order Completed", "within_days": 30},
        ]
    }

    response = marketer.post("/api/segments/preview/", {"rule_tree": tree}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["sample"]) == (1, [people[0].pk])
    assert body["is_realtime_capable"] is True
    assert body["realtime_notes"] == [
        "condition 1: leaving the time window is seen at the scheduled refresh"
    ]


def test_preview_of_an_invalid_tree_lists_the_issues(people, marketer):
    tree = {"any": [{"type": "trait", "trait": "country", "op": "before", "value": "2024-01-01"}]}

    response = marketer.post("/api/segments/preview/", {"rule_tree": tree}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["issues"] == [
        {
            "path": "0",
            "code": "wrong_type",
            "message": "operator 'before' does not apply to a string",
        }
    ]


@pytest.fixture
def germans(people, marketer, frozen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return Segment.objects.get(pk=_create(marketer).json()["id"])


def test_members_are_paginated_with_masked_traits_within_a_query_budget(
    germans, people, marketer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = marketer.get(f"/api/segments/{germans.pk}/members/?page_size=1")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["results"][0]["traits"]["email"] in ("a***@e***", "b***@e***")


def test_members_export_as_csv_masked_for_the_marketer(germans, people, marketer):
    response = marketer.get(f"/api/segments/{germans.pk}/members.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "profile_id", "entered_at", "email", "first_name", "last_name", "country", "city",
        "lifecycle_stage", "rfm_segment",
    ]  # fmt: skip
    assert [row[0] for row in rows[1:]] == [str(people[0].pk), str(people[1].pk)]
    assert rows[1][2:4] == ["a***@e***", "A***"]
    assert AuditEvent.objects.filter(action="segments.segment.export").count() == 1


def test_explain_says_condition_by_condition_why(germans, people, marketer):
    ada, _, cyd = people
    tree = {
        "all": [
            *GERMANS["all"],
            {"not": {"all": [{"type": "event", "event": "Order Completed", "within_days": 7}]}},
        ]
    }
    germans.rule_tree = tree
    germans.save()

    response = marketer.get(f"/api/segments/{germans.pk}/explain/{ada.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["is_member"] is False
    assert body["is_current_member"] is True
    assert [(c["path"], c["label"], c["matched"], c["value"]) for c in body["conditions"]] == [
        ("", "all of", False, None),
        ("0", "country eq DE", True, "DE"),
        ("1", "not", False, None),
        ("1.0", "all of", True, None),
        ("1.0.0", "did Order Completed (count gte 1) within 7 days", True, {"events_in_window": 1}),
    ]
    other = marketer.get(f"/api/segments/{germans.pk}/explain/{cyd.pk}/").json()
    assert other["conditions"][1]["value"] == "FR"


def test_profile_history_lists_entries_and_exits(germans, people, marketer):
    ada = people[0]
    SegmentMembership.objects.filter(profile=ada).update(exited_at=b.NOW, exited_by="refresh")

    response = marketer.get(f"/api/segments/profiles/{ada.pk}/memberships/")

    assert response.status_code == 200
    [stay] = response.json()["results"]
    assert (stay["segment"], stay["exited_by"], stay["exited_at"]) == (
        "Germans",
        "refresh",
        "2025-06-15T12:00:30Z",
    )


def test_overlap_and_sizes(germans, people, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        buyers = marketer.post(
            "/api/segments/",
            {
                "name": "Buyers",
                "rule_tree": {"all": [{"type": "event", "event": "Order Completed"}]},
            },
            format="json",
        ).json()["id"]

    overlap = marketer.get(f"/api/segments/{germans.pk}/overlap/{buyers}/").json()
    sizes = marketer.get(f"/api/segments/{germans.pk}/sizes/").json()

    assert overlap == {"both": 1, "only_first": 1, "only_second": 0}
    assert [(point["size"], point["entered"], point["exited"]) for point in sizes] == [(2, 2, 0)]


def test_uploaded_static_list_takes_members_by_identifier(people, marketer):
    ada, bob, _ = people
    b.identifier(ada, "email", "ada@example.com")
    b.identifier(bob, "email", "bob@example.com")
    segment = Segment.objects.create(name="VIP list", kind="static", origin="upload")

    response = marketer.post(
        f"/api/segments/{segment.pk}/upload/",
        {
            "identifiers": [
                {"type": "email", "value": "ada@example.com"},
                {"type": "email", "value": "nobody@x.org"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"entered": 1, "exited": 0}
    assert list(
        SegmentMembership.objects.filter(segment=segment).values_list("profile_id", "entered_by")
    ) == [(ada.pk, "upload")]


def test_roles_without_segment_rights_are_refused_and_nothing_changes(people, api_client_for):
    client = api_client_for(INTEGRATION_ADMIN)

    assert _create(client).status_code == 403
    assert (
        client.post("/api/segments/preview/", {"rule_tree": GERMANS}, format="json").status_code
        == 403
    )
    assert not Segment.objects.filter(origin="rules").exists()


def test_delete_is_refused_while_another_segment_uses_it(germans, marketer):
    marketer.post(
        "/api/segments/",
        {
            "name": "In Germans",
            "rule_tree": {"all": [{"type": "segment", "segment_id": germans.pk}]},
        },
        format="json",
    )

    response = marketer.delete(f"/api/segments/{germans.pk}/")

    assert response.status_code == 409
    assert response.json()["error"]["details"]["dependents"] == ["In Germans"]
    assert Segment.objects.filter(pk=germans.pk).exists()


def test_the_list_is_paginated_within_a_query_budget(
    germans, marketer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = marketer.get("/api/segments/?page_size=5")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 12  # Germans and the eleven ready-made RFM segments
    assert [row["name"] for row in body["results"]][:2] == ["Germans", "RFM: About to sleep"]
    assert body["results"][0]["freshness"]["mode"] == "scheduled"
