"""Campaigns models: who is in a campaign's audience (entries, exports), schedule runs,
audience export files and the cursor of the trigger sweeper."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class CampaignMembership(models.Model):
    """A person's state in a segment-driven campaign: in the audience or not, how often they
    entered (each entry is one trigger occurrence), and whether the list push holds them."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="memberships"
    )
    profile_id = models.BigIntegerField()
    is_member = models.BooleanField(default=True)
    entry_count = models.PositiveIntegerField(default=0)
    is_exported = models.BooleanField(default=False)
    sync_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "profile_id"], name="campaigns_membership_unique"
            ),
        ]
        indexes = [models.Index(fields=["profile_id"], name="campaigns_membership_profile")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.profile_id} member={self.is_member}"


class ScheduleRun(models.Model):
    """One occurrence of a scheduled campaign (e.g. the send of 2026-11-23); unique, so the
    runner can be re-run any number of times without queueing a second wave."""

    class State(models.TextChoices):
        RUNNING = "running"
        QUEUED = "queued"

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="schedule_runs"
    )
    occurrence_key = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    queued = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "occurrence_key"], name="campaigns_schedulerun_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} run {self.occurrence_key}"


class AudienceExport(models.Model):
    """A CSV snapshot of a campaign's consenting audience, written under MEDIA_ROOT."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="exports"
    )
    file = models.FileField(upload_to="campaigns/exports/", max_length=300)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export of {self.campaign_id} ({self.rows} rows)"


class TriggerCursor(models.Model):
    """How far a trigger sweeper has read (e.g. events processed up to `position`)."""

    name = models.CharField(max_length=50, unique=True)
    position = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}@{self.position:%Y-%m-%d %H:%M:%S}"
