"""Profiles models: profiles, their identifiers (the identity graph) and merges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cdp.core.models import TimeStampedModel


class Profile(TimeStampedModel):
    """One person. After a merge the absorbed profile stays, pointing at its survivor.

    `traits` caches the golden value of each trait (ProfileTrait holds them with provenance) so
    that segments can filter in one SQL statement without a join per trait.
    """

    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="absorbed"
    )
    traits = models.JSONField(default=dict, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(
                fields=["merged_into"],
                name="profiles_profile_merged_into",
            ),
        ]

    def __str__(self) -> str:
        return f"Profile {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.merged_into_id is None


class Identifier(models.Model):
    """A normalised identifier (email, phone, user id ...) that points at one profile.

    `profile` is the current owner (moves on merge); `origin_profile` is the profile the
    identifier was first attached to, so an unmerge can send it back exactly.
    """

    class Type(models.TextChoices):
        USER_ID = "user_id", "User id"
        ANONYMOUS_ID = "anonymous_id", "Anonymous id"
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        LOYALTY_ID = "loyalty_id", "Loyalty id"
        CRM_ID = "crm_id", "CRM id"

    type = models.CharField(max_length=20, choices=Type.choices)
    value = models.CharField(max_length=320)
    value_hash = models.CharField(max_length=64, db_index=True)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="identifiers")
    origin_profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(
        "profiles.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_verified = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["type", "value"]
        constraints = [
            models.UniqueConstraint(fields=["type", "value"], name="profiles_identifier_unique"),
        ]
        indexes = [models.Index(fields=["profile", "type"], name="profiles_identifier_profile")]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class ProfileMerge(models.Model):
    """One merge of `absorbed` into `survivor`, with its reason, evidence and snapshot."""

    class Reason(models.TextChoices):
        SHARED_IDENTIFIER = "shared_identifier", "Shared identifier"
        MATCH_SCORE = "match_score", "Match score"
        MANUAL = "manual", "Manual"

    survivor = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="merges_won")
    absorbed = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="merges_lost")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    details = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # An absorbed profile is folded into at most one survivor at a time.
            models.UniqueConstraint(
                fields=["absorbed"],
                condition=Q(undone_at__isnull=True),
                name="profiles_profilemerge_one_active_per_absorbed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.absorbed_id} → {self.survivor_id}"
