"""Profiles services: the merge review — accept or reject a candidate pair (applied once, however
often it is clicked), and undo a merge, which also keeps the pair apart from then on."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, NotFoundError
from profiles.models import MatchCandidate, ProfileMerge
from profiles.selectors import profile_canonical, profiles_lock_in_pk_order
from profiles.selectors_matching import linkage_records

from .matching import match_keys_replace
from .merge import UnmergeOutcome, profile_merge, profile_unmerge
from .resolution_runs import run_settings_build

UNMERGED = "unmerged"


class DecisionConflictError(ConflictError):
    code = "already_decided"


@dataclass(frozen=True, kw_only=True)
class ReviewOutcome:
    candidate_id: int
    status: str
    merge_id: int | None
    changed: bool  # False when this decision had already been applied


def _lock(candidate_id: int) -> MatchCandidate:
    candidate = (
        MatchCandidate.objects.select_for_update()
        .select_related("left", "right")
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        raise NotFoundError(f"No match candidate with id {candidate_id}.")
    return candidate


def _decide(candidate: MatchCandidate, status: str, actor: Actor, merge_id: int | None) -> None:
    candidate.status = status
    candidate.merge_id = merge_id
    candidate.decided_by_id = actor.user_id
    candidate.decided_by_label = actor.label
    candidate.decided_at = timezone.now()
    candidate.save(
        update_fields=[
            "status",
            "merge",
            "decided_by",
            "decided_by_label",
            "decided_at",
            "updated_at",
        ]
    )


@transaction.atomic
def match_candidate_accept(*, candidate_id: int, actor: Actor) -> ReviewOutcome:
    """Merge the pair's profiles (as they stand now: each side's current survivor) and mark it
    accepted. Idempotent: accepting an accepted pair changes nothing.

    Raises NotFoundError; DecisionConflictError when the pair was rejected or auto-merged.
    """
    candidate = _lock(candidate_id)
    if candidate.status == MatchCandidate.Status.ACCEPTED:
        return ReviewOutcome(
            candidate_id=candidate.pk, status=candidate.status, merge_id=candidate.merge_id,
            changed=False,
        )  # fmt: skip
    if candidate.status != MatchCandidate.Status.PENDING:
        raise DecisionConflictError(
            f"This pair was already {candidate.status}.", details={"status": candidate.status}
        )
    left, right = profile_canonical(candidate.left), profile_canonical(candidate.right)
    merge_id = None
    if left.pk != right.pk:
        survivor, absorbed = sorted((left.pk, right.pk))
        profiles_lock_in_pk_order(survivor, absorbed)
        outcome = profile_merge(
            survivor_id=survivor,
            absorbed_id=absorbed,
            reason=ProfileMerge.Reason.MATCH_SCORE,
            actor=actor,
            details={
                "rule": "review",
                "candidate_id": candidate.pk,
                "probability": candidate.probability,
                "match_weight": candidate.match_weight,
                "pair": [candidate.left_id, candidate.right_id],
                "contributions": candidate.contributions,
            },
        )
        merge_id = outcome.merge_id
    _decide(candidate, MatchCandidate.Status.ACCEPTED, actor, merge_id)
    audit_record(
        actor=actor,
        action="profiles.match.accept",
        target=candidate,
        details={"merge_id": merge_id, "left": candidate.left_id, "right": candidate.right_id},
    )
    return ReviewOutcome(
        candidate_id=candidate.pk, status=candidate.status, merge_id=merge_id, changed=True
    )


@transaction.atomic
def match_candidate_reject(*, candidate_id: int, actor: Actor) -> ReviewOutcome:
    """Keep the pair apart for good (resolution never merges it). Idempotent.

    Raises NotFoundError; DecisionConflictError when the pair was merged (undo the merge).
    """
    candidate = _lock(candidate_id)
    if candidate.status == MatchCandidate.Status.REJECTED:
        return ReviewOutcome(
            candidate_id=candidate.pk, status=candidate.status, merge_id=None, changed=False
        )
    if candidate.status != MatchCandidate.Status.PENDING:
        raise DecisionConflictError(
            f"This pair was already {candidate.status}; undo its merge instead.",
            details={"status": candidate.status, "merge_id": candidate.merge_id},
        )
    _decide(candidate, MatchCandidate.Status.REJECTED, actor, None)
    audit_record(
        actor=actor,
        action="profiles.match.reject",
        target=candidate,
        details={"left": candidate.left_id, "right": candidate.right_id},
    )
    return ReviewOutcome(
        candidate_id=candidate.pk, status=candidate.status, merge_id=None, changed=True
    )


def _keep_apart(merge: ProfileMerge, actor: Actor) -> None:
    """Mark the merge's pair (and the pair that justified it) rejected, creating rows."""
    pairs = {tuple(sorted((merge.survivor_id, merge.absorbed_id)))}
    evidence = (merge.details or {}).get("pair")
    if isinstance(evidence, list) and len(evidence) == 2 and evidence[0] != evidence[1]:
        pairs.add(tuple(sorted(int(part) for part in evidence)))
    probability = float((merge.details or {}).get("probability") or 0.0)
    now = timezone.now()
    for left, right in sorted(pairs):
        MatchCandidate.objects.update_or_create(
            left_id=left,
            right_id=right,
            defaults={
                "status": MatchCandidate.Status.REJECTED,
                "reason": UNMERGED,
                "decided_by_id": actor.user_id,
                "decided_by_label": actor.label,
                "decided_at": now,
            },
            create_defaults={
                "status": MatchCandidate.Status.REJECTED,
                "reason": UNMERGED,
                "probability": probability,
                "contributions": (merge.details or {}).get("contributions") or {},
                "decided_by_id": actor.user_id,
                "decided_by_label": actor.label,
                "decided_at": now,
            },
        )


@transaction.atomic
def merge_undo(*, merge_id: int, actor: Actor) -> UnmergeOutcome:
    """Undo a merge exactly (profile_unmerge) and keep the two apart from then on: the pair is
    recorded as rejected, and both profiles' blocking keys are recomputed. Idempotent.

    Raises NotFoundError for an unknown merge.
    """
    merge = ProfileMerge.objects.filter(pk=merge_id).first()
    if merge is None:
        raise NotFoundError(f"No merge with id {merge_id}.")
    outcome = profile_unmerge(merge_id=merge_id, actor=actor)
    if outcome.undone:
        _keep_apart(merge, actor)
        holder = profile_canonical(merge.survivor)
        records = linkage_records(profile_ids=[holder.pk, merge.absorbed_id])
        match_keys_replace(records=records, rules=run_settings_build().config.rules)
    return outcome
