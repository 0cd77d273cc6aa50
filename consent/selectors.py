"""Consent selectors: reads of purposes, current consent states and the suppression list."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from .models import ConsentEvent, ConsentState, Purpose, Suppression


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
    """True when nothing is suppressed (one cheap query), so ingestion can skip hashing."""
    return not Suppression.objects.exists()


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


def consent_allows(*, profile_id: int, purpose_key: str) -> bool:
    """May this person's data be used for `purpose_key` now?

    Purposes on another legal basis (contract, legitimate interest) are allowed unless the
    person withdrew/objected (a withdrawn state exists); consent purposes need a granted state.
    Unknown or inactive purposes are refused.
    """
    purpose = Purpose.objects.filter(key=purpose_key, is_active=True).first()
    if purpose is None:
        return False
    state = ConsentState.objects.filter(profile_id=profile_id, purpose=purpose).first()
    if purpose.requires_consent:
        return state is not None and state.is_granted
    return state is None or state.is_granted


def consent_granted_exists(*, purpose_key: str, profile_ref: str = "pk") -> Exists:
    """SQL condition for segment compilers: the outer profile (OuterRef(profile_ref)) has a
    granted state for `purpose_key`. Use inside .filter() on profiles."""
    return Exists(
        ConsentState.objects.filter(
            profile_id=OuterRef(profile_ref), purpose__key=purpose_key, is_granted=True
        )
    )
