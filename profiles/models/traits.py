"""Profiles models: trait values per source record (provenance), golden traits, and orders."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TraitValue(models.Model):
    """The latest value of one trait seen from one source for one profile, and where it was seen.

    These rows never move on a merge in meaning: `origin_profile` is the profile they were
    observed on; `profile` follows merges so survivorship can read a cluster in one query.
    """

    profile = models.ForeignKey("profiles.Profile", on_delete=models.CASCADE, related_name="+")
    origin_profile = models.ForeignKey(
        "profiles.Profile", on_delete=models.CASCADE, related_name="+"
    )
    source = models.ForeignKey("profiles.Source", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    value = models.JSONField()
    observed_at = models.DateTimeField()
    event = models.ForeignKey(
        "profiles.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    record_ref = models.CharField(max_length=128, blank=True)  # source's message id / record id
    seen_count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["origin_profile", "source", "name"], name="profiles_traitvalue_unique"
            ),
        ]
        indexes = [models.Index(fields=["profile", "name"], name="profiles_traitvalue_profile")]

    def __str__(self) -> str:
        return f"{self.name}={self.value!r} from {self.source_id}"


class ProfileTrait(models.Model):
    """The golden value of one trait of a profile, chosen by a survivorship rule."""

    profile = models.ForeignKey(
        "profiles.Profile", on_delete=models.CASCADE, related_name="golden_traits"
    )
    name = models.CharField(max_length=100)
    value = models.JSONField()
    chosen = models.ForeignKey(TraitValue, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=40)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "name"], name="profiles_trait_one_per_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value!r}"


class Order(models.Model):
    """A completed, cancelled or refunded order, in its own and in the base currency."""

    class Status(models.TextChoices):
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        REFUNDED = "refunded"

    order_id = models.CharField(max_length=100, unique=True)
    profile = models.ForeignKey(
        "profiles.Profile", null=True, blank=True, on_delete=models.CASCADE, related_name="orders"
    )
    origin_profile = models.ForeignKey(
        "profiles.Profile", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.ForeignKey("profiles.Source", on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(
        "profiles.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    total_base = models.DecimalField(max_digits=14, decimal_places=2)
    items = models.PositiveIntegerField(default=0)
    category = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["profile", "placed_at"], name="profiles_order_profile")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.total} {self.currency}"
