"""Admin UI for identity resolution: the review queue, resolution runs, survivorship rules,
tracking plans and the violations inbox (browse with ModelAdmin, write through services)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cdp.core.actor import actor_from
from cdp.core.errors import DomainError
from cdp.core.roles import VIEW_PII, has_capability
from profiles import identity_admin_views as views
from profiles.models import (
    MatchCandidate,
    QualityReport,
    ResolutionRun,
    SurvivorshipRule,
    TrackingPlan,
    TrackingViolation,
)
from profiles.selectors_matching import profile_label
from profiles.services.survivorship import survivorship_rule_delete, survivorship_rule_set
from profiles.services.tracking_plans import tracking_plan_delete, tracking_plan_set


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MatchCandidate)
class MatchCandidateAdmin(_ReadOnly):
    """The review queue: pending pairs, most probable first; open one to compare and decide."""

    list_display = ["pk", "pair", "left_masked", "right_masked", "score", "reason", "status"]
    list_filter = ["status", "reason"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[MatchCandidate]:
        return super().get_queryset(request).select_related("left", "right")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if "status__exact" not in request.GET and not request.GET.get("all"):
            query = request.GET.copy()
            query["status__exact"] = MatchCandidate.Status.PENDING
            request.GET = query
        return super().changelist_view(request, extra_context)

    @admin.display(description="Pair")
    def pair(self, candidate: MatchCandidate) -> str:
        url = reverse("admin:profiles_matchcandidate_review", args=[candidate.pk])
        return format_html("<a href='{}'>{} ~ {}</a>", url, candidate.left_id, candidate.right_id)

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if has_capability(request.user, VIEW_PII):
            return ["pk", "pair", "left_name", "right_name", "score", "reason", "status"]
        return list(self.list_display)

    @admin.display(description="Left")
    def left_name(self, candidate: MatchCandidate) -> str:
        return profile_label(candidate.left.traits, can_view_pii=True)

    @admin.display(description="Right")
    def right_name(self, candidate: MatchCandidate) -> str:
        return profile_label(candidate.right.traits, can_view_pii=True)

    @admin.display(description="Left")
    def left_masked(self, candidate: MatchCandidate) -> str:
        return profile_label(candidate.left.traits, can_view_pii=False)

    @admin.display(description="Right")
    def right_masked(self, candidate: MatchCandidate) -> str:
        return profile_label(candidate.right.traits, can_view_pii=False)

    @admin.display(description="Probability", ordering="probability")
    def score(self, candidate: MatchCandidate) -> str:
        return f"{candidate.probability:.4f}"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return views.match_review(request, int(object_id))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:candidate_id>/review/",
                view(views.match_review),
                name="profiles_matchcandidate_review",
            ),
            path(
                "<int:candidate_id>/accept/",
                view(views.match_decide),
                {"decision": "accept"},
                name="profiles_matchcandidate_accept",
            ),
            path(
                "<int:candidate_id>/reject/",
                view(views.match_decide),
                {"decision": "reject"},
                name="profiles_matchcandidate_reject",
            ),
            path(
                "unmerge/<int:merge_id>/",
                view(views.merge_unmerge),
                name="profiles_profilemerge_unmerge",
            ),
            *super().get_urls(),
        ]


@admin.register(ResolutionRun)
class ResolutionRunAdmin(_ReadOnly):
    list_display = ["pk", "mode", "state", "stage", "progress", "created_at", "finished_at"]
    list_filter = ["mode", "state"]
    readonly_fields = [field.name for field in ResolutionRun._meta.fields]

    @admin.display(description="Progress")
    def progress(self, run: ResolutionRun) -> str:
        url = reverse("admin:profiles_resolutionrun_progress", args=[run.pk])
        return format_html(
            "<a href='{}'><progress max='100' value='{}'></progress> {}%</a>",
            url,
            run.percent,
            run.percent,
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # "add" starts a run through the service

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return views.resolution_start(request)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:run_id>/progress/",
                view(views.resolution_progress),
                name="profiles_resolutionrun_progress",
            ),
            path(
                "<int:run_id>/progress.json",
                view(views.resolution_progress_json),
                name="profiles_resolutionrun_progress_json",
            ),
            *super().get_urls(),
        ]


@admin.register(SurvivorshipRule)
class SurvivorshipRuleAdmin(admin.ModelAdmin):
    """Rule per trait (no source) or a source's trust for a trait; saved through the service."""

    list_display = ["trait", "source", "rule", "trust", "updated_at"]
    fields = ["trait", "source", "rule", "trust"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            saved = survivorship_rule_set(
                trait=obj.trait,
                source_id=obj.source_id,
                rule=obj.rule,
                trust=obj.trust,
                actor=actor_from(request),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        survivorship_rule_delete(rule_id=obj.pk, actor=actor_from(request))


class TrackingPlanForm(forms.ModelForm):
    class Meta:
        model = TrackingPlan
        fields = [
            "source",
            "mode",
            "allow_unplanned_events",
            "is_active",
            "events",
            "traits_schema",
        ]
        help_texts = {
            "events": 'Event name → JSON Schema of its properties, e.g. {"Order Completed": '
            '{"type": "object", "required": ["total"], "properties": {"total": '
            '{"type": "number", "minimum": 0}}}}',
        }


@admin.register(TrackingPlan)
class TrackingPlanAdmin(admin.ModelAdmin):
    form = TrackingPlanForm
    list_display = ["source", "mode", "events_planned", "allow_unplanned_events", "is_active"]

    @admin.display(description="Events")
    def events_planned(self, plan: TrackingPlan) -> str:
        return ", ".join(sorted(plan.events)) or "—"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            saved = tracking_plan_set(
                source_id=obj.source_id,
                events=obj.events if isinstance(obj.events, dict) else json.loads(obj.events),
                traits_schema=obj.traits_schema,
                mode=obj.mode,
                allow_unplanned_events=obj.allow_unplanned_events,
                is_active=obj.is_active,
                actor=actor_from(request),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        tracking_plan_delete(source_id=obj.source_id, actor=actor_from(request))


@admin.register(TrackingViolation)
class TrackingViolationAdmin(_ReadOnly):
    """The violations inbox: what broke which plan, by event and property, how often."""

    list_display = ["source", "event", "property", "code", "count", "message", "last_seen_at"]
    list_filter = ["source", "code", "event"]
    ordering = ["-count"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QualityReport)
class QualityReportAdmin(_ReadOnly):
    """Quality snapshots per source; open a source's page for the charts or a fresh report."""

    list_display = ["pk", "source_page", "records", "created_at"]
    list_filter = ["source"]

    @admin.display(description="Source")
    def source_page(self, report: QualityReport) -> str:
        url = reverse("admin:profiles_source_quality", args=[report.source_id])
        return format_html("<a href='{}'>{}</a>", url, report.source)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        report = QualityReport.objects.only("source_id").get(pk=int(object_id))
        return views.quality_report(request, report.source_id)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "source/<int:source_id>/",
                view(views.quality_report),
                name="profiles_source_quality",
            ),
            *super().get_urls(),
        ]
