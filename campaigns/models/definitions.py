"""Campaigns models: a campaign (audience, trigger, channel, caps, goal), its variants, and the
content blocks that offer rules pick for a profile."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from cdp.core.models import TimeStampedModel

HOLDOUT_KEY = "holdout"  # the reserved arm name (campaigns.compute.assignment.HOLDOUT)


def new_salt() -> str:
    """Per-campaign salt of the assignment hash: arms of two campaigns are independent."""
    return secrets.token_hex(8)


def new_webhook_secret() -> str:
    """HMAC key the receiver of a campaign's webhooks verifies signatures with."""
    return secrets.token_urlsafe(32)


class Campaign(TimeStampedModel):
    """What to send to whom, when, on which channel, under which consent purpose and caps.

    `segment_id` is a plain id checked through segments.public (None: everyone). The row is
    the campaign's state: status, launch and pause times; sends live in the outbox (Send).
    """

    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        PAUSED = "paused"
        ENDED = "ended"

    class Trigger(models.TextChoices):
        EVENT = "event", "Behavioural event (with delay and exit condition)"
        SEGMENT_ENTRY = "segment_entry", "Segment entry (real-time)"
        SCHEDULE = "schedule", "Schedule (one-off or recurring)"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"
        AUDIENCE_EXPORT = "audience_export", "Audience export (CSV and add/remove push)"

    class Recurrence(models.TextChoices):
        ONCE = "once", "Once"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class QuietHoursPolicy(models.TextChoices):
        DEFER = "defer", "Defer to the end of quiet hours"
        SKIP = "skip", "Skip the send"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)

    # Audience and trigger.
    segment_id = models.BigIntegerField(
        null=True, blank=True, help_text="Target segment; empty means everyone."
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.EVENT)
    trigger_event = models.CharField(max_length=200, blank=True)
    trigger_filters = models.JSONField(
        default=list, blank=True, help_text='Event property conditions: [["total", ">", 50]]'
    )
    delay_seconds = models.PositiveIntegerField(default=0)
    exit_event = models.CharField(
        max_length=200, blank=True, help_text="No send if this event arrives during the delay."
    )
    schedule_recurrence = models.CharField(
        max_length=10, choices=Recurrence.choices, default=Recurrence.ONCE
    )
    schedule_date = models.DateField(null=True, blank=True, help_text="One-off: the day.")
    schedule_time = models.TimeField(null=True, blank=True, help_text="Wall-clock send time.")
    schedule_weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(6)], help_text="0 = Monday"
    )
    timezone = models.CharField(
        max_length=64,
        blank=True,
        help_text="Fixed time zone for schedules and quiet hours; empty: each person's own "
        "(trait 'timezone'), falling back to CDP_CAMPAIGN_DEFAULT_TIMEZONE.",
    )

    # Channel.
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    purpose_key = models.CharField(max_length=50, default="email_marketing")
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    webhook_traits = models.JSONField(
        default=list, blank=True, help_text="Traits included in webhook payloads."
    )

    # Caps, quiet hours, dates.
    cap_per_person = models.PositiveIntegerField(
        null=True, blank=True, help_text="Sends of this campaign per person, ever."
    )
    cap_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages of all campaigns per person per 24 h."
    )
    cap_per_week = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages of all campaigns per person per 7 days."
    )
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    quiet_hours_policy = models.CharField(
        max_length=10, choices=QuietHoursPolicy.choices, default=QuietHoursPolicy.DEFER
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    # Experiment and goal.
    holdout_share = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(0.5)]
    )
    salt = models.CharField(max_length=32, default=new_salt, editable=False)
    goal_event = models.CharField(max_length=200, default="Order Completed")
    attribution_window_hours = models.PositiveIntegerField(default=72)
    min_sample_per_arm = models.PositiveIntegerField(default=100)

    launched_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_share__gte=0) & Q(holdout_share__lte=0.5),
                name="campaigns_campaign_holdout_share_range",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="campaigns_campaign_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "trigger"], name="campaigns_campaign_live"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_message(self) -> bool:
        """Email and webhook campaigns send messages; audience exports push list changes."""
        return self.channel != self.Channel.AUDIENCE_EXPORT


class Variant(models.Model):
    """One arm of a campaign's experiment: its weight and its message templates."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=200, blank=True)
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0.0001)])
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True, help_text="Django template; context: profile, …")
    body_html = models.TextField(blank=True, help_text="Optional HTML part (autoescaped).")

    class Meta:
        ordering = ["campaign", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "key"], name="campaigns_variant_unique_key"
            ),
            models.CheckConstraint(
                condition=~Q(key=HOLDOUT_KEY), name="campaigns_variant_key_not_holdout"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="campaigns_variant_weight_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.key}"


class ContentBlock(TimeStampedModel):
    """A reusable piece of content shown to profiles matching its rule (offers).

    `conditions` are (trait, operator, value) triples of campaigns.compute.offers; the
    highest-priority active block whose conditions all hold is the profile's `offer`.
    """

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    priority = models.IntegerField(default=0)
    conditions = models.JSONField(default=list, blank=True)
    body = models.TextField(help_text="Django template snippet; same context as the message.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-priority", "key"]

    def __str__(self) -> str:
        return self.name
