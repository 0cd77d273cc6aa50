"""Campaigns models: product recommendations per profile, refreshed by a beat job."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Recommendation(models.Model):
    """The rank-th recommended product for a profile, and which method proposed it."""

    class Method(models.TextChoices):
        CO_PURCHASE = "co_purchase", "Bought together (collaborative)"
        CATEGORY = "category", "Category affinity (content-based)"
        POPULARITY = "popularity", "Popular"

    profile_id = models.BigIntegerField()
    rank = models.PositiveSmallIntegerField()
    product_id = models.CharField(max_length=100)
    category = models.CharField(max_length=100, blank=True)
    score = models.FloatField(default=0.0)
    method = models.CharField(max_length=20, choices=Method.choices)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["profile_id", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile_id", "rank"], name="campaigns_recommendation_rank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id}#{self.rank}: {self.product_id}"
