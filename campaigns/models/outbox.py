"""Campaigns models: the send outbox — one row per person and trigger occurrence, which is the
send's whole state (queued → sending → sent / skipped with a reason / failed)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Send(models.Model):
    """One message (or audience add/remove) to one person for one trigger occurrence.

    The unique key (campaign, profile, occurrence) makes a trigger fire at most one row
    however often it is replayed. Workers claim rows with select_for_update(skip_locked),
    mark them `sending` with a lease, send, and mark them `sent`; a row left `sending` past
    its lease is recovered by the sweeper (see docs/campaigns.md for email vs webhooks).
    `delivery_id` is the idempotency key receivers see (X-CDP-Delivery, Message-ID).
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        SKIPPED = "skipped"
        FAILED = "failed"

    class Kind(models.TextChoices):
        MESSAGE = "message"
        AUDIENCE_ADD = "audience_add", "Audience add"
        AUDIENCE_REMOVE = "audience_remove", "Audience remove"

    class Reason(models.TextChoices):
        HOLDOUT = "holdout", "Holdout (control group)"
        NO_CONSENT = "no_consent", "No consent for the purpose"
        CAPPED = "capped", "Frequency cap reached"
        SUPPRESSED = "suppressed", "Identifier suppressed"
        QUIET_HOURS = "quiet_hours", "Quiet hours"
        EXITED = "exited", "Exit condition met"
        NOT_IN_AUDIENCE = "not_in_audience", "No longer in the audience"
        NO_ADDRESS = "no_address", "No email address"
        CAMPAIGN_ENDED = "campaign_ended", "Campaign ended"
        OUTCOME_UNKNOWN = "outcome_unknown", "Worker lost after handing over (not resent)"
        REJECTED = "rejected", "Rejected by the receiver"
        RETRIES_EXHAUSTED = "retries_exhausted", "Retries exhausted"
        RENDER_ERROR = "render_error", "Template failed to render"

    id = models.BigAutoField(primary_key=True)
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="sends"
    )
    profile_id = models.BigIntegerField(null=True, blank=True)  # None once erased
    occurrence_key = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MESSAGE)
    arm = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    error = models.CharField(max_length=300, blank=True)
    trigger_event_id = models.BigIntegerField(null=True, blank=True)
    triggered_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "profile_id", "occurrence_key"],
                name="campaigns_send_once_per_occurrence",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="queued"), name="campaigns_send_due"
            ),
            models.Index(
                fields=["lease_until"], condition=Q(status="sending"), name="campaigns_send_lease"
            ),
            models.Index(fields=["profile_id", "sent_at"], name="campaigns_send_profile"),
            models.Index(fields=["campaign", "status"], name="campaigns_send_campaign"),
        ]

    def __str__(self) -> str:
        return f"send #{self.pk} ({self.status})"


class DeadLetterManager(models.Manager["DeadLetter"]):
    def get_queryset(self) -> models.QuerySet[DeadLetter]:
        return super().get_queryset().filter(status=Send.Status.FAILED)


class DeadLetter(Send):
    """The dead-letter list: sends that failed for good (retries exhausted, rejected, lost)."""

    objects = DeadLetterManager()

    class Meta:
        proxy = True
        verbose_name = "dead letter"
