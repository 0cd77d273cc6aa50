"""Campaigns public pages (no login; the signed token authenticates): one-click unsubscribe
(RFC 8058: POST does it, GET only asks) and the preference page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.services.preferences import preferences_get, preferences_save, unsubscribe_apply
from campaigns.services.tokens import InvalidTokenError


def _meta(request: HttpRequest) -> dict[str, str]:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return {
        "ip": forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }


def _invalid(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "campaigns/link_invalid.html", status=404)


@csrf_exempt  # mail providers POST the one-click request without a CSRF token (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a confirmation page (link scanners must not unsubscribe anyone). POST: withdraw
    the campaign's purpose — from the page's button or a mail client's one-click request."""
    if request.method == "GET":
        try:
            preferences_get(token=token)
        except InvalidTokenError:
            return _invalid(request)
        return TemplateResponse(request, "campaigns/unsubscribe.html", {"token": token})
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    try:
        purpose = unsubscribe_apply(
            token=token, method="one_click" if one_click else "page", request_meta=_meta(request)
        )
    except InvalidTokenError:
        return _invalid(request)
    if one_click:
        return HttpResponse("Unsubscribed.", content_type="text/plain")
    return TemplateResponse(
        request, "campaigns/unsubscribed.html", {"token": token, "purpose": purpose}
    )


@csrf_exempt  # the token in the URL authenticates the recipient; there is no session
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """The recipient's purposes and channels; saving writes each change to the ledger."""
    saved = None
    try:
        if request.method == "POST":
            saved = preferences_save(
                token=token,
                granted=set(request.POST.getlist("purpose")),
                request_meta=_meta(request),
            )
        choices = preferences_get(token=token)
    except InvalidTokenError:
        return _invalid(request)
    return TemplateResponse(
        request,
        "campaigns/preferences.html",
        {"token": token, "choices": choices, "saved": saved},
    )
