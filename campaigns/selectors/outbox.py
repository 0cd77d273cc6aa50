"""Campaigns selectors: the send log (filterable) and the dead-letter list."""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.models import DeadLetter, Send


def sends_log_qs(
    *,
    campaign_id: int | None = None,
    status: str = "",
    reason: str = "",
    arm: str = "",
) -> QuerySet[Send]:
    """Outbox rows, newest first, optionally of one campaign / status / reason / arm."""
    sends = Send.objects.all()
    if campaign_id is not None:
        sends = sends.filter(campaign_id=campaign_id)
    if status:
        sends = sends.filter(status=status)
    if reason:
        sends = sends.filter(reason=reason)
    if arm:
        sends = sends.filter(arm=arm)
    return sends.order_by("-created_at", "-pk")


def dead_letters_qs() -> QuerySet[DeadLetter]:
    return DeadLetter.objects.select_related("campaign").order_by("-finished_at", "-pk")
