"""Admin UI for campaigns: the campaign editor (audience, trigger, variants with weights,
schedule, caps, consent purpose), lifecycle actions and the campaign's extra pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns import admin_views
from campaigns.models import Campaign, Variant
from campaigns.selectors.audience import segment_choices, segment_name
from campaigns.services.definitions import (
    EDITABLE_FIELDS,
    LOCKED_AFTER_LAUNCH,
    VariantSpec,
    campaign_create,
    campaign_update,
    campaign_validate,
    variants_validate,
)
from campaigns.services.lifecycle import campaign_delete
from cdp.core.actor import actor_from
from cdp.core.errors import DomainError, InvalidInputError


def _audience_choices() -> list[tuple[str, str]]:
    return [("", "Everyone"), *((str(pk), name) for pk, name in segment_choices())]


class CampaignForm(forms.ModelForm):
    segment_id = forms.TypedChoiceField(
        choices=_audience_choices,
        coerce=int,
        empty_value=None,
        required=False,
        label="Audience",
    )
    purpose_key = forms.ChoiceField(
        choices=lambda: list(settings.CDP_CAMPAIGN_PURPOSES.items()),
        label="Consent purpose",
        help_text="Checked for every person at send time.",
    )

    class Meta:
        model = Campaign
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.launched_at is not None:
            for name in LOCKED_AFTER_LAUNCH:
                self.fields.pop(name, None)  # shown read-only by the admin

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            campaign_validate(self.instance)
        except InvalidInputError as exc:
            for name, text in exc.details.items():
                self.add_error(name if name in self.fields else None, text)


class VariantFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        specs = variant_specs_from(self)
        if not specs:
            return
        try:
            variants_validate(specs, holdout_share=float(self.instance.holdout_share or 0))
        except InvalidInputError as exc:
            raise forms.ValidationError(exc.message) from exc


def variant_specs_from(formset: Any) -> list[VariantSpec]:
    specs = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        key = (data or {}).get("key") or form.instance.key  # read-only once launched
        if not data or data.get("DELETE") or not key:
            continue
        specs.append(
            VariantSpec(
                key=key,
                name=data.get("name", ""),
                weight=float(data.get("weight") or form.instance.weight or 1.0),
                subject=data.get("subject", ""),
                body_text=data.get("body_text", ""),
                body_html=data.get("body_html", ""),
            )
        )
    return specs


class VariantInline(admin.StackedInline):
    model = Variant
    formset = VariantFormSet
    extra = 0
    fields = ["key", "name", "weight", "subject", "body_text", "body_html"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["key", "weight"] if obj is not None and obj.launched_at else []

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.launched_at is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.launched_at is None


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    inlines = [VariantInline]
    list_display = ["name", "status", "trigger", "channel", "audience", "launched_at", "links"]
    list_filter = ["status", "trigger", "channel"]
    search_fields = ["name"]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    readonly_fields = ["status", "launched_at", "webhook_secret"]
    fieldsets = [
        (None, {"fields": ["name", "description", "status", "launched_at"]}),
        (
            "Audience and trigger",
            {
                "fields": [
                    "segment_id",
                    "trigger",
                    "trigger_event",
                    "trigger_filters",
                    "delay_seconds",
                    "exit_event",
                ]
            },
        ),
        (
            "Schedule",
            {
                "fields": [
                    "schedule_recurrence",
                    "schedule_date",
                    "schedule_time",
                    "schedule_weekday",
                    "timezone",
                ]
            },
        ),
        (
            "Channel",
            {
                "fields": [
                    "channel",
                    "purpose_key",
                    "webhook_url",
                    "webhook_traits",
                    "webhook_secret",
                ]
            },
        ),
        (
            "Caps, quiet hours and dates",
            {
                "fields": [
                    "cap_per_person",
                    "cap_per_day",
                    "cap_per_week",
                    "quiet_start",
                    "quiet_end",
                    "quiet_hours_policy",
                    "starts_at",
                    "ends_at",
                ]
            },
        ),
        (
            "Experiment and goal",
            {
                "fields": [
                    "holdout_share",
                    "goal_event",
                    "attribution_window_hours",
                    "min_sample_per_arm",
                ]
            },
        ),
    ]
    actions = ["launch_selected", "pause_selected", "resume_selected", "end_selected"]
    lifecycle_buttons = [
        ("launch", "Launch", [Campaign.Status.DRAFT]),
        ("pause", "Pause", [Campaign.Status.ACTIVE]),
        ("resume", "Resume", [Campaign.Status.PAUSED]),
        ("end", "End", [Campaign.Status.ACTIVE, Campaign.Status.PAUSED]),
    ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {**(extra_context or {}), "lifecycle_buttons": self.lifecycle_buttons}
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="Audience")
    def audience(self, campaign: Campaign) -> str:
        return segment_name(campaign.segment_id)

    @admin.display(description="")
    def links(self, campaign: Campaign) -> str:
        return format_html(
            '<a href="{}">Results</a> · <a href="{}">Send log</a>',
            reverse("admin:campaigns_campaign_results", args=[campaign.pk]),
            reverse("admin:campaigns_send_changelist") + f"?campaign__id__exact={campaign.pk}",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if obj is not None and obj.launched_at is not None:
            fields += sorted(LOCKED_AFTER_LAUNCH)
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.launched_at is None)

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        fields = {
            name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data
        }
        if change:
            campaign = campaign_update(campaign_id=obj.pk, actor=actor_from(request), fields=fields)
        else:
            campaign = campaign_create(actor=actor_from(request), fields=fields)
        obj.pk = campaign.pk
        obj.created_at = campaign.created_at

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Variant:
            super().save_formset(request, form, formset, change)
            return
        campaign_update(
            campaign_id=form.instance.pk,
            actor=actor_from(request),
            fields={},
            variants=variant_specs_from(formset),
        )
        # The change message reads what formset.save() would have recorded; the service
        # wrote the variants, and the audit row says what changed.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        campaign_delete(campaign_id=obj.pk, actor=actor_from(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign_id in queryset.values_list("pk", flat=True):
            campaign_delete(campaign_id=campaign_id, actor=actor_from(request))

    def _bulk(self, request: HttpRequest, queryset: QuerySet[Campaign], action: str) -> None:
        service = admin_views.LIFECYCLE[action]
        done = 0
        for campaign_id in queryset.values_list("pk", flat=True):
            try:
                service(campaign_id=campaign_id, actor=actor_from(request))
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{campaign_id}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{action}: {done} campaign(s).")

    @admin.action(description="Launch the selected drafts")
    def launch_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._bulk(request, queryset, "launch")

    @admin.action(description="Pause the selected campaigns")
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._bulk(request, queryset, "pause")

    @admin.action(description="Resume the selected campaigns")
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._bulk(request, queryset, "resume")

    @admin.action(description="End the selected campaigns")
    def end_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._bulk(request, queryset, "end")

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:campaign_id>/results/",
                view(admin_views.campaign_results_page),
                name="campaigns_campaign_results",
            ),
            path(
                "<int:campaign_id>/preview/",
                view(admin_views.campaign_preview),
                name="campaigns_campaign_preview",
            ),
            path(
                "<int:campaign_id>/dry-run/",
                view(admin_views.campaign_dry_run_page),
                name="campaigns_campaign_dry_run",
            ),
            path(
                "<int:campaign_id>/lifecycle/<str:action>/",
                view(admin_views.campaign_lifecycle),
                name="campaigns_campaign_lifecycle",
            ),
            *super().get_urls(),
        ]
