"""Admin UI for campaigns: the send log, the dead-letter list (with retry), content blocks
(offers) and audience export files. Read-only except through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.models import AudienceExport, ContentBlock, DeadLetter, Send
from campaigns.services.definitions import (
    content_block_save,
    content_block_validate,
)
from campaigns.services.outbox import dead_letters_retry
from cdp.core.actor import actor_from
from cdp.core.errors import InvalidInputError
from cdp.core.roles import MANAGE_CAMPAIGNS, has_capability


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Send)
class SendAdmin(_ReadOnlyAdmin):
    """The send log: every row with its state and reason (profile ids only, no PII)."""

    list_display = [
        "pk",
        "campaign",
        "profile_id",
        "kind",
        "arm",
        "status",
        "reason",
        "due_at",
        "sent_at",
        "attempts",
        "error",
    ]
    list_filter = ["status", "reason", "kind", "campaign"]
    search_fields = ["=profile_id", "=delivery_id"]
    list_select_related = ["campaign"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(DeadLetter)
class DeadLetterAdmin(_ReadOnlyAdmin):
    """Sends that failed for good; retry puts them back in the queue."""

    list_display = [
        "pk",
        "campaign",
        "profile_id",
        "kind",
        "reason",
        "error",
        "attempts",
        "finished_at",
    ]
    list_filter = ["reason", "campaign"]
    list_select_related = ["campaign"]
    actions = ["retry"]

    @admin.action(description="Retry the selected sends")
    def retry(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        if not has_capability(request.user, MANAGE_CAMPAIGNS):
            self.message_user(request, "Your role does not allow this.", messages.ERROR)
            return
        count = dead_letters_retry(
            send_ids=list(queryset.values_list("pk", flat=True)), actor=actor_from(request)
        )
        self.message_user(request, f"{count} send(s) requeued.")


class ContentBlockForm(forms.ModelForm):
    class Meta:
        model = ContentBlock
        fields = ["key", "name", "priority", "conditions", "body", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            content_block_validate(conditions=data.get("conditions", []), body=data.get("body", ""))
        except InvalidInputError as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(ContentBlock)
class ContentBlockAdmin(admin.ModelAdmin):
    """Offers: blocks shown to profiles matching their conditions (highest priority wins)."""

    form = ContentBlockForm
    list_display = ["key", "name", "priority", "is_active", "updated_at"]
    list_filter = ["is_active"]

    def save_model(self, request: HttpRequest, obj: ContentBlock, form: Any, change: bool) -> None:
        data = form.cleaned_data
        block = content_block_save(
            actor=actor_from(request),
            key=data["key"],
            fields={
                name: data[name] for name in ("name", "priority", "conditions", "body", "is_active")
            },
        )
        obj.pk = block.pk


@admin.register(AudienceExport)
class AudienceExportAdmin(_ReadOnlyAdmin):
    list_display = ["pk", "campaign", "rows", "file", "created_at"]
    list_filter = ["campaign"]
