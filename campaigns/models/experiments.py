"""Campaigns models: recorded arm assignments, goal conversions and result snapshots."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Assignment(models.Model):
    """The arm (variant key or "holdout") a person was put in, the first time they were
    eligible. Recorded once and never moved, so later weight edits change no one's arm."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="assignments"
    )
    profile_id = models.BigIntegerField(null=True, blank=True)  # None once erased
    arm = models.CharField(max_length=50)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "profile_id"], name="campaigns_assignment_one_per_person"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "arm"], name="campaigns_assignment_arm"),
            models.Index(fields=["profile_id"], name="campaigns_assignment_profile"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.profile_id}→{self.arm}"


class Conversion(models.Model):
    """The first goal event of an assigned person within the attribution window."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="conversions"
    )
    profile_id = models.BigIntegerField(null=True, blank=True)  # None once erased
    arm = models.CharField(max_length=50)
    converted_at = models.DateTimeField()
    event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "profile_id"], name="campaigns_conversion_one_per_person"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "arm"], name="campaigns_conversion_arm")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.profile_id} converted"


class ResultSnapshot(models.Model):
    """Aggregated results of a campaign at one moment (counts and statistics, no people)."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="snapshots"
    )
    computed_at = models.DateTimeField(default=timezone.now)
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["-computed_at", "-pk"]
        indexes = [models.Index(fields=["campaign", "computed_at"], name="campaigns_snapshot_at")]

    def __str__(self) -> str:
        return f"results of {self.campaign_id} at {self.computed_at:%Y-%m-%d %H:%M}"
