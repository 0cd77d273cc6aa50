"""Admin UI pages beyond ModelAdmin: file upload with a mapping step and live progress, and the
profile page (identifiers, traits with provenance, merges, timeline). Thin: selectors read,
services write, every view of personal data is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from cdp.core.actor import actor_from
from cdp.core.audit import audit_record
from cdp.core.errors import DomainError
from cdp.core.roles import MANAGE_SOURCES, VIEW_PII, has_capability
from profiles.compute.records import CANONICAL_COLUMNS
from profiles.models import ImportRun, Source
from profiles.selectors import profile_detail, profile_merges_qs, profile_timeline_qs
from profiles.services.imports import (
    import_create,
    import_mapping_set,
    parse_mapping,
    read_header,
)


def _require(request: HttpRequest, capability: str) -> None:
    if not has_capability(request.user, capability):
        raise PermissionDenied


class ImportUploadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Source.objects.filter(is_active=True))
    kind = forms.ChoiceField(choices=ImportRun.Kind.choices)
    file = forms.FileField(help_text="CSV or NDJSON (.csv, .ndjson, .jsonl; .gz allowed)")
    mapping = forms.CharField(
        required=False,
        help_text="Optional: canonical=FileColumn,… (you can also map after "
        "uploading when required columns are not found)",
    )


def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a file; go to the mapping step if needed, else to the progress page."""
    _require(request, MANAGE_SOURCES)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = import_create(
                source_id=data["source"].pk,
                kind=data["kind"],
                upload=data["file"],
                mapping=parse_mapping(data["mapping"]),
                actor=actor_from(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if run.state == ImportRun.State.MAPPING:
                return redirect("admin:profiles_importrun_mapping", import_run_id=run.pk)
            return redirect("admin:profiles_importrun_progress", import_run_id=run.pk)
    context = {
        **admin.site.each_context(request),
        "title": "Import a file",
        "form": form,
        "columns": CANONICAL_COLUMNS,
        "opts": ImportRun._meta,
    }
    return TemplateResponse(request, "admin/profiles/import_upload.html", context)


def import_mapping(request: HttpRequest, import_run_id: int) -> HttpResponse:
    """Map the file's columns to canonical ones (dropdowns from the file's header)."""
    _require(request, MANAGE_SOURCES)
    run = get_object_or_404(ImportRun, pk=import_run_id)
    header = read_header(Path(run.file.path), run.file_format) if run.file else []
    canonical = CANONICAL_COLUMNS[run.kind]
    error = ""
    if request.method == "POST":
        mapping = {name: request.POST.get(f"map_{name}", "") for name in canonical}
        try:
            import_mapping_set(import_run_id=run.pk, mapping=mapping, actor=actor_from(request))
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("admin:profiles_importrun_progress", import_run_id=run.pk)
    rows = [
        {"name": name, "current": run.mapping.get(name, name if name in header else "")}
        for name in canonical
    ]
    context = {
        **admin.site.each_context(request),
        "title": f"Map the columns of {run.file_name}",
        "run": run,
        "header": header,
        "rows": rows,
        "error": error,
        "opts": ImportRun._meta,
    }
    return TemplateResponse(request, "admin/profiles/import_mapping.html", context)


def _progress_body(run: ImportRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "state": run.state,
        "percent": run.percent,
        "rows_read": run.rows_read,
        "rows_stored": run.rows_stored,
        "rows_quarantined": run.rows_quarantined,
        "rows_duplicate": run.rows_duplicate,
        "rows_suppressed": run.rows_suppressed,
        "error": run.error,
        "done": run.state in (ImportRun.State.SUCCEEDED, ImportRun.State.FAILED),
    }


def import_progress(request: HttpRequest, import_run_id: int) -> HttpResponse:
    """The progress page: a bar and counts, refreshed from progress.json until the run ends."""
    _require(request, MANAGE_SOURCES)
    run = get_object_or_404(ImportRun.objects.select_related("source"), pk=import_run_id)
    context = {
        **admin.site.each_context(request),
        "title": f"Import #{run.pk}: {run.file_name}",
        "run": run,
        "progress": _progress_body(run),
        "opts": ImportRun._meta,
    }
    return TemplateResponse(request, "admin/profiles/import_progress.html", context)


def import_progress_json(request: HttpRequest, import_run_id: int) -> JsonResponse:
    _require(request, MANAGE_SOURCES)
    return JsonResponse(_progress_body(get_object_or_404(ImportRun, pk=import_run_id)))


def profile_page(request: HttpRequest, model_admin: Any, profile_id: int) -> HttpResponse:
    """Identifiers, golden traits with provenance, merges and a paginated timeline. Audited;
    masked for roles without PII access (the selector masks, so admin and API agree)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    detail = profile_detail(
        profile_id=profile_id, can_view_pii=has_capability(request.user, VIEW_PII)
    )
    if detail is None:
        messages.error(request, f"No profile with id {profile_id}.")
        return redirect("admin:profiles_profile_changelist")
    page = Paginator(profile_timeline_qs(profile_id=profile_id), 50).get_page(
        request.GET.get("page")
    )
    audit_record(
        actor=actor_from(request),
        action="profiles.profile.view",
        target=detail.profile,
        details={"masked": detail.is_masked, "admin": True},
    )
    context = {
        **admin.site.each_context(request),
        "title": f"Profile {profile_id}",
        "detail": detail,
        "timeline": page,
        "merges": profile_merges_qs(profile_id=profile_id).select_related("survivor", "absorbed"),
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/profiles/profile_page.html", context)
