"""Consent services: record consent, rebuild derived state, follow merges, suppress identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cdp.core import jobs

from .models import ConsentEvent, ConsentState, Purpose, Suppression
from .selectors import purpose_by_category


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

    A choice equal to the current state is not recorded again (idempotent replays).
    Unknown purpose keys are ignored by the caller's mapping; here they raise Purpose.DoesNotExist.
    """
    recorded_at = recorded_at or timezone.now()
    entries: list[ConsentEvent] = []
    with transaction.atomic():
        for choice in choices:
            purpose = Purpose.objects.get(key=choice.purpose_key)
            state = ConsentState.objects.filter(profile_id=profile_id, purpose=purpose).first()
            if state is not None and state.is_granted == choice.is_granted:
                continue
            if state is not None and state.entry.recorded_at > recorded_at:
                # An older choice arriving late goes in the ledger but does not win.
                entries.append(
                    _ledger_append(profile_id, purpose, choice, source, recorded_at, evidence)
                )
                continue
            entry = _ledger_append(profile_id, purpose, choice, source, recorded_at, evidence)
            entries.append(entry)
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
        source=source,
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
    """Follow a merge: the absorbed person's ledger now speaks for the survivor."""
    ConsentEvent.objects.filter(profile_id=absorbed_id).update(profile_id=survivor_id)
    consent_state_rebuild(profile_id=absorbed_id)
    consent_state_rebuild(profile_id=survivor_id)


def consent_profiles_unmerged(
    *, survivor_id: int, restored_id: int, origin_ids: Iterable[int]
) -> None:
    """Undo a merge: entries recorded on `origin_ids` go back to the restored profile."""
    ConsentEvent.objects.filter(
        profile_id=survivor_id, origin_profile_id__in=list(origin_ids)
    ).update(profile_id=restored_id)
    consent_state_rebuild(profile_id=restored_id)
    consent_state_rebuild(profile_id=survivor_id)


def suppression_add(
    *, hashes: Iterable[tuple[str, str]], reason: str, request_id: int | None = None
) -> int:
    """Add (identifier_type, keyed hash) pairs to the suppression list. Idempotent."""
    rows = [
        Suppression(
            value_hash=value_hash, identifier_type=kind, reason=reason, request_id=request_id
        )
        for kind, value_hash in hashes
    ]
    created = Suppression.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)
