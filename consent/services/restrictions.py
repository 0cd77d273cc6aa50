"""Consent services: restrictions of processing and objections to direct marketing."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import NotFoundError
from consent.models import ProcessingRestriction, Purpose

from .ledger import ConsentChoice, consent_record


@transaction.atomic
def restriction_add(
    *, profile_ids: Sequence[int], kind: str, request_id: int | None = None
) -> list[int]:
    """Put an active restriction or objection on each profile; return the new rows' ids.

    An objection also withdraws every marketing purpose in the ledger (source "dsr"), so the
    person's consent history shows it. Idempotent: a profile already under an active
    restriction of this kind gets no second row.
    """
    already = set(
        ProcessingRestriction.objects.filter(
            profile_id__in=list(profile_ids), kind=kind, lifted_at=None
        ).values_list("profile_id", flat=True)
    )
    created = ProcessingRestriction.objects.bulk_create(
        [
            ProcessingRestriction(
                profile_id=profile_id,
                origin_profile_id=profile_id,
                kind=kind,
                request_id=request_id,
            )
            for profile_id in dict.fromkeys(profile_ids)
            if profile_id not in already
        ]
    )
    if kind == ProcessingRestriction.Kind.OBJECTION:
        marketing = list(Purpose.objects.filter(is_marketing=True).values_list("key", flat=True))
        for profile_id in profile_ids:
            consent_record(
                profile_id=profile_id,
                choices=[ConsentChoice(purpose_key=key, is_granted=False) for key in marketing],
                source="dsr",
                evidence={"request_id": request_id, "right": "objection"},
            )
    if profile_ids:
        jobs.publish_on_commit(jobs.CONSENT_CHANGED, profile_ids=sorted(set(profile_ids)))
    return [row.pk for row in created]


@transaction.atomic
def restriction_lift(*, restriction_id: int, actor: Actor) -> bool:
    """Lift one restriction (the person withdrew it, or its reason ended). Audited.

    Idempotent: lifting a lifted restriction returns False. Raises NotFoundError.
    """
    row = ProcessingRestriction.objects.select_for_update().filter(pk=restriction_id).first()
    if row is None:
        raise NotFoundError(f"No restriction with id {restriction_id}.")
    if row.lifted_at is not None:
        return False
    row.lifted_at = timezone.now()
    row.lifted_by_label = actor.label
    row.save(update_fields=["lifted_at", "lifted_by_label"])
    audit_record(
        actor=actor,
        action="consent.restriction.lift",
        target=row,
        details={"profile_id": row.profile_id, "kind": row.kind},
    )
    jobs.publish_on_commit(jobs.CONSENT_CHANGED, profile_ids=[row.profile_id])
    return True
