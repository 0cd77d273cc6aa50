"""Admin UI for consent and privacy: purposes, the consent ledger, restrictions, suppression,
enforcement counts, retention rules and data-subject requests. ModelAdmin browses; every
change goes through a service (which audits)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path

from cdp.core.actor import actor_from
from cdp.core.audit import audit_record
from cdp.core.errors import DomainError
from cdp.core.roles import VIEW_PII, has_capability
from consent import admin_views
from consent.models import (
    ConsentEvent,
    DataSubjectRequest,
    EnforcementCount,
    ProcessingRestriction,
    Purpose,
    RetentionRule,
    Suppression,
)
from consent.selectors import evidence_masked
from consent.services.ledger import consent_change
from consent.services.restrictions import restriction_lift
from consent.services.retention import retention_purge
from consent.services.settings import purpose_save, retention_rule_save


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "legal_basis",
        "channels",
        "is_marketing",
        "is_sale_or_share",
        "is_active",
    ]
    list_filter = ["legal_basis", "is_active", "is_marketing", "is_sale_or_share"]
    fields = [
        "key",
        "name",
        "description",
        "legal_basis",
        "channels",
        "category_aliases",
        "is_marketing",
        "is_sale_or_share",
        "is_active",
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger points at purposes: deactivate instead

    def save_model(self, request: HttpRequest, obj: Purpose, form: Any, change: bool) -> None:
        purpose_save(purpose=obj, changed=form.changed_data, actor=actor_from(request))


class ConsentEntryForm(forms.ModelForm):
    note = forms.CharField(required=False, help_text="How the person told us (form, call ...).")

    class Meta:
        model = ConsentEvent
        fields = ["profile_id", "purpose", "is_granted"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    """The ledger, newest first: filter by purpose, choice or source; search a profile id.
    Entries are never edited; recording a choice here appends one through the service."""

    list_display = ["recorded_at", "profile_id", "purpose", "is_granted", "source"]
    list_filter = ["purpose", "is_granted", "source"]
    search_fields = ["=profile_id"]
    search_help_text = "Profile id (exact)."
    form = ConsentEntryForm
    list_select_related = ["purpose"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["profile_id", "purpose", "is_granted", "note"]
        evidence = "evidence" if has_capability(request.user, VIEW_PII) else "masked_evidence"
        return [
            "profile_id",
            "origin_profile_id",
            "purpose",
            "is_granted",
            "recorded_at",
            "source",
            evidence,
            "created_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return self.get_fields(request, obj)

    @admin.display(description="Evidence (IP and user agent masked for your role)")
    def masked_evidence(self, entry: ConsentEvent) -> str:
        return str(evidence_masked(entry.evidence, can_view_pii=False))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        audit_record(
            actor=actor_from(request),
            action="consent.ledger.view",
            target_type="consent.consentevent",
            target_id=object_id,
            details={"masked": not has_capability(request.user, VIEW_PII)},
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ConsentEvent, form: Any, change: bool) -> None:
        entries = consent_change(
            profile_id=obj.profile_id,
            purpose_keys=[obj.purpose.key],
            is_granted=obj.is_granted,
            source="admin",
            actor=actor_from(request),
            evidence={
                "note": form.cleaned_data.get("note", ""),
                "recorded_by": request.user.get_username(),
            },
        )
        if entries:
            obj.pk = entries[0].pk
        else:
            messages.info(request, "The person was already in this state: nothing recorded.")
            obj.pk = (
                ConsentEvent.objects.filter(profile_id=obj.profile_id)
                .values_list("pk", flat=True)
                .first()
            )

    def response_add(
        self, request: HttpRequest, obj: ConsentEvent, post_url_continue: str | None = None
    ) -> HttpResponse:
        return redirect("admin:consent_consentevent_changelist")


@admin.register(ProcessingRestriction)
class ProcessingRestrictionAdmin(_ReadOnly):
    list_display = ["created_at", "profile_id", "kind", "request", "lifted_at", "lifted_by_label"]
    list_filter = ["kind", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["=profile_id"]
    actions = ["lift"]

    @admin.action(description="Lift the selected restrictions")
    def lift(self, request: HttpRequest, queryset: QuerySet[ProcessingRestriction]) -> None:
        actor = actor_from(request)
        lifted = sum(restriction_lift(restriction_id=row.pk, actor=actor) for row in queryset)
        self.message_user(request, f"{lifted} lifted.")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("consent.change_processingrestriction")


@admin.register(Suppression)
class SuppressionAdmin(_ReadOnly):
    """Keyed hashes only: the identifiers themselves are never stored."""

    list_display = ["created_at", "identifier_type", "short_hash", "reason", "request_id"]
    list_filter = ["reason", "identifier_type"]

    @admin.display(description="Keyed hash")
    def short_hash(self, row: Suppression) -> str:
        return f"{row.value_hash[:16]}…"


@admin.register(EnforcementCount)
class EnforcementCountAdmin(_ReadOnly):
    list_display = ["day", "stage", "scope", "action", "reason", "count"]
    list_filter = ["stage", "action", "reason", "day"]


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "event_type",
        "event_name",
        "purpose",
        "keep_days",
        "is_active",
        "last_run_at",
        "last_purged",
    ]
    fields = ["name", "event_type", "event_name", "purpose", "keep_days", "is_active"]
    actions = ["purge_now"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the audit log names the rule

    def save_model(self, request: HttpRequest, obj: RetentionRule, form: Any, change: bool) -> None:
        retention_rule_save(rule=obj, changed=form.changed_data, actor=actor_from(request))

    @admin.action(description="Run every active rule now")
    def purge_now(self, request: HttpRequest, queryset: QuerySet[RetentionRule]) -> None:
        try:
            purged = retention_purge()
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"{sum(purged.values())} event(s) purged.")


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    """Requests are worked from the queue and the request page (admin_views)."""

    list_display = ["pk", "kind", "regime", "state", "due_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "queue/", view(admin_views.dsr_queue_page), name="consent_datasubjectrequest_queue"
            ),
            path(
                "<int:request_id>/do/<str:action>/",
                view(admin_views.dsr_action),
                name="consent_datasubjectrequest_action",
            ),
            path(
                "<int:request_id>/progress.json",
                view(admin_views.dsr_progress_json),
                name="consent_datasubjectrequest_progress",
            ),
            path(
                "<int:request_id>/archive/",
                view(admin_views.dsr_archive_download),
                name="consent_datasubjectrequest_archive",
            ),
            path(
                "<int:request_id>/report/",
                view(admin_views.dsr_report_download),
                name="consent_datasubjectrequest_report",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect("queue/")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return admin_views.dsr_add_page(request)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return admin_views.dsr_page(request, int(object_id))
