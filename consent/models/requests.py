"""Consent models: data-subject requests (GDPR/CCPA), who did what when, verification codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from cdp.core.models import TimeStampedModel


def _archive_path(instance: DataSubjectRequest, filename: str) -> str:
    return f"dsr/{instance.pk}/{filename}"


class DataSubjectRequest(TimeStampedModel):
    """One request of a person to exercise a right, its lifecycle, deadline, job and proof.

    `identifiers` hold what the person gave (normalised) until the request is anonymised by an
    erasure; `identifier_hashes` (keyed) remain. The row is the job's state: `job_state`,
    `progress_*` and `report` tell what ran, and a rerun resumes from them.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        PORTABILITY = "portability", "Portability"
        ERASURE = "erasure", "Erasure"
        RECTIFICATION = "rectification", "Rectification"
        RESTRICTION = "restriction", "Restriction of processing"
        OBJECTION = "objection", "Objection to direct marketing"
        OPT_OUT = "opt_out", "Opt-out of sale/sharing (CCPA)"

    class Regime(models.TextChoices):
        GDPR = "gdpr", "GDPR"
        CCPA = "ccpa", "CCPA"

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        VERIFIED = "verified", "Identity verified"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"

    class JobState(models.TextChoices):
        IDLE = "idle"
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Channel(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"

    OPEN_STATES = (State.RECEIVED, State.VERIFIED, State.IN_PROGRESS)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    regime = models.CharField(max_length=10, choices=Regime.choices, default=Regime.GDPR)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    received_via = models.CharField(max_length=10, choices=Channel.choices)
    identifiers = models.JSONField(default=list, blank=True)  # [[type, value]]: PII
    identifier_hashes = models.JSONField(default=list, blank=True)  # [[type, keyed hash]]
    message = models.TextField(blank=True)  # the person's own words: PII
    corrections = models.JSONField(default=dict, blank=True)  # rectification {trait: value}
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_method = models.CharField(max_length=10, blank=True)  # "code" | "manual"
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.TextField(blank=True)  # rejection reason or completion note
    subject_profile_ids = models.JSONField(default=list, blank=True)
    job_state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.IDLE)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    job_heartbeat_at = models.DateTimeField(null=True, blank=True)
    job_error = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True)
    archive = models.FileField(upload_to=_archive_path, max_length=300, blank=True)
    archive_expires_at = models.DateTimeField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)
    is_anonymised = models.BooleanField(default=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = "data-subject request"
        indexes = [models.Index(fields=["state", "due_at"], name="consent_dsr_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_at__gte=F("received_at")), name="consent_dsr_due_after_received"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def percent(self) -> int:
        if self.job_state == self.JobState.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))


class RequestStep(models.Model):
    """Who did what to a request, and when (the proof of handling)."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField(default=timezone.now)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)  # ids and counts, never PII

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "request step"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class VerificationCode(models.Model):
    """A one-time code sent to a known identifier of the person. Only its keyed hash is kept."""

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="verification_codes"
    )
    code_hash = models.CharField(max_length=64)
    sent_to_type = models.CharField(max_length=20)
    sent_to_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["request", "created_at"], name="consent_code_request")]

    def __str__(self) -> str:
        return f"code for request {self.request_id} ({self.created_at:%Y-%m-%d %H:%M})"
