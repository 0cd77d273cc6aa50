"""Consent models: retention rules — how long raw events of a type, name or purpose are kept."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from cdp.core.models import TimeStampedModel


class RetentionRule(TimeStampedModel):
    """Raw events matching the rule and older than `keep_days` are purged by a scheduled job.

    A rule names an event type (page, track ...), an event name ("Product Viewed"), or a
    purpose (analytics: every behavioural event), or a combination; at least one of them.
    """

    name = models.CharField(max_length=100)
    event_type = models.CharField(max_length=10, blank=True)
    event_name = models.CharField(max_length=200, blank=True)
    purpose = models.ForeignKey(
        "consent.Purpose", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    keep_days = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_purged = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(event_type="", event_name="", purpose__isnull=True),
                name="consent_retentionrule_has_target",
            ),
            models.CheckConstraint(condition=Q(keep_days__gte=1), name="consent_retention_days"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.keep_days} days)"

    def clean(self) -> None:
        if not (self.event_type or self.event_name or self.purpose_id):
            raise ValidationError("Name an event type, an event name or a purpose.")
