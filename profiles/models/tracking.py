"""Profiles models: tracking plans (per source, a JSON Schema per event name and for traits),
the violations inbox they feed, and data-quality report snapshots per source."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cdp.core.models import TimeStampedModel


class TrackingPlan(TimeStampedModel):
    """What one source is allowed to send. A message breaking the plan is quarantined or
    dropped (`mode`), and counted in TrackingViolation either way."""

    class Mode(models.TextChoices):
        QUARANTINE = "quarantine", "Quarantine violating messages"
        BLOCK = "block", "Drop violating messages"

    source = models.OneToOneField(
        "profiles.Source", on_delete=models.CASCADE, related_name="tracking_plan"
    )
    events = models.JSONField(default=dict, blank=True)  # event name -> JSON Schema of properties
    traits_schema = models.JSONField(default=dict, blank=True)  # JSON Schema of traits
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.QUARANTINE)
    allow_unplanned_events = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["source"]

    def __str__(self) -> str:
        return f"tracking plan of {self.source_id} ({self.mode})"


class TrackingViolation(models.Model):
    """How often messages of one source broke one rule of its plan, by event and property."""

    source = models.ForeignKey("profiles.Source", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=200, blank=True)  # "" for identify traits
    property = models.CharField(max_length=200, blank=True)  # JSON path; "" for the whole message
    code = models.CharField(max_length=40)  # JSON Schema keyword: type, required, ... or unplanned
    message = models.CharField(max_length=300, blank=True)
    count = models.PositiveBigIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_message_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event", "property", "code"],
                name="profiles_violation_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event or 'traits'}.{self.property or '*'} {self.code} ×{self.count}"


class QualityReport(models.Model):
    """A data-quality snapshot of one source: completeness and validity per field, and the
    duplicates identity resolution found among its records."""

    source = models.ForeignKey("profiles.Source", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    records = models.PositiveBigIntegerField(default=0)
    fields = models.JSONField(default=list, blank=True)  # quality_summary rows
    issues = models.JSONField(default=dict, blank=True)  # rule code -> count
    duplicates = models.JSONField(default=dict, blank=True)  # merged / pending review / rejected

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["source", "created_at"], name="profiles_quality_source")]

    def __str__(self) -> str:
        return f"quality of {self.source_id} at {self.created_at:%Y-%m-%d %H:%M}"
