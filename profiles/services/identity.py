"""Profiles services: deterministic identity resolution — identifiers to one profile, stitching
anonymous ids to known users, and merging profiles that turn out to share an identifier."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cdp.core.actor import SYSTEM
from cdp.core.hashing import identifier_hash
from profiles.models import Identifier, Profile, ProfileMerge, Source
from profiles.selectors import identifier_owners, profile_user_ids

from .merge import profile_merge

logger = logging.getLogger(__name__)

# A merge on one of these needs no review: they are exact, issued or verified by the sender.
MERGE_ON_TYPES = frozenset({"user_id", "anonymous_id", "email", "phone", "loyalty_id", "crm_id"})
_MERGE_ON = MERGE_ON_TYPES


@dataclass(frozen=True, kw_only=True)
class Resolution:
    profile_id: int
    created: bool
    merge_ids: list[int] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def profile_resolve(
    *, identifiers: Sequence[tuple[str, str]], source: Source, seen_at: datetime
) -> Resolution:
    """Find or create the profile these identifiers belong to; attach the new ones.

    Profiles sharing an identifier are merged into the oldest — unless they hold different
    user ids (two signed-up people), in which case the event's own user id decides and the
    contested identifier stays where it is. Safe under concurrency: a lost insert race is seen
    on re-read and resolved by merging. Raises nothing for empty input: returns a new profile.
    """
    pairs = list(dict.fromkeys(identifiers))
    owners = identifier_owners(pairs)
    own_user_id = next((value for kind, value in pairs if kind == "user_id"), None)
    profile_id, merge_ids, conflicts = _pick_profile(owners, own_user_id)
    created = profile_id is None
    if profile_id is None:
        profile_id = Profile.objects.create(last_seen_at=seen_at).pk
    new_pairs = [pair for pair in pairs if pair not in owners]
    if new_pairs:
        Identifier.objects.bulk_create(
            [
                Identifier(
                    type=kind,
                    value=value,
                    value_hash=identifier_hash(kind, value),
                    profile_id=profile_id,
                    origin_profile_id=profile_id,
                    source=source,
                    first_seen_at=seen_at,
                )
                for kind, value in new_pairs
            ],
            ignore_conflicts=True,
        )
        # Another worker may have inserted the same identifier for another profile meanwhile.
        raced = {
            owner for pair, owner in identifier_owners(new_pairs).items() if owner != profile_id
        }
        if raced:
            profile_id, more, more_conflicts = _merge_all({profile_id, *raced}, own_user_id)
            merge_ids += more
            conflicts += more_conflicts
    return Resolution(
        profile_id=profile_id, created=created, merge_ids=merge_ids, conflicts=conflicts
    )


def _pick_profile(
    owners: dict[tuple[str, str], int], own_user_id: str | None
) -> tuple[int | None, list[int], list[str]]:
    candidates = {owner for (kind, _), owner in owners.items() if kind in _MERGE_ON}
    if not candidates:
        return None, [], []
    if len(candidates) == 1:
        return next(iter(candidates)), [], []
    return _merge_all(candidates, own_user_id)


def _merge_all(candidates: set[int], own_user_id: str | None) -> tuple[int, list[int], list[str]]:
    """Merge compatible candidates into the oldest; keep apart those with another user id."""
    user_ids = profile_user_ids(candidates)
    anchor = _anchor(candidates, user_ids, own_user_id)
    anchor_users = set(user_ids.get(anchor, set()))
    merge_ids: list[int] = []
    conflicts: list[str] = []
    survivor = anchor
    for other in sorted(candidates - {anchor}):
        other_users = user_ids.get(other, set())
        if anchor_users and other_users and anchor_users != other_users:
            conflicts.append(f"profile {other} holds another user id")
            continue
        keep, fold = sorted((survivor, other))
        outcome = profile_merge(
            survivor_id=keep,
            absorbed_id=fold,
            reason=ProfileMerge.Reason.SHARED_IDENTIFIER,
            actor=SYSTEM,
            details={"rule": "shared_identifier"},
        )
        merge_ids.append(outcome.merge_id)
        anchor_users |= other_users
        survivor = keep
    return survivor, merge_ids, conflicts


def _anchor(candidates: set[int], user_ids: dict[int, set[str]], own_user_id: str | None) -> int:
    if own_user_id is not None:
        for profile_id in sorted(candidates):
            if own_user_id in user_ids.get(profile_id, set()):
                return profile_id
    return min(candidates)
