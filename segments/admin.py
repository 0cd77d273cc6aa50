"""Admin UI for segments: browse segments with size and freshness, the builder page, custom
computed traits; writes go through services (thin)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from cdp.core import jobs
from cdp.core.actor import actor_from
from cdp.core.errors import DomainError
from segments import admin_views
from segments.models import ComputedTrait, Segment, SegmentMembership
from segments.selectors.builder import freshness
from segments.services.definitions import (
    ComputedTraitInput,
    computed_trait_check,
    computed_trait_save,
    segment_delete,
)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """The list of segments; adding or opening one goes to the builder."""

    list_display = ["name", "kind", "origin", "realtime", "size", "freshness_label", "builder"]
    list_filter = ["kind", "origin", "is_realtime", "is_archived"]
    search_fields = ["name", "description"]
    actions = ["refresh_now"]

    @admin.display(description="Real-time", boolean=True)
    def realtime(self, segment: Segment) -> bool:
        return segment.is_realtime

    @admin.display(description="Freshness")
    def freshness_label(self, segment: Segment) -> str:
        return freshness(segment).label

    @admin.display(description="")
    def builder(self, segment: Segment) -> str:
        url = reverse("admin:segments_segment_edit", args=[segment.pk])
        return format_html("<a href='{}'>Open in builder</a>", url)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("builder/", view(admin_views.segment_builder), name="segments_segment_builder"),
            path(
                "<int:segment_id>/builder/",
                view(admin_views.segment_builder),
                name="segments_segment_edit",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:segments_segment_builder"))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:segments_segment_edit", args=[int(object_id)]))

    def delete_model(self, request: HttpRequest, obj: Segment) -> None:
        segment_delete(segment_id=obj.pk, actor=actor_from(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for segment in queryset:
            try:
                segment_delete(segment_id=segment.pk, actor=actor_from(request))
            except DomainError as exc:
                self.message_user(request, f"{segment.name}: {exc.message}", messages.ERROR)

    @admin.action(description="Refresh the selected segments now")
    def refresh_now(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for segment_id in queryset.values_list("pk", flat=True):
            jobs.publish_on_commit(jobs.SEGMENT_REFRESH_REQUESTED, segment_id=segment_id)
        self.message_user(request, f"{queryset.count()} segment(s) queued for a refresh.")


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(admin.ModelAdmin):
    """Membership history (read-only): who entered and left which segment, when and why."""

    list_display = ["segment", "profile_id", "entered_at", "exited_at", "entered_by", "exited_by"]
    list_filter = ["segment", "entered_by"]
    list_select_related = ["segment"]
    readonly_fields = ["segment", "profile", "entered_at", "exited_at", "entered_by", "exited_by"]
    raw_id_fields = ["profile"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ComputedTraitForm(forms.ModelForm):
    class Meta:
        model = ComputedTrait
        fields = ["key", "name", "event", "property", "aggregate", "window_days"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            computed_trait_check(data=_trait_input(data))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        except KeyError:  # a field error is already reported
            pass
        return data


def _trait_input(data: dict[str, Any]) -> ComputedTraitInput:
    return ComputedTraitInput(
        key=data["key"],
        name=data["name"],
        event=data["event"],
        property=data.get("property") or "",
        aggregate=data["aggregate"],
        window_days=data.get("window_days"),
    )


@admin.register(ComputedTrait)
class ComputedTraitAdmin(admin.ModelAdmin):
    """Custom computed traits: an aggregate of an event property over a window."""

    form = ComputedTraitForm
    list_display = ["key", "name", "aggregate", "event", "property", "window_days"]

    def save_model(self, request: HttpRequest, obj: ComputedTrait, form: Any, change: bool) -> None:
        saved = computed_trait_save(data=_trait_input(form.cleaned_data), actor=actor_from(request))
        obj.pk = saved.pk


from segments import ml_admin  # noqa: E402, F401  (ML: clustering runs, models; issue 5)
