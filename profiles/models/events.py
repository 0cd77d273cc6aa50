"""Profiles models: the raw event table (one row per accepted message) and the quarantine."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Event(models.Model):
    """An accepted Segment-spec message, durable before it is acknowledged.

    `payload` keeps the message as received (NULs stripped); the columns beside it are what the
    pipeline and the segment compiler query. `profile` is the resolved owner (moves on merge);
    `origin_profile` is the first owner, for exact unmerges.
    """

    class Type(models.TextChoices):
        IDENTIFY = "identify"
        TRACK = "track"
        PAGE = "page"
        SCREEN = "screen"
        GROUP = "group"
        ALIAS = "alias"

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSED = "processed"
        FAILED = "failed"
        DROPPED = "dropped"  # kept out of profiles by policy (e.g. no analytics consent)

    id = models.BigAutoField(primary_key=True)
    # No single-column index on source or profile: profiles_event_unique_message leads with
    # source and profiles_event_timeline with profile, and every extra index slows ingestion.
    source = models.ForeignKey(
        "profiles.Source", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    message_id = models.CharField(max_length=128)
    type = models.CharField(max_length=10, choices=Type.choices)
    event = models.CharField(max_length=200, blank=True)
    user_id = models.CharField(max_length=255, blank=True)
    anonymous_id = models.CharField(max_length=255, blank=True)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    profile = models.ForeignKey(
        "profiles.Profile",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    # Indexed (Meta, partial): deleting a profile (erasure) checks this column, and unmerge
    # filters on it; without the index an erasure scanned the whole table (5.6 s per profile at
    # 21M events).
    origin_profile = models.ForeignKey(
        "profiles.Profile",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "message_id"], name="profiles_event_unique_message"
            ),
        ]
        indexes = [
            # profile and origin_profile are NULL until processing: partial indexes cost nothing
            # at ingestion (measured: ~12% of the insert), and `profile_id = X` still uses them.
            models.Index(
                fields=["profile", "timestamp"],
                condition=Q(profile__isnull=False),
                name="profiles_event_timeline",
            ),
            models.Index(
                fields=["origin_profile"],
                condition=Q(origin_profile__isnull=False),
                name="profiles_event_origin",
            ),
            models.Index(fields=["event", "timestamp"], name="profiles_event_name_time"),
            models.Index(
                fields=["received_at"],
                condition=Q(status="pending"),
                name="profiles_event_pending",
            ),
            # Segment compiler and computed traits: per-profile lookups of one event in a window,
            # and index-only scans of who did an event in a window (processed events only).
            models.Index(
                fields=["profile", "event", "timestamp"],
                condition=Q(status="processed"),
                name="profiles_event_profile_name",
            ),
            models.Index(
                fields=["event", "timestamp", "profile"],
                condition=Q(status="processed"),
                name="profiles_event_name_profile",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event or ''} #{self.pk}".strip()

    @property
    def properties(self) -> dict:
        return self.payload.get("properties") or {}


class QuarantinedRecord(models.Model):
    """A message or file row that failed validation, kept with its reason for fix and replay."""

    class Status(models.TextChoices):
        OPEN = "open"
        REPLAYED = "replayed"
        DISCARDED = "discarded"

    class Origin(models.TextChoices):
        API = "api"
        FILE = "file"
        PIPELINE = "pipeline"

    source = models.ForeignKey("profiles.Source", on_delete=models.CASCADE, related_name="+")
    import_run = models.ForeignKey(
        "profiles.ImportRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quarantined",
    )
    origin = models.CharField(max_length=10, choices=Origin.choices)
    position = models.PositiveIntegerField(default=0)  # index in the batch or row in the file
    message_id = models.CharField(max_length=128, blank=True)
    reason = models.CharField(max_length=50, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "quarantined record"
        indexes = [models.Index(fields=["status", "source"], name="profiles_quarantine_open")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.origin} #{self.position})"
