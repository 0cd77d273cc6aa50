"""Consent models: purposes, the append-only consent ledger and its derived state, processing
restrictions and objections, the suppression list, and counts of consent enforcement."""

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
    # Direct marketing: stops on an objection (GDPR Art. 21(2)).
    is_marketing = models.BooleanField(default=False)
    # Sale or sharing of personal information (CCPA): stops on an opt-out or a GPC signal.
    is_sale_or_share = models.BooleanField(default=False)
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
    origin_profile_id = models.BigIntegerField(db_index=True)
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    is_granted = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=100)  # source name, "api", "admin", "gpc", "dsr" ...
    evidence = models.JSONField(default=dict, blank=True)  # policy version, form, ip, UA, event
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = "consent ledger entry"
        verbose_name_plural = "consent ledger"
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


class ProcessingRestriction(models.Model):
    """A restriction of processing (GDPR Art. 18) or an objection to direct marketing (Art. 21)
    on one person, active until lifted. Follows merges like the ledger does."""

    class Kind(models.TextChoices):
        RESTRICTION = "restriction", "Restriction of processing"
        OBJECTION = "objection", "Objection to direct marketing"

    profile_id = models.BigIntegerField(db_index=True)
    origin_profile_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    request = models.ForeignKey(
        "consent.DataSubjectRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="restrictions",
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["profile_id", "kind", "lifted_at"], name="consent_restr_active"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on profile {self.profile_id}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


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


class EnforcementCount(models.Model):
    """How many events, sends or exports consent enforcement changed, per day, stage, scope
    (e.g. "source:3"), action and reason. Counters only: they identify no one."""

    class Stage(models.TextChoices):
        INGESTION = "ingestion"
        SEGMENT = "segment"
        SEND = "send"
        EXPORT = "export"

    day = models.DateField()
    stage = models.CharField(max_length=20, choices=Stage.choices)
    scope = models.CharField(max_length=100)
    action = models.CharField(max_length=20)  # "dropped", "stripped", "blocked"
    reason = models.CharField(max_length=50)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "stage", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "stage", "scope", "action", "reason"],
                name="consent_enforcementcount_one_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.stage} {self.scope} {self.action}/{self.reason}: {self.count}"
