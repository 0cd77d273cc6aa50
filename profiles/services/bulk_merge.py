"""Profiles services: merge many clusters of profiles set-based, with exactly the invariants of
profile_merge applied one absorbed profile at a time (rows move by `profile`, `origin_profile`
untouched; a ProfileMerge with snapshots, consent following, golden traits recomputed, the
absorbed profile emptied, last_seen_at refreshed, one audit row and topics per merge).

profile_merge costs some twenty queries per merge; a full resolution over a million records
makes over a hundred thousand merges, so this path does the same per chunk of clusters in a
fixed number of statements. tests/profiles/test_resolution_bulk.py checks it leaves the same
state as calling profile_merge for each (survivor, absorbed) in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.models import AuditEvent
from consent import public as consent_public
from profiles.compute.survivorship import Choice
from profiles.models import (
    Event,
    Identifier,
    Order,
    Profile,
    ProfileMerge,
    ProfileTrait,
    TraitValue,
)

from .bulk_sql import rows_reassign, rows_update
from .golden import (
    GoldenRow,
    Observation,
    golden_choices,
    golden_rows_replace,
    observations_of,
)
from .survivorship import SurvivorshipConfig, survivorship_config

_OWNED_MODELS = (Identifier, Event, TraitValue, Order)


@dataclass(frozen=True, kw_only=True)
class PlannedCluster:
    """A survivor and the profiles to fold into it (in this order), with each merge's details."""

    survivor_id: int
    absorbed_ids: tuple[int, ...]
    reason: str
    details: Mapping[int, dict[str, Any]] = field(default_factory=dict)  # by absorbed id


@dataclass(frozen=True, kw_only=True)
class BulkMergeOutcome:
    merge_ids: dict[int, int]  # absorbed id -> merge id
    skipped_clusters: list[int]  # survivors of clusters left alone (a member was not live)


@dataclass(kw_only=True)
class _State:
    """What the snapshots need, read once per chunk."""

    identifiers: dict[int, list[list[str]]]
    observations: dict[int, list[Observation]]
    golden: dict[int, dict[str, dict[str, Any]]]
    golden_rows: dict[int, dict[str, GoldenRow]]
    events: dict[int, int]
    orders: dict[int, int]
    last_event: dict[int, Any]


def _counts(model: Any, ids: list[int]) -> dict[int, int]:
    rows = model.objects.filter(profile_id__in=ids).values("profile_id").annotate(n=Count("pk"))
    return {row["profile_id"]: row["n"] for row in rows.order_by()}


def _read_state(ids: list[int]) -> _State:
    identifiers: dict[int, list[list[str]]] = defaultdict(list)
    for profile_id, kind, value in Identifier.objects.filter(profile_id__in=ids).values_list(
        "profile_id", "type", "value"
    ):
        identifiers[profile_id].append([kind, value])
    golden: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    rows: dict[int, dict[str, GoldenRow]] = defaultdict(dict)
    for pk, profile_id, name, value, chosen, rule in ProfileTrait.objects.filter(
        profile_id__in=ids
    ).values_list("pk", "profile_id", "name", "value", "chosen_id", "rule"):
        golden[profile_id][name] = {"value": value, "chosen": chosen, "rule": rule}
        rows[profile_id][name] = GoldenRow(pk, value, chosen, rule)
    last_event = {
        row["profile_id"]: row["at"]
        for row in Event.objects.filter(profile_id__in=ids)
        .values("profile_id")
        .annotate(at=Max("timestamp"))
        .order_by()
    }
    return _State(
        identifiers=identifiers,
        observations=observations_of(ids),
        golden=golden,
        golden_rows=rows,
        events=_counts(Event, ids),
        orders=_counts(Order, ids),
        last_event=last_event,
    )


def _snapshot(state: _State, members: list[int], golden: dict[str, dict[str, Any]]) -> dict:
    return {
        "profile_id": members[0],
        "identifiers": sorted(pair for member in members for pair in state.identifiers[member]),
        "traits": golden,
        "events": sum(state.events.get(member, 0) for member in members),
        "orders": sum(state.orders.get(member, 0) for member in members),
    }


def _as_snapshot_traits(choices: Mapping[str, Choice]) -> dict[str, dict[str, Any]]:
    return {
        name: {"value": choice.value, "chosen": choice.key, "rule": choice.rule}
        for name, choice in sorted(choices.items())
    }


def _plan_cluster(
    cluster: PlannedCluster, state: _State, config: SurvivorshipConfig, actor: Actor
) -> tuple[list[ProfileMerge], dict[str, Choice]]:
    """The ProfileMerge rows (with sequential snapshots) and the survivor's final golden."""
    members = [cluster.survivor_id]
    golden = dict(sorted(state.golden.get(cluster.survivor_id, {}).items()))
    merges = []
    choices: dict[str, Choice] = {}
    for absorbed_id in cluster.absorbed_ids:
        absorbed_alone = _snapshot(state, [absorbed_id], state.golden.get(absorbed_id, {}))
        merges.append(
            ProfileMerge(
                survivor_id=cluster.survivor_id,
                absorbed_id=absorbed_id,
                reason=cluster.reason,
                details=dict(cluster.details.get(absorbed_id, {})),
                snapshot={
                    "survivor": _snapshot(state, members, golden),
                    "absorbed": absorbed_alone,
                },
                actor_user_id=actor.user_id,
                actor_label=actor.label,
            )
        )
        members.append(absorbed_id)
        choices = golden_choices(
            (row for member in members for row in state.observations.get(member, [])), config
        )
        golden = _as_snapshot_traits(choices)
    return merges, choices


