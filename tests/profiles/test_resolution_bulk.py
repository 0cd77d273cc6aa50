"""The set-based bulk merge leaves exactly the state that profile_merge, called once per
(survivor, absorbed) in order, leaves — rows moved, snapshots, golden values with provenance,
consent, audit — and a replay changes nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

import pytest

from cdp.core.actor import Actor
from cdp.core.models import AuditEvent
from consent.models import ConsentEvent, ConsentState, Purpose
from profiles.models import (
    Identifier,
    Order,
    Profile,
    ProfileMerge,
    ProfileTrait,
    SurvivorshipRule,
    TraitValue,
)
from profiles.services.bulk_merge import PlannedCluster, profiles_merge_bulk
from profiles.services.ingest import events_ingest
from profiles.services.merge import profile_merge
from profiles.services.processing import events_process
from profiles.services.sources import source_create
from profiles.services.survivorship import survivorship_cache_clear, survivorship_rule_set

pytestmark = pytest.mark.django_db

SYSTEM = Actor(user_id=None, label="system")


@pytest.fixture(autouse=True)
def _fresh_survivorship_cache():
    survivorship_cache_clear()
    yield
    survivorship_cache_clear()


def _identify(source, user_id: str, when: str, traits: dict, consent: dict | None = None) -> None:
    message: dict[str, Any] = {
        "type": "identify",
        "userId": user_id,
        "messageId": f"{source.name}-{user_id}-{when}",
        "timestamp": when,
        "traits": traits,
    }
    if consent:
        message["context"] = {"consent": {"categoryPreferences": consent}}
    order = {
        "type": "track",
        "userId": user_id,
        "event": "Order Completed",
        "messageId": f"order-{source.name}-{user_id}",
        "timestamp": when,
        "properties": {"order_id": f"O-{source.name}-{user_id}", "total": "10", "currency": "EUR"},
    }
    stored = events_ingest(source_id=source.pk, messages=[message, order])
    events_process(event_ids=stored.event_ids)


@pytest.fixture
def clusters():
    Purpose.objects.get_or_create(
        key="email_marketing", defaults={"name": "Email", "category_aliases": ["email"]}
    )
    crm, _ = source_create(name="crm", kind="crm", trust=80, actor=SYSTEM)
    shop, _ = source_create(name="shop", kind="shop", trust=40, actor=SYSTEM)
    survivorship_rule_set(trait="city", rule="most_recent", actor=SYSTEM)
    survivorship_rule_set(trait="street", rule="longest", actor=SYSTEM)
    people = [
        (
            crm,
            "a1",
            "2025-01-01T00:00:00Z",
            {"first_name": "Ann", "city": "Leeds"},
            {"email": True},
        ),
        (shop, "a2", "2025-02-01T00:00:00Z", {"first_name": "Anne", "street": "1 Long Road"}, None),
        (
            shop,
            "a3",
            "2025-03-01T00:00:00Z",
            {"city": "York", "street": "1 Long Rd"},
            {"email": False},
        ),
        (crm, "b1", "2025-01-05T00:00:00Z", {"first_name": "Bob"}, None),
        (
            shop,
            "b2",
            "2025-01-06T00:00:00Z",
            {"first_name": "Robert", "city": "Hull"},
            {"email": True},
        ),
    ]
    for source, user_id, when, traits, consent in people:
        _identify(source, user_id, when, traits, consent)
    ids = dict(Identifier.objects.filter(type="user_id").values_list("value", "profile_id"))
    return [
        PlannedCluster(
            survivor_id=ids["a1"],
            absorbed_ids=(ids["a2"], ids["a3"]),
            reason="match_score",
            details={ids["a2"]: {"probability": 0.995}, ids["a3"]: {"probability": 0.999}},
        ),
        PlannedCluster(
            survivor_id=ids["b1"],
            absorbed_ids=(ids["b2"],),
            reason="match_score",
            details={ids["b2"]: {"probability": 0.991}},
        ),
    ]


def _state() -> dict[str, Any]:
    return {
        "profiles": sorted(
            Profile.objects.values_list("pk", "merged_into_id", "traits", "last_seen_at")
        ),
        "identifiers": sorted(Identifier.objects.values_list("pk", "profile_id")),
        "trait_values": sorted(TraitValue.objects.values_list("pk", "profile_id")),
        "orders": sorted(Order.objects.values_list("pk", "profile_id")),
        "golden": sorted(
            (p, n, repr(v), c, r)
            for p, n, v, c, r in ProfileTrait.objects.values_list(
                "profile_id", "name", "value", "chosen_id", "rule"
            )
        ),
        "merges": sorted(
            (s, a, r, repr(d), repr(snap), label)
            for s, a, r, d, snap, label in ProfileMerge.objects.values_list(
                "survivor_id", "absorbed_id", "reason", "details", "snapshot", "actor_label"
            )
        ),
        "audit": sorted(
            (target, details["absorbed_id"], details["reason"])
            for target, details in AuditEvent.objects.filter(
                action="profiles.profile.merge"
            ).values_list("target_id", "details")
        ),
        "consent_events": sorted(ConsentEvent.objects.values_list("pk", "profile_id")),
        "consent_states": sorted(
            ConsentState.objects.values_list("profile_id", "purpose_id", "is_granted", "entry_id")
        ),
    }


def _one_by_one(clusters: list[PlannedCluster]) -> None:
    for cluster in clusters:
        for absorbed in cluster.absorbed_ids:
            profile_merge(
                survivor_id=cluster.survivor_id,
                absorbed_id=absorbed,
                reason=cluster.reason,
                actor=SYSTEM,
                details=cluster.details[absorbed],
            )


def test_bulk_merge_leaves_the_state_of_merging_one_by_one(clusters):
    assert SurvivorshipRule.objects.count() == 2
    with transaction.atomic():
        _one_by_one(clusters)
        expected = _state()
        transaction.set_rollback(True)

    profiles_merge_bulk(clusters=clusters, actor=SYSTEM)

    assert _state() == expected
    assert len(expected["merges"]) == 3
    assert Profile.objects.get(pk=clusters[0].survivor_id).traits == {
        "city": "Leeds",  # most recent, but never over the more trusted CRM
        "first_name": "Ann",
        "street": "1 Long Road",
    }


def test_bulk_merge_replay_and_clusters_with_a_merged_member_change_nothing(clusters):
    first = profiles_merge_bulk(clusters=clusters, actor=SYSTEM)
    state = _state()

    again = profiles_merge_bulk(clusters=clusters, actor=SYSTEM)

    assert len(first.merge_ids) == 3
    assert again.merge_ids == {}
    assert again.skipped_clusters == [cluster.survivor_id for cluster in clusters]
    assert _state() == state
