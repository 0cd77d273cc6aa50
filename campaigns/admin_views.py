"""Admin UI pages beyond ModelAdmin: variant preview for a profile, dry run, results with
charts, and the launch/pause/resume/end buttons. Thin: services and selectors do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaigns.models import Campaign
from campaigns.selectors.audience import segment_name
from campaigns.selectors.campaigns import campaign_get
from campaigns.selectors.results import snapshot_latest, snapshots_qs
from campaigns.services.lifecycle import (
    campaign_end,
    campaign_launch,
    campaign_pause,
    campaign_resume,
)
from campaigns.services.results import results_refresh
from campaigns.services.simulation import campaign_dry_run, variant_preview
from cdp.core.actor import actor_from
from cdp.core.errors import DomainError
from cdp.core.roles import MANAGE_CAMPAIGNS, VIEW_PII, has_capability

LIFECYCLE = {
    "launch": campaign_launch,
    "pause": campaign_pause,
    "resume": campaign_resume,
    "end": campaign_end,
}


def _require(request: HttpRequest) -> None:
    if not has_capability(request.user, MANAGE_CAMPAIGNS):
        raise PermissionDenied


def _context(request: HttpRequest, campaign: Campaign, title: str) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": title,
        "campaign": campaign,
        "audience": segment_name(campaign.segment_id),
        "opts": Campaign._meta,
    }


@require_POST
def campaign_lifecycle(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    """The Launch / Pause / Resume / End buttons of the campaign page."""
    _require(request)
    if action not in LIFECYCLE:
        raise PermissionDenied
    try:
        campaign = LIFECYCLE[action](campaign_id=campaign_id, actor=actor_from(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{campaign.name}” is now {campaign.status}.")
    return redirect("admin:campaigns_campaign_change", campaign_id)


class PreviewForm(forms.Form):
    variant = forms.ChoiceField()
    profile_id = forms.IntegerField(min_value=1, label="Profile id")

    def __init__(self, *args: Any, variants: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(key, key) for key in variants]


def campaign_preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Render a variant for a chosen profile (masked without PII access; audited)."""
    _require(request)
    campaign = campaign_get(campaign_id=campaign_id)
    variants = sorted(variant.key for variant in campaign.variants.all())
    form = PreviewForm(request.GET or None, variants=variants)
    preview = None
    if request.GET and form.is_valid():
        try:
            preview = variant_preview(
                campaign_id=campaign.pk,
                variant_key=form.cleaned_data["variant"],
                profile_id=form.cleaned_data["profile_id"],
                actor=actor_from(request),
                can_view_pii=has_capability(request.user, VIEW_PII),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
    context = {**_context(request, campaign, f"Preview: {campaign.name}"), "form": form}
    context["preview"] = preview
    return TemplateResponse(request, "admin/campaigns/preview.html", context)


class DryRunForm(forms.Form):
    profile_id = forms.IntegerField(min_value=1, required=False, label="Test profile id")
    start = forms.DateTimeField(
        required=False, help_text="Replay from (UTC), e.g. 2026-11-01 00:00"
    )
    end = forms.DateTimeField(required=False, help_text="Replay until (UTC)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("profile_id") and not (data.get("start") and data.get("end")):
            raise forms.ValidationError("Give a test profile, or a window to replay.")
        return data


def campaign_dry_run_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Who would be reached, when, on which arm, and why others would be skipped."""
    _require(request)
    campaign = campaign_get(campaign_id=campaign_id)
    form = DryRunForm(request.POST or None)
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = campaign_dry_run(
                campaign_id=campaign.pk,
                actor=actor_from(request),
                profile_id=data.get("profile_id"),
                start=data.get("start"),
                end=data.get("end"),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
    context = {**_context(request, campaign, f"Dry run: {campaign.name}"), "form": form}
    context["report"] = report
    context["rows"] = report.rows[:200] if report else []
    return TemplateResponse(request, "admin/campaigns/dry_run.html", context)


_COLOURS = ("#417690", "#e08e0b", "#5b9a3f", "#a94442", "#7a5ca8", "#888888")


def _rate_chart(report: dict[str, Any]) -> dict[str, Any]:
    series = report.get("series") or {"days": [], "arms": {}}
    datasets = [
        {
            "label": arm,
            "data": [None if value is None else round(100 * value, 3) for value in values],
            "borderColor": _COLOURS[index % len(_COLOURS)],
            "spanGaps": True,
        }
        for index, (arm, values) in enumerate(sorted(series["arms"].items()))
    ]
    return {
        "type": "line",
        "data": {"labels": series["days"], "datasets": datasets},
        "options": {"scales": {"y": {"title": {"display": True, "text": "conversion %"}}}},
    }


def _sends_chart(report: dict[str, Any]) -> dict[str, Any]:
    daily = report.get("sends_by_day") or {"days": [], "sent": []}
    return {
        "type": "bar",
        "data": {
            "labels": daily["days"],
            "datasets": [{"label": "sent", "data": daily["sent"], "backgroundColor": "#79aec8"}],
        },
    }


def _history_chart(campaign_id: int) -> dict[str, Any]:
    """Conversion rate per arm at each stored snapshot (how the estimate moved)."""
    points = list(snapshots_qs(campaign_id=campaign_id).values_list("computed_at", "report"))[-200:]
    arms = sorted({arm["key"] for _, report in points for arm in report.get("arms", [])})
    labels = [moment.strftime("%Y-%m-%d %H:%M") for moment, _ in points]
    datasets = []
    for index, key in enumerate(arms):
        values = []
        for _, report in points:
            arm = next((item for item in report.get("arms", []) if item["key"] == key), None)
            values.append(
                round(100 * arm["conversions"] / arm["n"], 3) if arm and arm["n"] else None
            )
        datasets.append(
            {"label": key, "data": values, "borderColor": _COLOURS[index % len(_COLOURS)]}
        )
    return {"type": "line", "data": {"labels": labels, "datasets": datasets}}


def _comparison_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": item["key"],
            "conversion": item["conversion"],
            "revenue": item.get("revenue"),
            "probability": item["probability_to_beat_control"],
            "cuped": item.get("cuped") or {},
            "has_enough_data": item["has_enough_data"],
        }
        for item in report.get("comparisons", [])
    ]


def campaign_results_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Results: per-arm reach, sends, conversion, revenue; uplift vs control with intervals,
    p-values, CUPED and Bayes; SRM warning; charts over time. POST recomputes now."""
    _require(request)
    campaign = campaign_get(campaign_id=campaign_id)
    if request.method == "POST":
        results_refresh(campaign_id=campaign.pk)
        return redirect("admin:campaigns_campaign_results", campaign.pk)
    snapshot = snapshot_latest(campaign_id=campaign.pk)
    if snapshot is None and campaign.launched_at is not None:
        snapshot = results_refresh(campaign_id=campaign.pk)
    report = snapshot.report if snapshot else {}
    context = _context(request, campaign, f"Results: {campaign.name}")
    context.update(
        {
            "snapshot": snapshot,
            "report": report,
            "comparisons": _comparison_rows(report),
            "rate_chart": _rate_chart(report) if report else None,
            "sends_chart": _sends_chart(report) if report else None,
            "history_chart": _history_chart(campaign.pk) if report else None,
            "send_log_url": reverse("admin:campaigns_send_changelist")
            + f"?campaign__id__exact={campaign.pk}",
            "computed_at": snapshot.computed_at if snapshot else None,
        }
    )
    return TemplateResponse(request, "admin/campaigns/results.html", context)
