"""Consent compute: which purpose an event serves, what an ingestion policy does with it, and
the minimal payload kept when it is stripped or dropped (pure: dicts in, dicts out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ANALYTICS = "analytics"
SERVICE = "service"

KEEP = "keep"
STRIP = "strip"
DROP = "drop"
POLICIES = (KEEP, STRIP, DROP)

# Messages needed to serve the customer (contract): their account (identify, alias, group) and
# their orders. Everything else (page, screen, other track calls) is behavioural analytics.
_SERVICE_TYPES = frozenset({"identify", "alias", "group"})
SERVICE_EVENTS = frozenset({"Order Completed", "Order Cancelled", "Order Refunded"})
# Track calls whose whole point is to carry a consent choice are always kept.
CONSENT_EVENTS = frozenset(
    {"Consent Given", "Consent Updated", "Consent Withdrawn", "Segment Consent Preference Updated"}
)
# Context fields that survive stripping: the consent signals themselves and the library name.
_KEPT_CONTEXT = ("consent", "gpc", "library")


class UnknownPolicyError(ValueError):
    """A consent policy other than keep, strip or drop."""


@dataclass(frozen=True, kw_only=True)
class IngestionAction:
    """What ingestion does with one event: keep it as is, keep an anonymous stripped form
    (no identifiers, no properties, no context), or keep only a tombstone for deduplication."""

    action: str  # KEEP, STRIP or DROP
    reason: str  # "", "no_analytics_consent" or "restricted"
    payload: dict[str, Any]


def event_purpose(payload: Mapping[str, Any]) -> str:
    """SERVICE for account, order and consent messages; ANALYTICS for behavioural ones."""
    kind = payload.get("type")
    if kind in _SERVICE_TYPES:
        return SERVICE
    if kind == "track" and (
        payload.get("event") in SERVICE_EVENTS or payload.get("event") in CONSENT_EVENTS
    ):
        return SERVICE
    return ANALYTICS


def has_gpc(payload: Mapping[str, Any]) -> bool:
    """True when the message carries a Global Privacy Control opt-out (context.gpc true, as the
    tracking API sets it from a `Sec-GPC: 1` header, or context.globalPrivacyControl true)."""
    context = payload.get("context")
    if not isinstance(context, Mapping):
        return False
    return context.get("gpc") is True or context.get("globalPrivacyControl") is True


def stripped_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The anonymous form of an analytics event: type, name and time; no identifiers,
    properties, traits or context except the consent signals."""
    context = payload.get("context") if isinstance(payload.get("context"), Mapping) else {}
    kept: dict[str, Any] = {
        key: payload[key]
        for key in ("type", "event", "name", "messageId", "timestamp")
        if key in payload
    }
    kept_context = {key: context[key] for key in _KEPT_CONTEXT if key in context}
    if kept_context:
        kept["context"] = kept_context
    kept["stripped"] = True
    return kept


def tombstone_payload(payload: Mapping[str, Any], *, reason: str) -> dict[str, Any]:
    """What stays of a dropped event: enough to deduplicate a replay, nothing about anyone."""
    return {"type": payload.get("type"), "messageId": payload.get("messageId"), "dropped": reason}


def ingestion_action(
    *,
    payload: Mapping[str, Any],
    policy: str,
    analytics_allowed: bool,
    is_restricted: bool,
) -> IngestionAction:
    """Apply a source's consent policy to one event.

    A restricted person's events (GDPR Art. 18) are dropped whatever the policy, except the
    consent messages that record their choices. Analytics events of a person without analytics
    consent are kept, stripped or dropped per `policy`; service events are always kept.
    """
    if policy not in POLICIES:
        raise UnknownPolicyError(f"unknown consent policy {policy!r}; use one of {POLICIES}")
    purpose = event_purpose(payload)
    is_consent_message = payload.get("type") == "track" and payload.get("event") in CONSENT_EVENTS
    if is_restricted and not is_consent_message:
        return IngestionAction(
            action=DROP,
            reason="restricted",
            payload=tombstone_payload(payload, reason="restricted"),
        )
    if purpose == SERVICE or analytics_allowed or policy == KEEP:
        return IngestionAction(action=KEEP, reason="", payload=dict(payload))
    reason = "no_analytics_consent"
    if policy == STRIP:
        return IngestionAction(action=STRIP, reason=reason, payload=stripped_payload(payload))
    return IngestionAction(
        action=DROP, reason=reason, payload=tombstone_payload(payload, reason=reason)
    )
