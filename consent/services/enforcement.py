"""Consent services: enforcement at ingestion — record Global Privacy Control signals, apply
each source's consent policy to an event, and count what enforcement changed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from consent.compute.policy import (
    ANALYTICS,
    DROP,
    KEEP,
    POLICIES,
    STRIP,
    event_purpose,
    has_gpc,
    ingestion_action,
)
from consent.models import EnforcementCount, ProcessingRestriction, Purpose
from consent.selectors import consent_allows

from .ledger import ConsentChoice, consent_record

logger = logging.getLogger(__name__)

ANALYTICS_PURPOSE = "analytics"
_ACTION_COUNTED = {STRIP: "stripped", DROP: "dropped"}


@dataclass(frozen=True, kw_only=True)
class IngestionDecision:
    """What processing must do with one stored event: `action` keep, strip or drop; `payload`
    is what to store (the original, its anonymous stripped form, or a tombstone)."""

    action: str
    reason: str
    payload: dict[str, Any]
    gpc_recorded: bool


def consent_policy_of(source_settings: Mapping[str, Any] | None) -> str:
    """The consent policy of a source: Source.settings["consent_policy"], else the deployment
    default CDP_CONSENT_DEFAULT_POLICY (keep). An unknown value fails closed: drop."""
    default = getattr(settings, "CDP_CONSENT_DEFAULT_POLICY", KEEP)
    policy = (source_settings or {}).get("consent_policy") or default
    if policy not in POLICIES:
        logger.warning("unknown_consent_policy", extra={"policy": str(policy)[:50]})
        return DROP
    return str(policy)


def gpc_record(*, profile_id: int, recorded_at: datetime, evidence: Mapping[str, Any]) -> int:
    """Record a Global Privacy Control signal: an opt-out of every sale/sharing purpose.

    Idempotent: a person already opted out gets no new entry. Returns entries added.
    """
    keys = Purpose.objects.filter(is_sale_or_share=True, is_active=True).values_list(
        "key", flat=True
    )
    entries = consent_record(
        profile_id=profile_id,
        choices=[ConsentChoice(purpose_key=key, is_granted=False) for key in keys],
        source="gpc",
        recorded_at=recorded_at,
        evidence={**evidence, "signal": "Global Privacy Control"},
    )
    return len(entries)


def enforcement_count_add(
    *, stage: str, scope: str, action: str, reason: str, count: int = 1
) -> None:
    """Add `count` to today's counter of (stage, scope, action, reason). Safe under races."""
    key = {
        "day": timezone.now().date(),
        "stage": stage,
        "scope": scope[:100],
        "action": action,
        "reason": reason[:50],
    }
    if EnforcementCount.objects.filter(**key).update(count=F("count") + count):
        return
    try:
        with transaction.atomic():
            EnforcementCount.objects.create(**key, count=count)
    except IntegrityError:  # created meanwhile by another worker
        EnforcementCount.objects.filter(**key).update(count=F("count") + count)


def consent_plain_event_keepers(
    *, profile_ids: Iterable[int], source_settings: Mapping[str, Any] | None
) -> set[int]:
    """The profiles among `profile_ids` whose plain events from a source with these settings
    are kept exactly as `consent_ingest_event` would keep them, with nothing to record: the
    source's policy is keep and the profile is under no restriction. A plain event carries no
    GPC signal and no consent choices (the caller checks with `has_gpc` and the context).
    One query; batch processing uses it to skip the per-event call."""
    wanted = set(profile_ids)
    if not wanted or consent_policy_of(source_settings) != KEEP:
        return set()
    restricted = set(
        ProcessingRestriction.objects.filter(
            profile_id__in=wanted,
            kind=ProcessingRestriction.Kind.RESTRICTION,
            lifted_at=None,
        ).values_list("profile_id", flat=True)
    )
    return wanted - restricted


def consent_ingest_event(
    *,
    profile_id: int,
    payload: Mapping[str, Any],
    event_id: int,
    message_id: str,
    source_id: int,
    source_settings: Mapping[str, Any] | None,
    recorded_at: datetime,
) -> IngestionDecision:
    """Consent at ingestion for one event of `profile_id`, after its own consent choices were
    recorded: record a GPC signal (the event is the evidence), then apply the source's policy
    to events of people without analytics consent or under a restriction, counting what was
    stripped or dropped. Idempotent for a replayed event (the ledger skips repeats)."""
    gpc_added = 0
    if has_gpc(payload):
        gpc_added = gpc_record(
            profile_id=profile_id,
            recorded_at=recorded_at,
            evidence={"event_id": event_id, "message_id": message_id},
        )
    policy = consent_policy_of(source_settings)
    is_restricted = ProcessingRestriction.objects.filter(
        profile_id=profile_id, kind=ProcessingRestriction.Kind.RESTRICTION, lifted_at=None
    ).exists()
    analytics_allowed = True
    if policy != KEEP and event_purpose(payload) == ANALYTICS and not is_restricted:
        analytics_allowed = consent_allows(profile_id=profile_id, purpose_key=ANALYTICS_PURPOSE)
    outcome = ingestion_action(
        payload=payload,
        policy=policy,
        analytics_allowed=analytics_allowed,
        is_restricted=is_restricted,
    )
    if outcome.action in _ACTION_COUNTED:
        enforcement_count_add(
            stage=EnforcementCount.Stage.INGESTION,
            scope=f"source:{source_id}",
            action=_ACTION_COUNTED[outcome.action],
            reason=outcome.reason,
        )
    return IngestionDecision(
        action=outcome.action,
        reason=outcome.reason,
        payload=outcome.payload,
        gpc_recorded=gpc_added > 0,
    )
