"""Consent models: purposes and the consent ledger, restrictions, suppression, enforcement
counts, data-subject requests with their steps and verification codes, retention rules."""

from .ledger import (
    ConsentEvent,
    ConsentState,
    EnforcementCount,
    ProcessingRestriction,
    Purpose,
    Suppression,
)
from .requests import DataSubjectRequest, RequestStep, VerificationCode
from .retention import RetentionRule

__all__ = [
    "ConsentEvent",
    "ConsentState",
    "DataSubjectRequest",
    "EnforcementCount",
    "ProcessingRestriction",
    "Purpose",
    "RequestStep",
    "RetentionRule",
    "Suppression",
    "VerificationCode",
]
