"""Profiles models: computed traits kept on the profile (typed, indexed columns for the built-in
ones, JSON for custom ones), the catalogue of trait, event and property names seen, and a
JSON-number expression for queries over JSON columns."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class ComputedTraits(models.Model):
    """Per-profile aggregates of its events and orders, refreshed incrementally when events
    are processed and fully by a nightly job (`computed_at` says when). Part of the profile:
    erased and exported with it.

    Windowed values (…_30d, …_90d, …_365d) are exact at `computed_at`; the nightly recompute
    lets orders age out of windows for profiles with no new events. RFM scores and the
    lifecycle stage are written by the segments scoring job (`scored_at`).
    """

    profile = models.OneToOneField(
        "profiles.Profile", primary_key=True, on_delete=models.CASCADE, related_name="computed"
    )
    computed_at = models.DateTimeField(default=timezone.now)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Orders (completed only), money in the base currency.
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True, db_index=True)
    orders_count = models.PositiveIntegerField(default=0)
    lifetime_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    average_order_value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    orders_30d = models.PositiveIntegerField(default=0)
    orders_90d = models.PositiveIntegerField(default=0, db_index=True)
    orders_365d = models.PositiveIntegerField(default=0)
    revenue_30d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    revenue_90d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    revenue_365d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    purchase_velocity = models.FloatField(null=True, blank=True)  # orders per 30 days
    favourite_category = models.CharField(max_length=100, blank=True)
    # Web behaviour over the last 30 days (sessions: page/screen views 30 minutes apart).
    sessions_30d = models.PositiveIntegerField(default=0)
    avg_session_seconds = models.FloatField(null=True, blank=True)
    pages_per_session = models.FloatField(null=True, blank=True)
    cart_abandonments_30d = models.PositiveIntegerField(default=0)
    # Email over the last 90 days.
    email_opens_90d = models.PositiveIntegerField(default=0)
    email_clicks_90d = models.PositiveIntegerField(default=0)
    email_open_rate = models.FloatField(null=True, blank=True)
    email_click_rate = models.FloatField(null=True, blank=True)
    engagement_score = models.FloatField(default=0, db_index=True)
    # Written by the segments scoring job (RFM ranks a profile against everyone).
    lifecycle_stage = models.CharField(max_length=10, blank=True, db_index=True)
    r_score = models.PositiveSmallIntegerField(null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_segment = models.CharField(max_length=30, blank=True, db_index=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "computed traits"
        verbose_name_plural = "computed traits"

    def __str__(self) -> str:
        return f"computed traits of {self.profile_id}"


class CatalogueEntry(models.Model):
    """A trait, event or event property name seen in the data, with the type of its values:
    the rule builder's dropdowns and the validator's vocabulary (cheap to read)."""

    class Kind(models.TextChoices):
        TRAIT = "trait"
        EVENT = "event"
        PROPERTY = "property"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    event = models.CharField(max_length=200, blank=True)  # properties: the event they belong to
    name = models.CharField(max_length=200)
    value_type = models.CharField(max_length=10, blank=True)  # string, number, boolean, date
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "event", "name"]
        verbose_name_plural = "catalogue entries"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "event", "name"], name="profiles_catalogue_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.event + '.' if self.event else ''}{self.name}"


class JsonNumber(models.Func):
    """A value inside a JSON column as a float when it is a JSON number, else NULL (strings,
    booleans and missing keys never raise a cast error): JsonNumber("payload", "properties",
    "total"). PostgreSQL (jsonb) and SQLite."""

    output_field = models.FloatField()

    def __init__(self, column: str, *keys: str) -> None:
        super().__init__(models.F(column))
        self.keys = keys

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column_sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            sql = (
                f"(CASE WHEN jsonb_typeof({column_sql} #> %s) = 'number' "
                f"THEN ({column_sql} #>> %s)::double precision END)"
            )
            path: Any = list(self.keys)
        else:
            sql = (
                f"(CASE WHEN json_type({column_sql}, %s) IN ('integer', 'real') "
                f"THEN json_extract({column_sql}, %s) END)"
            )
            path = "$" + "".join('."' + key.replace('"', "") + '"' for key in self.keys)
        return sql, [*params, path, *params, path]