def _audit_rows(merges: list[ProfileMerge], actor: Actor) -> list[AuditEvent]:
    return [
        AuditEvent(
            actor_user_id=actor.user_id,
            actor_label=actor.label,
            action="profiles.profile.merge",
            target_type=Profile._meta.label_lower,
            target_id=str(merge.survivor_id),
            details={
                "absorbed_id": merge.absorbed_id,
                "merge_id": merge.pk,
                "reason": merge.reason,
            },
            ip_address=actor.ip_address,
        )
        for merge in merges
    ]


def _live_clusters(
    clusters: Sequence[PlannedCluster],
) -> tuple[list[PlannedCluster], list[int]]:
    ids = sorted({pk for c in clusters for pk in (c.survivor_id, *c.absorbed_ids)})
    live = set(
        Profile.objects.select_for_update()
        .filter(pk__in=ids, merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    kept = [c for c in clusters if {c.survivor_id, *c.absorbed_ids} <= live]
    skipped = [c.survivor_id for c in clusters if not {c.survivor_id, *c.absorbed_ids} <= live]
    return kept, skipped


def _move_rows(merges: list[ProfileMerge]) -> None:
    survivor_of = {merge.absorbed_id: merge.survivor_id for merge in merges}
    for model in _OWNED_MODELS:
        rows_reassign(model, "profile", survivor_of)
    now = timezone.now()
    emptied = [
        Profile(pk=absorbed, merged_into_id=survivor, traits={}, updated_at=now)
        for absorbed, survivor in survivor_of.items()
    ]
    rows_update(Profile, emptied, ["merged_into", "traits", "updated_at"])
    absorbed = list(survivor_of)
    for begin in range(0, len(absorbed), 10_000):
        ProfileTrait.objects.filter(profile_id__in=absorbed[begin : begin + 10_000]).delete()


def _follow_consent(merges: list[ProfileMerge]) -> None:
    absorbed = [merge.absorbed_id for merge in merges]
    with_ledger = set(
        consent_public.consent_history_qs(absorbed)
        .order_by()
        .values_list("profile_id", flat=True)
        .distinct()
    )
    for merge in merges:
        if merge.absorbed_id in with_ledger:
            consent_public.consent_profiles_merged(
                survivor_id=merge.survivor_id, absorbed_id=merge.absorbed_id
            )


def _last_seen(clusters: list[PlannedCluster], state: _State) -> None:
    rows = []
    for cluster in clusters:
        seen = [
            state.last_event[m]
            for m in (cluster.survivor_id, *cluster.absorbed_ids)
            if m in state.last_event
        ]
        rows.append(Profile(pk=cluster.survivor_id, last_seen_at=max(seen) if seen else None))
    rows_update(Profile, rows, ["last_seen_at"])


@transaction.atomic
def profiles_merge_bulk(*, clusters: Sequence[PlannedCluster], actor: Actor) -> BulkMergeOutcome:
    """Merge each cluster's absorbed profiles into its survivor, in one transaction.

    Clusters must be disjoint, survivors never absorbed elsewhere in the call. A cluster with a
    member that is no longer live (merged meanwhile) is skipped whole and reported; nothing of
    it changes. Idempotent in effect: a replay finds the absorbed profiles merged and skips.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A crash loses at most the last commits of this run, which a re-run redoes
            # (merges are idempotent); waiting for each chunk's WAL flush buys nothing here.
            cursor.execute("SET LOCAL synchronous_commit = off")
    kept, skipped = _live_clusters(clusters)
    if not kept:
        return BulkMergeOutcome(merge_ids={}, skipped_clusters=skipped)
    survivors = [c.survivor_id for c in kept]
    ids = sorted({pk for c in kept for pk in (c.survivor_id, *c.absorbed_ids)})
    state = _read_state(ids)
    config = survivorship_config()
    merges: list[ProfileMerge] = []
    final: dict[int, dict[str, Choice]] = {}
    for cluster in kept:
        rows, final[cluster.survivor_id] = _plan_cluster(cluster, state, config, actor)
        merges += rows
    merges = ProfileMerge.objects.bulk_create(merges, batch_size=2_000)
    _move_rows(merges)
    _follow_consent(merges)
    golden_rows_replace(final, current={s: state.golden_rows.get(s, {}) for s in survivors})
    _last_seen(kept, state)
    AuditEvent.objects.bulk_create(_audit_rows(merges, actor), batch_size=5_000)
    for merge in merges:
        jobs.publish_on_commit(
            jobs.PROFILES_MERGED,
            survivor_id=merge.survivor_id,
            absorbed_id=merge.absorbed_id,
            merge_id=merge.pk,
        )
    jobs.publish_on_commit(jobs.PROFILES_CHANGED, profile_ids=survivors, event_ids=[])
    return BulkMergeOutcome(
        merge_ids={merge.absorbed_id: merge.pk for merge in merges}, skipped_clusters=skipped
    )
