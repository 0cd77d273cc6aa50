"""Profiles services: merge two profiles and undo a merge exactly, with audit and snapshots.

Rows a person owns (identifiers, events, trait observations, orders, consent entries) carry the
current owner in `profile` and the first owner in `origin_profile`. A merge moves `profile`; an
unmerge moves back every row whose origin lies in the absorbed profile's merge subtree. No row
is rewritten otherwise, so an unmerge restores both profiles as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, NotFoundError
from consent import public as consent_public
from profiles.models import (
    Event,
    Identifier,
    Order,
    Profile,
    ProfileMerge,
    ProfileTrait,
    TraitValue,
)
from profiles.selectors import profiles_lock_in_pk_order

from .traits import golden_traits_recompute

_OWNED_MODELS = (Identifier, Event, TraitValue, Order)


class MergeConflictError(ConflictError):
    code = "merge_conflict"


@dataclass(frozen=True, kw_only=True)
class MergeOutcome:
    merge_id: int
    created: bool  # False when this merge had already been applied


@dataclass(frozen=True, kw_only=True)
class UnmergeOutcome:
    merge_id: int
    restored_id: int
    undone: bool  # False when it had already been undone


def profile_snapshot(profile_id: int) -> dict[str, Any]:
    """Everything that defines a profile, JSON-able: identifiers, golden traits, counts."""
    return {
        "profile_id": profile_id,
        "identifiers": sorted(
            [kind, value]
            for kind, value in Identifier.objects.filter(profile_id=profile_id).values_list(
                "type", "value"
            )
        ),
        "traits": {
            row.name: {"value": row.value, "chosen": row.chosen_id, "rule": row.rule}
            for row in ProfileTrait.objects.filter(profile_id=profile_id)
        },
        "events": Event.objects.filter(profile_id=profile_id).count(),
        "orders": Order.objects.filter(profile_id=profile_id).count(),
    }


@transaction.atomic
def profile_merge(
    *,
    survivor_id: int,
    absorbed_id: int,
    reason: str,
    actor: Actor,
    details: dict[str, Any] | None = None,
) -> MergeOutcome:
    """Fold `absorbed` into `survivor`, keeping the provenance of every moved value.

    Idempotent: replaying an applied merge returns it unchanged. Raises MergeConflictError when
    either profile is already merged into another, or when they are the same profile.
    """
    if survivor_id == absorbed_id:
        raise MergeConflictError("A profile cannot be merged into itself.")
    locked = profiles_lock_in_pk_order(*sorted((survivor_id, absorbed_id)))
    by_pk = {profile.pk: profile for profile in locked}
    if survivor_id not in by_pk or absorbed_id not in by_pk:
        raise NotFoundError("Both profiles must exist to merge them.")
    survivor, absorbed = by_pk[survivor_id], by_pk[absorbed_id]
    applied = ProfileMerge.objects.filter(
        survivor=survivor, absorbed=absorbed, undone_at=None
    ).first()
    if applied is not None:
        return MergeOutcome(merge_id=applied.pk, created=False)
    for profile in (survivor, absorbed):
        if profile.merged_into_id is not None:
            raise MergeConflictError(
                f"Profile {profile.pk} is already merged into {profile.merged_into_id}.",
                details={"profile_id": profile.pk, "merged_into_id": profile.merged_into_id},
            )
    merge = ProfileMerge.objects.create(
        survivor=survivor,
        absorbed=absorbed,
        reason=reason,
        details=details or {},
        snapshot={
            "survivor": profile_snapshot(survivor.pk),
            "absorbed": profile_snapshot(absorbed.pk),
        },
        actor_user_id=actor.user_id,
        actor_label=actor.label,
    )
    for model in _OWNED_MODELS:
        model.objects.filter(profile_id=absorbed.pk).update(profile_id=survivor.pk)
    consent_public.consent_profiles_merged(survivor_id=survivor.pk, absorbed_id=absorbed.pk)
    absorbed.merged_into = survivor
    absorbed.traits = {}
    absorbed.save(update_fields=["merged_into", "traits", "updated_at"])
    ProfileTrait.objects.filter(profile_id=absorbed.pk).delete()
    golden_traits_recompute(profile_id=survivor.pk)
    _touch_last_seen(survivor.pk)
    audit_record(
        actor=actor,
        action="profiles.profile.merge",
        target=survivor,
        details={"absorbed_id": absorbed.pk, "merge_id": merge.pk, "reason": reason},
    )
    jobs.publish_on_commit(
        jobs.PROFILES_MERGED, survivor_id=survivor.pk, absorbed_id=absorbed.pk, merge_id=merge.pk
    )
    jobs.publish_on_commit(jobs.PROFILES_CHANGED, profile_ids=[survivor.pk], event_ids=[])
    return MergeOutcome(merge_id=merge.pk, created=True)


def _subtree(root_id: int) -> list[int]:
    """`root_id` and every profile merged into it, directly or through others."""
    found, frontier = [root_id], [root_id]
    while frontier:
        frontier = list(
            Profile.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
        )
        found.extend(frontier)
    return found


def _canonical_id(profile_id: int) -> int:
    current = Profile.objects.only("merged_into_id").get(pk=profile_id)
    while current.merged_into_id is not None:
        current = Profile.objects.only("merged_into_id").get(pk=current.merged_into_id)
    return current.pk


@transaction.atomic
def profile_unmerge(*, merge_id: int, actor: Actor) -> UnmergeOutcome:
    """Undo one merge: the absorbed profile and everything that came with it stand alone again.

    Idempotent: undoing an undone merge changes nothing. Works even if the survivor was later
    merged into a third profile (rows are fetched back from wherever they are now).
    """
    merge = ProfileMerge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        raise NotFoundError(f"No merge with id {merge_id}.")
    if merge.undone_at is not None:
        return UnmergeOutcome(merge_id=merge.pk, restored_id=merge.absorbed_id, undone=False)
    holder_id = _canonical_id(merge.survivor_id)
    profiles_lock_in_pk_order(*sorted({holder_id, merge.absorbed_id}))
    origins = _subtree(merge.absorbed_id)
    for model in _OWNED_MODELS:
        model.objects.filter(profile_id=holder_id, origin_profile_id__in=origins).update(
            profile_id=merge.absorbed_id
        )
    consent_public.consent_profiles_unmerged(
        survivor_id=holder_id, restored_id=merge.absorbed_id, origin_ids=origins
    )
    Profile.objects.filter(pk=merge.absorbed_id).update(merged_into=None, updated_at=timezone.now())
    merge.undone_at = timezone.now()
    merge.undone_by_label = actor.label
    merge.save(update_fields=["undone_at", "undone_by_label"])
    for profile_id in (holder_id, merge.absorbed_id):
        golden_traits_recompute(profile_id=profile_id)
        _touch_last_seen(profile_id)
    audit_record(
        actor=actor,
        action="profiles.profile.unmerge",
        target=merge,
        details={"survivor_id": holder_id, "restored_id": merge.absorbed_id},
    )
    jobs.publish_on_commit(
        jobs.PROFILES_UNMERGED,
        survivor_id=holder_id,
        restored_id=merge.absorbed_id,
        merge_id=merge.pk,
    )
    jobs.publish_on_commit(
        jobs.PROFILES_CHANGED, profile_ids=[holder_id, merge.absorbed_id], event_ids=[]
    )
    return UnmergeOutcome(merge_id=merge.pk, restored_id=merge.absorbed_id, undone=True)


def _touch_last_seen(profile_id: int) -> None:
    latest = (
        Event.objects.filter(profile_id=profile_id)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    Profile.objects.filter(pk=profile_id).update(last_seen_at=latest)
