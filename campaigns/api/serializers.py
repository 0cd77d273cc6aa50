"""Campaigns API: serializers shared by the views (plain Serializers; no writes here)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.models import Campaign, Send
from campaigns.services.definitions import VariantSpec


@extend_schema_serializer(component_name="CampaignVariant")
class VariantSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    weight = serializers.FloatField(min_value=0.0001, default=1.0)
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    body_text = serializers.CharField(required=False, allow_blank=True, default="")
    body_html = serializers.CharField(required=False, allow_blank=True, default="")


def variant_specs(data: list[dict[str, Any]]) -> list[VariantSpec]:
    return [VariantSpec(**item) for item in data]


@extend_schema_serializer(component_name="CampaignInput")
class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    segment_id = serializers.IntegerField(required=False, allow_null=True)
    trigger = serializers.ChoiceField(choices=Campaign.Trigger.choices)
    trigger_event = serializers.CharField(max_length=200, required=False, allow_blank=True)
    trigger_filters = serializers.JSONField(required=False)
    delay_seconds = serializers.IntegerField(min_value=0, required=False)
    exit_event = serializers.CharField(max_length=200, required=False, allow_blank=True)
    schedule_recurrence = serializers.ChoiceField(
        choices=Campaign.Recurrence.choices, required=False
    )
    schedule_date = serializers.DateField(required=False, allow_null=True)
    schedule_time = serializers.TimeField(required=False, allow_null=True)
    schedule_weekday = serializers.IntegerField(
        min_value=0, max_value=6, required=False, allow_null=True
    )
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Campaign.Channel.choices)
    purpose_key = serializers.ChoiceField(choices=list(settings.CDP_CAMPAIGN_PURPOSES))
    webhook_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    webhook_traits = serializers.ListField(child=serializers.CharField(), required=False)
    cap_per_person = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    cap_per_day = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    cap_per_week = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    quiet_start = serializers.TimeField(required=False, allow_null=True)
    quiet_end = serializers.TimeField(required=False, allow_null=True)
    quiet_hours_policy = serializers.ChoiceField(
        choices=Campaign.QuietHoursPolicy.choices, required=False
    )
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    holdout_share = serializers.FloatField(min_value=0.0, max_value=0.5, required=False)
    goal_event = serializers.CharField(max_length=200, required=False)
    attribution_window_hours = serializers.IntegerField(min_value=1, required=False)
    min_sample_per_arm = serializers.IntegerField(min_value=1, required=False)
    variants = VariantSerializer(many=True, required=False)


@extend_schema_serializer(component_name="CampaignOutput")
class CampaignOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    segment_id = serializers.IntegerField(allow_null=True)
    trigger = serializers.CharField()
    trigger_event = serializers.CharField()
    trigger_filters = serializers.JSONField()
    delay_seconds = serializers.IntegerField()
    exit_event = serializers.CharField()
    schedule_recurrence = serializers.CharField()
    schedule_date = serializers.DateField(allow_null=True)
    schedule_time = serializers.TimeField(allow_null=True)
    schedule_weekday = serializers.IntegerField(allow_null=True)
    timezone = serializers.CharField()
    channel = serializers.CharField()
    purpose_key = serializers.CharField()
    webhook_url = serializers.CharField()
    webhook_traits = serializers.JSONField()
    cap_per_person = serializers.IntegerField(allow_null=True)
    cap_per_day = serializers.IntegerField(allow_null=True)
    cap_per_week = serializers.IntegerField(allow_null=True)
    quiet_start = serializers.TimeField(allow_null=True)
    quiet_end = serializers.TimeField(allow_null=True)
    quiet_hours_policy = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    holdout_share = serializers.FloatField()
    goal_event = serializers.CharField()
    attribution_window_hours = serializers.IntegerField()
    min_sample_per_arm = serializers.IntegerField()
    launched_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    variants = VariantSerializer(many=True, source="variants.all")


@extend_schema_serializer(component_name="CampaignSend")
class SendSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    delivery_id = serializers.UUIDField()
    campaign_id = serializers.IntegerField()
    profile_id = serializers.IntegerField(allow_null=True)
    kind = serializers.ChoiceField(choices=Send.Kind.choices)
    arm = serializers.CharField()
    status = serializers.ChoiceField(choices=Send.Status.choices)
    reason = serializers.CharField()
    error = serializers.CharField()
    occurrence_key = serializers.CharField()
    triggered_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
