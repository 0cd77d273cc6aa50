"""Consent selectors: purposes, current consent, the ledger, restrictions and suppression."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from consent.models import ConsentEvent, ConsentState, ProcessingRestriction, Purpose, Suppression

_PII_EVIDENCE = frozenset({"ip", "user_agent", "email", "phone"})
# The table name comes from model metadata.
_SUPPRESSION_PROBE = f"SELECT 1 FROM {Suppression._meta.db_table} LIMIT 1"  # noqa: S608


def purposes_active() -> QuerySet[Purpose]:
    return Purpose.objects.filter(is_active=True)


def purpose_by_category(categories: Iterable[str]) -> dict[str, Purpose]:
    """Map Segment consent category names (case-insensitive) and purpose keys to purposes."""
    wanted = {category.lower() for category in categories}
    found: dict[str, Purpose] = {}
    for purpose in purposes_active():
        names = {purpose.key.lower(), *(alias.lower() for alias in purpose.category_aliases)}
        for name in names & wanted:
            found[name] = purpose
    return found


def suppression_is_empty() -> bool:
    """True when nothing is suppressed (one cheap query), so ingestion can skip hashing.
    Plain SQL: it runs on every tracking request, and building the ORM query cost more than
    running it."""
    with connection.cursor() as cursor:
        cursor.execute(_SUPPRESSION_PROBE)
        return cursor.fetchone() is None


def suppressed_hashes(hashes: Iterable[str]) -> set[str]:
    """The subset of `hashes` on the suppression list (one query)."""
    wanted = list(set(hashes))
    if not wanted:
        return set()
    return set(
        Suppression.objects.filter(value_hash__in=wanted).values_list("value_hash", flat=True)
    )


def consent_states_for(profile_id: int) -> dict[str, bool]:
    """Current state per purpose key of one profile (purposes never recorded are absent)."""
    rows = ConsentState.objects.filter(profile_id=profile_id).values_list(
        "purpose__key", "is_granted"
    )
    return dict(rows)


def consent_history_qs(profile_ids: Iterable[int]) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(profile_id__in=list(profile_ids)).select_related("purpose")


def restrictions_active_for(profile_id: int) -> QuerySet[ProcessingRestriction]:
    return ProcessingRestriction.objects.filter(profile_id=profile_id, lifted_at=None)


def _blocking(purpose: Purpose) -> QuerySet[ProcessingRestriction]:
    """Active restrictions that stop `purpose`: any restriction; objections for marketing."""
    rows = ProcessingRestriction.objects.filter(lifted_at=None)
    if not purpose.is_marketing:
        rows = rows.filter(kind=ProcessingRestriction.Kind.RESTRICTION)
    return rows


def consent_allows(*, profile_id: int, purpose_key: str) -> bool:
    """May this person's data be used for `purpose_key` now?

    Consent purposes need a granted state; purposes on another legal basis (contract,
    legitimate interest) are allowed unless the person withdrew/objected. An active restriction
    of processing refuses every purpose; an active objection refuses marketing purposes.
    Unknown or inactive purposes are refused.
    """
    purpose = Purpose.objects.filter(key=purpose_key, is_active=True).first()
    if purpose is None:
        return False
    if _blocking(purpose).filter(profile_id=profile_id).exists():
        return False
    state = ConsentState.objects.filter(profile_id=profile_id, purpose=purpose).first()
    if purpose.requires_consent:
        return state is not None and state.is_granted
    return state is None or state.is_granted


def consent_granted_exists(*, purpose_key: str, profile_ref: str = "pk") -> Exists:
    """SQL condition for segment compilers: the outer profile (OuterRef(profile_ref)) may be
    used for `purpose_key` — the same rule as consent_allows, in one EXISTS. Use inside
    .filter() on profiles."""
    purpose = Purpose.objects.filter(key=purpose_key, is_active=True).first()
    if purpose is None:
        return Exists(ConsentState.objects.none())
    if purpose.requires_consent:
        return Exists(
            ConsentState.objects.filter(
                profile_id=OuterRef(profile_ref), purpose=purpose, is_granted=True
            ).exclude(Exists(_blocking(purpose).filter(profile_id=OuterRef("profile_id"))))
        )
    withdrawn = ConsentState.objects.filter(
        profile_id=OuterRef(OuterRef(profile_ref)), purpose_id=OuterRef("pk"), is_granted=False
    )
    blocked = _blocking(purpose).filter(profile_id=OuterRef(OuterRef(profile_ref)))
    return Exists(
        Purpose.objects.filter(pk=purpose.pk).exclude(Exists(withdrawn)).exclude(Exists(blocked))
    )


def evidence_masked(evidence: Mapping[str, Any], *, can_view_pii: bool) -> dict[str, Any]:
    """Consent evidence for display: IP, user agent and contact values hidden without PII
    access (the masking is here so admin and API agree)."""
    if can_view_pii:
        return dict(evidence)
    return {
        key: ("***" if key in _PII_EVIDENCE and value not in (None, "") else value)
        for key, value in evidence.items()
    }
