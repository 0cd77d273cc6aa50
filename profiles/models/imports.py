"""Profiles models: a file import run — its file, column mapping, progress and counts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cdp.core.models import TimeStampedModel


class ImportRun(TimeStampedModel):
    """One import of a CRM, orders or events file; the row is the job's state and progress."""

    class Kind(models.TextChoices):
        CRM = "crm", "CRM records"
        ORDERS = "orders", "Orders"
        EVENTS = "events", "Events (Segment-spec NDJSON or CSV)"

    class State(models.TextChoices):
        MAPPING = "mapping", "Waiting for column mapping"
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    source = models.ForeignKey("profiles.Source", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to="imports/", max_length=300)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10, default="csv")
    mapping = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_stored = models.PositiveBigIntegerField(default=0)
    rows_quarantined = models.PositiveBigIntegerField(default=0)
    rows_duplicate = models.PositiveBigIntegerField(default=0)
    rows_suppressed = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "file import"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, int(100 * self.bytes_read / self.bytes_total))
