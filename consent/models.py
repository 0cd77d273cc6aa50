"""Consent models: purposes, the append-only consent ledger, current state, suppression."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cdp.core.models import TimeStampedModel


class Purpose(TimeStampedModel):
    """Why data is processed (analytics, email marketing ...), its legal basis and channels."""

    class LegalBasis(models.TextChoices):
        CONSENT = "consent", "Consent"
        LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"
        CONTRACT = "contract", "Contract"

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    legal_basis = models.CharField(
        max_length=20, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    channels = models.JSONField(default=list, blank=True)  # e.g. ["email"], ["sms"], ["ads"]
    # Names a Segment consent category maps to this purpose (context.consent.categoryPreferences).
    category_aliases = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name

    @property
    def requires_consent(self) -> bool:
        return self.legal_basis == self.LegalBasis.CONSENT


class ConsentEvent(models.Model):
    """One ledger entry: a person granted or withdrew a purpose. Never updated in meaning.

    `profile_id` follows merges (which person it belongs to now); `origin_profile_id` is the
    profile it was recorded on, for exact unmerges. Both are plain ids: the consent app sits
    below profiles and does not import it.
    """

    profile_id = models.BigIntegerField(db_index=True)
    origin_profile_id = models.BigIntegerField()
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    is_granted = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=100)  # source name, "api", "admin", "gpc", "dsr" ...
    evidence = models.JSONField(default=dict, blank=True)  # policy version, form, ip, UA, event
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [
            models.Index(fields=["profile_id", "purpose", "recorded_at"], name="consent_ledger_pp"),
        ]

    def __str__(self) -> str:
        verb = "granted" if self.is_granted else "withdrew"
        return f"profile {self.profile_id} {verb} {self.purpose_id}"


class ConsentState(models.Model):
    """The current state per person and purpose, derived from the ledger (latest entry wins)."""

    profile_id = models.BigIntegerField()
    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="+")
    is_granted = models.BooleanField()
    entry = models.ForeignKey(ConsentEvent, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile_id", "purpose"], name="consent_state_one_per_purpose"
            ),
        ]
        indexes = [
            models.Index(fields=["purpose", "is_granted", "profile_id"], name="consent_state_pgp"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id}:{self.purpose_id}={self.is_granted}"


class Suppression(models.Model):
    """A keyed hash of an identifier that must never be ingested again (erased or objecting)."""

    class Reason(models.TextChoices):
        ERASURE = "erasure"
        OBJECTION = "objection"
        MANUAL = "manual"

    value_hash = models.CharField(max_length=64, unique=True)
    identifier_type = models.CharField(max_length=20)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    request_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.identifier_type} {self.value_hash[:12]}… ({self.reason})"
