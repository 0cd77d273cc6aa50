"""Consent services: append to the consent ledger, keep the derived state, follow merges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError
from consent.models import ConsentEvent, ConsentState, ProcessingRestriction, Purpose
from consent.selectors import purpose_by_category


@dataclass(frozen=True, kw_only=True)
class ConsentChoice:
    purpose_key: str
    is_granted: bool


def consent_record(
    *,
    profile_id: int,
    choices: Iterable[ConsentChoice],
    source: str,
    recorded_at: datetime | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> list[ConsentEvent]:
    """Append ledger entries for `choices` and update the derived state.

    The ledger is append-only: history is never rewritten. A choice equal to the current
    state is not recorded again (idempotent replays); an older choice arriving late goes in the
    ledger but does not win. Raises Purpose.DoesNotExist for an unknown purpose key.
    """
    recorded_at = recorded_at or timezone.now()
    entries: list[ConsentEvent] = []
    with transaction.atomic():
        for choice in choices:
            purpose = Purpose.objects.get(key=choice.purpose_key)
            state = (
                ConsentState.objects.select_related("entry")
                .filter(profile_id=profile_id, purpose=purpose)
                .first()
            )
            if state is not None and state.is_granted == choice.is_granted:
                continue
            entry = _ledger_append(profile_id, purpose, choice, source, recorded_at, evidence)
            entries.append(entry)
            if state is not None and state.entry.recorded_at > recorded_at:
                continue
            ConsentState.objects.update_or_create(
                profile_id=profile_id,
                purpose=purpose,
                defaults={
                    "is_granted": choice.is_granted,
                    "entry": entry,
                    "updated_at": timezone.now(),
                },
            )
        if entries:
            jobs.publish_on_commit(jobs.CONSENT_CHANGED, profile_ids=[profile_id])
    return entries


def _ledger_append(
    profile_id: int,
    purpose: Purpose,
    choice: ConsentChoice,
    source: str,
    recorded_at: datetime,
    evidence: Mapping[str, Any] | None,
) -> ConsentEvent:
    return ConsentEvent.objects.create(
        profile_id=profile_id,
        origin_profile_id=profile_id,
        purpose=purpose,
        is_granted=choice.is_granted,
        recorded_at=recorded_at,
        source=source[:100],
        evidence=dict(evidence or {}),
    )


def consent_record_from_categories(
    *,
    profile_id: int,
    preferences: Mapping[str, Any],
    source: str,
    recorded_at: datetime,
    evidence: Mapping[str, Any],
) -> list[ConsentEvent]:
    """Record Segment-style `categoryPreferences` ({"Analytics": true, ...}); unknown names skip."""
    purposes = purpose_by_category(preferences)
    choices = [
        ConsentChoice(purpose_key=purposes[name.lower()].key, is_granted=bool(value))
        for name, value in preferences.items()
        if name.lower() in purposes and isinstance(value, bool)
    ]
    return consent_record(
        profile_id=profile_id,
        choices=choices,
        source=source,
        recorded_at=recorded_at,
        evidence=evidence,
    )


def consent_change(
    *,
    profile_id: int,
    purpose_keys: Sequence[str],
    is_granted: bool,
    source: str,
    actor: Actor,
    evidence: Mapping[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> list[ConsentEvent]:
    """Grant or withdraw purposes for one person on behalf of `actor` (API, admin). Audited.

    Withdrawing is the same single call as granting. Idempotent: a purpose already in the
    asked state adds no entry. Raises InvalidInputError naming unknown or inactive purposes.
    """
    keys = list(dict.fromkeys(purpose_keys))
    if not keys:
        raise InvalidInputError("Name at least one purpose.")
    known = set(Purpose.objects.filter(key__in=keys, is_active=True).values_list("key", flat=True))
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise InvalidInputError(
            f"Unknown or inactive purpose(s): {', '.join(unknown)}.", details={"purposes": unknown}
        )
    with transaction.atomic():
        entries = consent_record(
            profile_id=profile_id,
            choices=[ConsentChoice(purpose_key=key, is_granted=is_granted) for key in keys],
            source=source,
            recorded_at=recorded_at,
            evidence=evidence,
        )
        audit_record(
            actor=actor,
            action="consent.consent.grant" if is_granted else "consent.consent.withdraw",
            target_type="profiles.profile",
            target_id=profile_id,
            details={"purposes": keys, "entries": [entry.pk for entry in entries]},
        )
    return entries


def consent_state_rebuild(*, profile_id: int) -> int:
    """Recompute ConsentState of one profile from the ledger (latest entry per purpose wins)."""
    latest = (
        ConsentEvent.objects.filter(profile_id=profile_id)
        .values("purpose_id")
        .annotate(at=Max("recorded_at"))
    )
    ConsentState.objects.filter(profile_id=profile_id).delete()
    states = []
    for row in latest:
        entry = (
            ConsentEvent.objects.filter(
                profile_id=profile_id, purpose_id=row["purpose_id"], recorded_at=row["at"]
            )
            .order_by("-pk")
            .first()
        )
        if entry is not None:
            states.append(
                ConsentState(
                    profile_id=profile_id,
                    purpose_id=entry.purpose_id,
                    is_granted=entry.is_granted,
                    entry=entry,
                )
            )
    ConsentState.objects.bulk_create(states)
    return len(states)


def consent_profiles_merged(*, survivor_id: int, absorbed_id: int) -> None:
    """Follow a merge: the absorbed person's ledger and restrictions now speak for the survivor."""
    ConsentEvent.objects.filter(profile_id=absorbed_id).update(profile_id=survivor_id)
    ProcessingRestriction.objects.filter(profile_id=absorbed_id).update(profile_id=survivor_id)
    consent_state_rebuild(profile_id=absorbed_id)
    consent_state_rebuild(profile_id=survivor_id)


def consent_profiles_unmerged(
    *, survivor_id: int, restored_id: int, origin_ids: Iterable[int]
) -> None:
    """Undo a merge: entries recorded on `origin_ids` go back to the restored profile."""
    origins = list(origin_ids)
    ConsentEvent.objects.filter(profile_id=survivor_id, origin_profile_id__in=origins).update(
        profile_id=restored_id
    )
    ProcessingRestriction.objects.filter(
        profile_id=survivor_id, origin_profile_id__in=origins
    ).update(profile_id=restored_id)
    consent_state_rebuild(profile_id=restored_id)
    consent_state_rebuild(profile_id=survivor_id)
