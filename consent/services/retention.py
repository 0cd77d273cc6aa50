"""Consent services: the retention purge — delete raw events older than their rule allows,
and record the counts in the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cdp.core.actor import SYSTEM
from cdp.core.audit import audit_record
from consent.compute.policy import SERVICE_EVENTS
from consent.models import RetentionRule

from .providers import RetentionSpec, events_purge

ANALYTICS_EVENT_TYPES = ("page", "screen", "track")


def _spec(rule: RetentionRule, now: datetime) -> RetentionSpec:
    before = now - timedelta(days=rule.keep_days)
    types: tuple[str, ...] = (rule.event_type,) if rule.event_type else ()
    exclude: tuple[str, ...] = ()
    if rule.purpose is not None and rule.purpose.key == "analytics":
        # Behavioural events; orders are kept (contract, and usually a legal retention duty).
        types = types or ANALYTICS_EVENT_TYPES
        exclude = tuple(sorted(SERVICE_EVENTS))
    names: tuple[str, ...] = (rule.event_name,) if rule.event_name else ()
    return RetentionSpec(
        before=before, event_types=types, event_names=names, exclude_event_names=exclude
    )


def retention_purge(*, now: datetime | None = None) -> dict[int, int]:
    """Apply every active rule once; return events deleted per rule id. Each rule's count goes
    to the audit log ("consent.retention.purge"). Idempotent: a second run deletes nothing new.
    A rule on a purpose other than analytics names no raw events yet and purges nothing."""
    now = now or timezone.now()
    purged: dict[int, int] = {}
    for rule in RetentionRule.objects.filter(is_active=True).select_related("purpose"):
        spec = _spec(rule, now)
        if rule.purpose is not None and not (spec.event_types or spec.event_names):
            purged[rule.pk] = 0
            continue
        count = events_purge(spec=spec)
        with transaction.atomic():
            RetentionRule.objects.filter(pk=rule.pk).update(last_run_at=now, last_purged=count)
            audit_record(
                actor=SYSTEM,
                action="consent.retention.purge",
                target=rule,
                details={"deleted_events": count, "before": spec.before.isoformat()},
            )
        purged[rule.pk] = count
    return purged
