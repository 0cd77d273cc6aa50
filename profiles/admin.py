"""Admin UI for profiles: browse with ModelAdmin, write through services (thin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cdp.core.actor import actor_from
from cdp.core.audit import audit_record
from cdp.core.roles import VIEW_PII, has_capability
from profiles import (
    admin_views,
    identity_admin,  # noqa: F401 - registers the identity-resolution admins
)
from profiles.models import Identifier, ImportRun, Profile, QuarantinedRecord, Source, WriteKey
from profiles.selectors import mask_identifier, mask_trait, profiles_search
from profiles.services.quarantine import quarantine_discard, quarantine_replay
from profiles.services.sources import source_create, write_key_revoke, write_key_rotate


class _NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WriteKeyInline(admin.TabularInline):
    model = WriteKey
    fields = ["prefix", "created_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(_NoDeleteAdmin):
    list_display = ["name", "kind", "trust", "active_keys", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    fields = ["name", "kind", "trust", "default_phone_region", "is_active"]
    inlines = [WriteKeyInline]
    actions = ["rotate_key", "revoke_keys"]

    @admin.display(description="Active keys")
    def active_keys(self, source: Source) -> str:
        return ", ".join(f"{key.prefix}…" for key in source.write_keys.all() if key.is_active)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return super().get_queryset(request).prefetch_related("write_keys")

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        source, issued = source_create(
            name=obj.name,
            kind=obj.kind,
            trust=obj.trust,
            default_phone_region=obj.default_phone_region,
            actor=actor_from(request),
        )
        obj.pk = source.pk
        obj.created_at = source.created_at
        _show_key_once(request, source.name, issued.plain)

    @admin.action(description="Rotate the write key (new key shown once; old keys revoked)")
    def rotate_key(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            issued = write_key_rotate(source_id=source.pk, actor=actor_from(request))
            _show_key_once(request, source.name, issued.plain)

    @admin.action(description="Revoke all write keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        total = sum(
            write_key_revoke(source_id=source.pk, actor=actor_from(request)) for source in queryset
        )
        self.message_user(request, f"Revoked {total} key(s).", messages.WARNING)


def _show_key_once(request: HttpRequest, name: str, plain: str) -> None:
    messages.warning(
        request,
        format_html(
            "New write key for {}: <code class='write-key'>{}</code> — copy it now; "
            "it is not stored and will not be shown again.",
            name,
            plain,
        ),
    )


@admin.register(ImportRun)
class ImportRunAdmin(_NoDeleteAdmin):
    list_display = [
        "pk",
        "source",
        "kind",
        "file_name",
        "state",
        "progress",
        "rows_read",
        "rows_stored",
        "rows_quarantined",
        "rows_duplicate",
        "created_at",
    ]
    list_filter = ["state", "kind", "source"]
    readonly_fields = [field.name for field in ImportRun._meta.fields]

    @admin.display(description="Progress")
    def progress(self, run: ImportRun) -> str:
        url = reverse("admin:profiles_importrun_progress", args=[run.pk])
        return format_html(
            "<a href='{}'><progress max='100' value='{}'></progress> {}%</a>",
            url,
            run.percent,
            run.percent,
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("upload/", view(admin_views.import_upload), name="profiles_importrun_upload"),
            path(
                "<int:import_run_id>/mapping/",
                view(admin_views.import_mapping),
                name="profiles_importrun_mapping",
            ),
            path(
                "<int:import_run_id>/progress/",
                view(admin_views.import_progress),
                name="profiles_importrun_progress",
            ),
            path(
                "<int:import_run_id>/progress.json",
                view(admin_views.import_progress_json),
                name="profiles_importrun_progress_json",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return admin_views.import_upload(request)


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(_NoDeleteAdmin):
    list_display = [
        "pk",
        "created_at",
        "source",
        "origin",
        "position",
        "reason",
        "detail",
        "status",
    ]
    list_filter = ["status", "reason", "origin", "source"]
    readonly_fields = [
        "source",
        "import_run",
        "origin",
        "position",
        "message_id",
        "reason",
        "detail",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by_label",
    ]
    fields = [*readonly_fields, "payload"]
    actions = ["replay", "discard"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: QuarantinedRecord, form: Any, change: bool
    ) -> None:
        """Saving an edited payload is a fix: it is replayed through validation at once."""
        outcome = quarantine_replay(
            record_ids=[obj.pk], actor=actor_from(request), payload=obj.payload
        )
        obj.refresh_from_db()
        if outcome.replayed:
            self.message_user(request, "Fixed and replayed: the record was ingested.")
        else:
            self.message_user(
                request, f"Still invalid: {obj.reason} — {obj.detail}", messages.ERROR
            )

    @admin.action(description="Replay the selected records")
    def replay(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> None:
        outcome = quarantine_replay(
            record_ids=list(queryset.values_list("pk", flat=True)), actor=actor_from(request)
        )
        self.message_user(
            request,
            f"{outcome.replayed} replayed, {outcome.still_failing} still "
            f"failing, {outcome.skipped} already resolved.",
        )

    @admin.action(description="Discard the selected records")
    def discard(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> None:
        count = quarantine_discard(
            record_ids=list(queryset.values_list("pk", flat=True)), actor=actor_from(request)
        )
        self.message_user(request, f"{count} discarded.")


@admin.register(Profile)
class ProfileAdmin(_NoDeleteAdmin):
    """Find a person by any identifier (normalised: case, spaces, phone formats) and read
    their identifiers, traits with provenance, merges and timeline. Every view is audited."""

    list_display = ["pk", "masked_name", "masked_email", "last_seen_at", "created_at"]
    search_fields = ["pk"]  # replaced by identifier search below
    search_help_text = "Search by email, phone, user id, anonymous id, loyalty or CRM id."
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Profile]:
        return super().get_queryset(request).filter(merged_into__isnull=True)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Profile], search_term: str
    ) -> tuple[QuerySet[Profile], bool]:
        if not search_term.strip():
            return queryset, False
        audit_record(
            actor=actor_from(request),
            action="profiles.profile.search",
            target_type="profiles.profile",
            details={"admin": True},
        )
        return queryset.filter(pk__in=profiles_search(search_term).values("pk")), False

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if has_capability(request.user, VIEW_PII):
            return ["pk", "full_name", "email", "last_seen_at", "created_at"]
        return list(self.list_display)

    @admin.display(description="Name")
    def full_name(self, profile: Profile) -> str:
        parts = (profile.traits.get("first_name"), profile.traits.get("last_name"))
        return " ".join(str(part) for part in parts if part)

    @admin.display(description="Email")
    def email(self, profile: Profile) -> str:
        return str(profile.traits.get("email", ""))

    @admin.display(description="Name")
    def masked_name(self, profile: Profile) -> str:
        return str(mask_trait("first_name", self.full_name(profile)))

    @admin.display(description="Email")
    def masked_email(self, profile: Profile) -> str:
        return str(mask_trait("email", self.email(profile)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return admin_views.profile_page(request, self, int(object_id))


@admin.register(Identifier)
class IdentifierAdmin(_NoDeleteAdmin):
    list_display = ["type", "shown_value", "profile", "source", "first_seen_at"]
    list_filter = ["type"]
    raw_id_fields = ["profile", "origin_profile"]

    @admin.display(description="Value")
    def shown_value(self, identifier: Identifier) -> str:
        return mask_identifier(identifier.type, identifier.value)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # reached from the profile page, never browsed as a list of PII

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
