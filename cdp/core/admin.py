"""Admin UI: the audit log (read-only, filterable, exportable) and long-job progress rows."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from .actor import actor_from
from .audit import audit_record
from .models import AuditEvent, JobRun
from .roles import VIEW_AUDIT, has_capability


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "target_type", "target_id", "ip_address"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_label", "action", "target_id"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_capability(request.user, VIEW_AUDIT)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_capability(request.user, VIEW_AUDIT)

    @admin.action(description="Export selected rows as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["created_at", "actor", "action", "target_type", "target_id", "ip", "details"]
        )
        count = 0
        for row in queryset.order_by("created_at").iterator():
            writer.writerow(
                [
                    row.created_at.isoformat(),
                    row.actor_label,
                    row.action,
                    row.target_type,
                    row.target_id,
                    row.ip_address or "",
                    row.details,
                ]
            )
            count += 1
        audit_record(actor=actor_from(request), action="core.audit.export", details={"rows": count})
        return response


@admin.register(JobRun)
class JobRunAdmin(_ReadOnlyAdmin):
    list_display = ["pk", "kind", "state", "percent", "message", "created_at", "finished_at"]
    list_filter = ["kind", "state"]
