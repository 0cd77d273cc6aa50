"""Consent selectors: reads of purposes, consent state and history, restrictions, suppression,
data-subject requests and their queue. PII masking happens here."""

from .ledger import (
    consent_allows,
    consent_granted_exists,
    consent_history_qs,
    consent_states_for,
    evidence_masked,
    purpose_by_category,
    purposes_active,
    restrictions_active_for,
    suppressed_hashes,
    suppression_is_empty,
)
from .requests import (
    QueueRow,
    dsr_chart_config,
    dsr_get,
    dsr_list_due,
    dsr_queue,
    dsr_report_document,
    identifiers_masked,
)

__all__ = [
    "QueueRow",
    "consent_allows",
    "consent_granted_exists",
    "consent_history_qs",
    "consent_states_for",
    "dsr_chart_config",
    "dsr_get",
    "dsr_list_due",
    "dsr_queue",
    "dsr_report_document",
    "evidence_masked",
    "identifiers_masked",
    "purpose_by_category",
    "purposes_active",
    "restrictions_active_for",
    "suppressed_hashes",
    "suppression_is_empty",
]
