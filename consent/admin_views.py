"""Admin UI pages beyond ModelAdmin for privacy officers: the data-subject request queue (by
deadline, overdue flagged, with a chart), a new-request form, and the request page with its
actions (verify by code or by hand, extend, reject, execute with live progress, downloads).
Thin: selectors read, services write; every view of personal data is audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cdp.core.actor import Actor, actor_from
from cdp.core.audit import audit_record
from cdp.core.errors import DomainError, InvalidInputError
from cdp.core.roles import HANDLE_PRIVACY, has_capability
from consent.compute.deadlines import urgency
from consent.models import DataSubjectRequest
from consent.selectors import dsr_chart_config, dsr_get, dsr_queue, dsr_report_document
from consent.services.archive import archive_link_token
from consent.services.requests import (
    IDENTIFIER_TYPES,
    dsr_create,
    dsr_execute,
    dsr_extend,
    dsr_reject,
    dsr_verify_manually,
)
from consent.services.verification import dsr_verification_confirm, dsr_verification_send


def _require_privacy(request: HttpRequest) -> None:
    if not has_capability(request.user, HANDLE_PRIVACY):
        raise PermissionDenied


def _request_or_404(request_id: int) -> DataSubjectRequest:
    found = dsr_get(request_id=request_id)
    if found is None:
        raise Http404(f"No data-subject request with id {request_id}.")
    return found


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": title,
        "opts": DataSubjectRequest._meta,
        **extra,
    }


def dsr_queue_page(request: HttpRequest) -> HttpResponse:
    """Open requests by deadline (overdue first and flagged), closed ones after; a chart of
    open requests by time left."""
    _require_privacy(request)
    now = timezone.now()
    show = request.GET.get("show", "open")
    states = {"open": list(DataSubjectRequest.OPEN_STATES), "closed": ["completed", "rejected"]}
    rows = dsr_queue(now=now, states=states.get(show), kind=request.GET.get("kind") or None)
    context = _context(
        request,
        "Data-subject requests",
        rows=rows,
        show=show,
        kinds=DataSubjectRequest.Kind.choices,
        kind=request.GET.get("kind", ""),
        overdue=sum(1 for row in rows if row.urgency and row.urgency.is_overdue),
        chart=dsr_chart_config(now=now),
    )
    return TemplateResponse(request, "admin/consent/dsr_queue.html", context)


class DsrAddForm(forms.Form):
    kind = forms.ChoiceField(choices=DataSubjectRequest.Kind.choices)
    regime = forms.ChoiceField(choices=DataSubjectRequest.Regime.choices)
    email = forms.CharField(required=False, max_length=320)
    phone = forms.CharField(required=False, max_length=40)
    user_id = forms.CharField(required=False, max_length=255)
    other_identifiers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line as type:value (anonymous_id, loyalty_id, crm_id).",
    )
    message = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="What they asked."
    )
    corrections = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Rectification only: one per line as trait=corrected value.",
    )

    def identifiers(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        pairs = [(kind, data[kind].strip()) for kind in ("email", "phone", "user_id") if data[kind]]
        for line in data["other_identifiers"].splitlines():
            kind, sep, value = line.partition(":")
            if line.strip() and (not sep or kind.strip() not in IDENTIFIER_TYPES):
                raise InvalidInputError(f"Write other identifiers as type:value, not {line!r}.")
            if line.strip():
                pairs.append((kind.strip(), value.strip()))
        return pairs

    def corrected(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in self.cleaned_data["corrections"].splitlines():
            name, sep, value = line.partition("=")
            if line.strip() and not sep:
                raise InvalidInputError(f"Write corrections as trait=value, not {line!r}.")
            if line.strip():
                found[name.strip()] = value.strip()
        return found


def dsr_add_page(request: HttpRequest) -> HttpResponse:
    """Record a request received by mail, phone or in person."""
    _require_privacy(request)
    form = DsrAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = dsr_create(
                kind=form.cleaned_data["kind"],
                regime=form.cleaned_data["regime"],
                identifiers=form.identifiers(),
                message=form.cleaned_data["message"],
                corrections=form.corrected(),
                received_via=DataSubjectRequest.Channel.ADMIN,
                actor=actor_from(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, f"Request #{created.pk} recorded; due {created.due_at:%Y-%m-%d}."
            )
            return redirect("admin:consent_datasubjectrequest_change", created.pk)
    return TemplateResponse(
        request,
        "admin/consent/dsr_add.html",
        _context(request, "New data-subject request", form=form),
    )


def _progress_body(found: DataSubjectRequest) -> dict[str, Any]:
    return {
        "id": found.pk,
        "state": found.state,
        "job_state": found.job_state,
        "percent": found.percent,
        "error": found.job_error,
        "done": found.job_state in ("succeeded", "failed", "idle"),
    }


def dsr_page(request: HttpRequest, request_id: int) -> HttpResponse:
    """One request: identifiers, deadline, history, actions and the job's progress. Audited."""
    _require_privacy(request)
    found = _request_or_404(request_id)
    audit_record(actor=actor_from(request), action="consent.dsr.view", target=found)
    left = urgency(due=found.due_at, now=timezone.now()) if found.is_open else None
    context = _context(
        request,
        f"Request #{found.pk}: {found.get_kind_display()}",
        dsr=found,
        urgency=left,
        steps=found.steps.all(),
        progress=_progress_body(found),
        report_json=json.dumps(found.report, indent=2, sort_keys=True) if found.report else "",
        link=request.session.pop(f"dsr-link-{found.pk}", ""),
    )
    return TemplateResponse(request, "admin/consent/dsr_page.html", context)


