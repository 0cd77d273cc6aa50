"""Core kernel: the audit log writer. Every PII view and every privacy action calls it."""

from __future__ import annotations

from typing import Any

from django.db import models

from .actor import Actor
from .models import AuditEvent


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row. `action` is "<app>.<entity>.<verb>"; details hold ids, never PII."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    return AuditEvent.objects.create(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
        ip_address=actor.ip_address,
    )
