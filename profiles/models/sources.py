"""Profiles models: sources of data and their write keys (stored as keyed hashes)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cdp.core.models import TimeStampedModel


class Source(TimeStampedModel):
    """A system that sends data: a website, an app, a CRM export, a shop."""

    class Kind(models.TextChoices):
        HTTP = "http", "HTTP tracking API"
        CRM = "crm", "CRM"
        SHOP = "shop", "Shop / orders"
        FILE = "file", "Files"
        SYSTEM = "system", "CDP itself (e.g. DSR rectification)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.HTTP)
    # Survivorship: a value from a more trusted source wins over a less trusted one.
    trust = models.PositiveSmallIntegerField(default=50)
    default_phone_region = models.CharField(max_length=2, blank=True)
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WriteKey(models.Model):
    """One write key of a source. The key itself is shown once; only prefix and HMAC stay."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="write_keys")
    prefix = models.CharField(max_length=8, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.prefix}… ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
