"""Consent services: privacy configuration edited in the admin — purposes and retention
rules — saved with an audit row."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from consent.models import Purpose, RetentionRule


@transaction.atomic
def purpose_save(*, purpose: Purpose, changed: Sequence[str], actor: Actor) -> Purpose:
    """Create or update a purpose (legal basis, channels, flags). Validates the row first;
    raises django ValidationError on bad input. Audited with the changed field names."""
    purpose.full_clean()
    created = purpose.pk is None
    purpose.save()
    audit_record(
        actor=actor,
        action="consent.purpose.create" if created else "consent.purpose.change",
        target=purpose,
        details={"fields": sorted(changed)},
    )
    return purpose


@transaction.atomic
def retention_rule_save(
    *, rule: RetentionRule, changed: Sequence[str], actor: Actor
) -> RetentionRule:
    """Create or update a retention rule; raises django ValidationError without a target.
    Audited with the changed field names."""
    rule.full_clean()
    created = rule.pk is None
    rule.save()
    audit_record(
        actor=actor,
        action="consent.retention.create" if created else "consent.retention.change",
        target=rule,
        details={"fields": sorted(changed), "keep_days": rule.keep_days},
    )
    return rule