def _link(request: HttpRequest, request_id: int, actor: Actor) -> str:
    found = _request_or_404(request_id)
    if not found.archive:
        raise InvalidInputError("There is no archive to share (not built yet, or expired).")
    token = archive_link_token(request=found)
    audit_record(actor=actor, action="consent.dsr.archive_link", target=found)
    url = request.build_absolute_uri(reverse("consent:dsr-archive-link", args=[token]))
    request.session[f"dsr-link-{request_id}"] = url
    return "Download link for the person created (valid one hour)."


def _send_code(request: HttpRequest, pk: int, actor: Actor) -> str:
    dsr_verification_send(request_id=pk, actor=actor)
    return "A code was emailed to a known address of the person."


def _confirm_code(request: HttpRequest, pk: int, actor: Actor) -> str:
    dsr_verification_confirm(request_id=pk, code=request.POST.get("code", ""), actor=actor)
    return "Identity verified by code."


def _verify_manually(request: HttpRequest, pk: int, actor: Actor) -> str:
    dsr_verify_manually(request_id=pk, note=request.POST.get("note", ""), actor=actor)
    return "Identity verification recorded."


def _extend(request: HttpRequest, pk: int, actor: Actor) -> str:
    found = dsr_extend(request_id=pk, reason=request.POST.get("note", ""), actor=actor)
    return f"Deadline extended to {found.due_at:%Y-%m-%d}."


def _reject(request: HttpRequest, pk: int, actor: Actor) -> str:
    dsr_reject(request_id=pk, reason=request.POST.get("note", ""), actor=actor)
    return "Request rejected."


def _execute(request: HttpRequest, pk: int, actor: Actor) -> str:
    dsr_execute(request_id=pk, actor=actor)
    return "Started: progress is shown below."


_ACTIONS: dict[str, Callable[[HttpRequest, int, Actor], str]] = {
    "send_code": _send_code,
    "confirm_code": _confirm_code,
    "verify_manually": _verify_manually,
    "extend": _extend,
    "reject": _reject,
    "execute": _execute,
    "link": _link,
}


@require_POST
def dsr_action(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    """Run one officer action on a request and come back to its page."""
    _require_privacy(request)
    handler = _ACTIONS.get(action)
    if handler is None:
        raise Http404(f"Unknown action {action!r}.")
    try:
        messages.success(request, handler(request, request_id, actor_from(request)))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("admin:consent_datasubjectrequest_change", request_id)


def dsr_progress_json(request: HttpRequest, request_id: int) -> JsonResponse:
    _require_privacy(request)
    return JsonResponse(_progress_body(_request_or_404(request_id)))


def dsr_archive_download(request: HttpRequest, request_id: int) -> HttpResponse:
    """The access/portability zip. Audited."""
    _require_privacy(request)
    found = _request_or_404(request_id)
    if not found.archive:
        raise Http404("This request has no archive (not built yet, or expired).")
    audit_record(actor=actor_from(request), action="consent.dsr.archive_download", target=found)
    return FileResponse(
        found.archive.open("rb"), as_attachment=True, filename=f"privacy-request-{found.pk}.zip"
    )


def dsr_report_download(request: HttpRequest, request_id: int) -> HttpResponse:
    """The proof of handling as JSON (identifies no one). Audited."""
    _require_privacy(request)
    found = _request_or_404(request_id)
    audit_record(actor=actor_from(request), action="consent.dsr.report_download", target=found)
    response = JsonResponse(dsr_report_document(found), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = (
        f'attachment; filename="privacy-request-{found.pk}-report.json"'
    )
    return response
