"""Segments models: segment definitions, membership with history, size over time, and the
definitions of custom computed traits."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cdp.core.models import TimeStampedModel

DEFAULT_REFRESH_CRON = "0 * * * *"  # hourly


class Segment(TimeStampedModel):
    """An audience. Dynamic segments are a rule tree (`rule_tree`, see compute.rule_tree)
    refreshed on `refresh_cron` and, when `is_realtime`, re-evaluated for the profiles an event
    touched. Static segments are a snapshot of a rule tree or an uploaded list: their members
    change only when someone re-snapshots or uploads again.
    """

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (rules, refreshed)"
        STATIC = "static", "Static (snapshot or uploaded list)"

    class Origin(models.TextChoices):
        RULES = "rules", "Rule builder"
        RFM = "rfm", "RFM (ready-made)"
        UPLOAD = "upload", "Uploaded list"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.RULES)
    rule_tree = models.JSONField(default=dict, blank=True)
    is_realtime = models.BooleanField(default=False)
    refresh_cron = models.CharField(max_length=100, default=DEFAULT_REFRESH_CRON)
    next_refresh_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_refresh_ms = models.PositiveIntegerField(null=True, blank=True)
    refresh_error = models.CharField(max_length=500, blank=True)
    # Bumped on every change of the definition; a refresh records the version it computed.
    definition_version = models.PositiveIntegerField(default=1)
    refreshed_version = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    is_archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(
                fields=["next_refresh_at"],
                condition=Q(kind="dynamic", is_archived=False),
                name="segments_segment_due",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dynamic(self) -> bool:
        return self.kind == self.Kind.DYNAMIC


class SegmentMembership(models.Model):
    """One stay of a profile in a segment: entered at, exited at (None while a member).

    The current members are the rows with `exited_at` NULL (at most one per profile and
    segment); older rows are the history.
    """

    class Cause(models.TextChoices):
        REFRESH = "refresh"
        REALTIME = "realtime"
        SNAPSHOT = "snapshot"
        UPLOAD = "upload"

    id = models.BigAutoField(primary_key=True)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    profile = models.ForeignKey("profiles.Profile", on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField()
    exited_at = models.DateTimeField(null=True, blank=True)
    entered_by = models.CharField(max_length=10, choices=Cause.choices)
    exited_by = models.CharField(max_length=10, choices=Cause.choices, blank=True)

    class Meta:
        ordering = ["-entered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "profile"],
                condition=Q(exited_at__isnull=True),
                name="segments_membership_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["profile", "segment"], name="segments_membership_profile"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} in {self.segment_id}"

    @property
    def is_current(self) -> bool:
        return self.exited_at is None


class SegmentSizePoint(models.Model):
    """The size of a segment after one refresh, for the size-over-time chart."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="size_points")
    measured_at = models.DateTimeField(default=timezone.now)
    size = models.PositiveIntegerField()
    entered = models.PositiveIntegerField(default=0)
    exited = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["segment", "measured_at"]
        indexes = [models.Index(fields=["segment", "measured_at"], name="segments_size_series")]

    def __str__(self) -> str:
        return f"{self.segment_id}@{self.measured_at:%Y-%m-%d %H:%M}={self.size}"


class ComputedTrait(TimeStampedModel):
    """A custom computed trait a marketer defined: an aggregate of an event property over a
    window. Values live on the profile (profiles ComputedTraits.custom[key])."""

    class Aggregate(models.TextChoices):
        COUNT = "count", "Count of events"
        SUM = "sum", "Sum of a property"
        AVG = "avg", "Average of a property"
        MIN = "min", "Minimum of a property"
        MAX = "max", "Maximum of a property"
        DISTINCT = "distinct", "Distinct values of a property"

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    event = models.CharField(max_length=200)
    property = models.CharField(max_length=100, blank=True)
    aggregate = models.CharField(max_length=10, choices=Aggregate.choices)
    window_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Only events of the last N days; empty = all time."
    )
    computed_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["key"]
        verbose_name = "custom computed trait"

    def __str__(self) -> str:
        return self.key


from segments.ml_models import *  # noqa: E402, F403  (ML models: clusters, runs, scores)
