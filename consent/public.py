"""Consent public surface: the only consent module other apps import."""

from __future__ import annotations

from consent.selectors import (
    consent_allows,
    consent_granted_exists,
    consent_history_qs,
    consent_states_for,
    suppressed_hashes,
    suppression_is_empty,
)
from consent.services import (
    ConsentChoice,
    consent_profiles_merged,
    consent_profiles_unmerged,
    consent_record,
    consent_record_from_categories,
    suppression_add,
)

__all__ = [
    "ConsentChoice",
    "consent_allows",
    "consent_granted_exists",
    "consent_history_qs",
    "consent_profiles_merged",
    "consent_profiles_unmerged",
    "consent_record",
    "consent_record_from_categories",
    "consent_states_for",
    "suppressed_hashes",
    "suppression_add",
    "suppression_is_empty",
]
