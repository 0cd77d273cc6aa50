"""Consent public surface: the only consent module other apps import."""

from __future__ import annotations

from consent.compute.policy import has_gpc
from consent.selectors import (
    consent_allows,
    consent_granted_exists,
    consent_history_qs,
    consent_states_for,
    suppressed_hashes,
    suppression_is_empty,
)
from consent.services.enforcement import (
    IngestionDecision,
    consent_ingest_event,
    consent_plain_event_keepers,
    enforcement_count_add,
)
from consent.services.ledger import (
    ConsentChoice,
    consent_profiles_merged,
    consent_profiles_unmerged,
    consent_record,
    consent_record_from_categories,
)
from consent.services.providers import (
    Rectification,
    ResolvedSubject,
    RetentionSpec,
    privacy_providers_register,
)
from consent.services.pseudonyms import pseudonymise, pseudonymise_rows
from consent.services.suppression import suppression_add

__all__ = [
    "ConsentChoice",
    "IngestionDecision",
    "Rectification",
    "ResolvedSubject",
    "RetentionSpec",
    "consent_allows",
    "consent_granted_exists",
    "consent_history_qs",
    "consent_ingest_event",
    "consent_plain_event_keepers",
    "consent_profiles_merged",
    "consent_profiles_unmerged",
    "consent_record",
    "consent_record_from_categories",
    "consent_states_for",
    "enforcement_count_add",
    "has_gpc",
    "privacy_providers_register",
    "pseudonymise",
    "pseudonymise_rows",
    "suppressed_hashes",
    "suppression_add",
    "suppression_is_empty",
]
