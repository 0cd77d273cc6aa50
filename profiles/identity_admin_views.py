"""Admin UI pages for identity resolution: a candidate pair side by side with its score
breakdown and accept/reject buttons, unmerge from the profile page, resolution runs with a live
progress bar, and the data-quality report with charts. Thin: selectors read, services write."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from cdp.core.actor import actor_from
from cdp.core.audit import audit_record
from cdp.core.errors import DomainError
from cdp.core.roles import MANAGE_SOURCES, REVIEW_MERGES, VIEW_PII, has_capability
from profiles.models import MatchCandidate, ProfileMerge, ResolutionRun, Source
from profiles.selectors_matching import (
    candidate_detail,
    quality_reports_qs,
    resolution_runs_qs,
)
from profiles.services.quality_report import quality_report_compute
from profiles.services.resolution_runs import resolution_run_request, run_settings_build
from profiles.services.review import match_candidate_accept, match_candidate_reject, merge_undo

_POSITIVE = "rgba(46, 125, 50, 0.75)"
_NEGATIVE = "rgba(198, 40, 40, 0.75)"


def _require(request: HttpRequest, capability: str) -> None:
    if not has_capability(request.user, capability):
        raise PermissionDenied


def _contribution_chart(fields: list[Any]) -> dict[str, Any]:
    """Chart.js horizontal bars: each field's weight in bits (green for, red against)."""
    return {
        "type": "bar",
        "data": {
            "labels": [field.name for field in fields],
            "datasets": [
                {
                    "label": "weight (bits)",
                    "data": [round(field.weight, 2) for field in fields],
                    "backgroundColor": [
                        _POSITIVE if field.weight >= 0 else _NEGATIVE for field in fields
                    ],
                }
            ],
        },
        "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}}},
    }


def match_review(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """One candidate pair side by side: values, levels, contribution bars, accept/reject."""
    _require(request, REVIEW_MERGES)
    pii = has_capability(request.user, VIEW_PII)
    detail = candidate_detail(candidate_id=candidate_id, can_view_pii=pii)
    if detail is None:
        messages.error(request, f"No match candidate with id {candidate_id}.")
        return redirect("admin:profiles_matchcandidate_changelist")
    audit_record(
        actor=actor_from(request),
        action="profiles.match.view",
        target=detail.candidate,
        details={"masked": not pii, "admin": True},
    )
    context = {
        **admin.site.each_context(request),
        "title": f"Match candidate {detail.candidate.left_id} ~ {detail.candidate.right_id}",
        "detail": detail,
        "chart": _contribution_chart(detail.fields),
        "is_pending": detail.candidate.status == MatchCandidate.Status.PENDING,
        "opts": MatchCandidate._meta,
    }
    return TemplateResponse(request, "admin/profiles/match_review.html", context)


@require_POST
def match_decide(request: HttpRequest, candidate_id: int, decision: str) -> HttpResponse:
    """Accept (merge) or reject a pair; a second click changes nothing and says so."""
    _require(request, REVIEW_MERGES)
    service = match_candidate_accept if decision == "accept" else match_candidate_reject
    try:
        outcome = service(candidate_id=candidate_id, actor=actor_from(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("admin:profiles_matchcandidate_review", candidate_id=candidate_id)
    if not outcome.changed:
        messages.info(request, f"This pair was already {outcome.status}; nothing changed.")
    elif outcome.merge_id is not None:
        merge = ProfileMerge.objects.only("survivor_id").get(pk=outcome.merge_id)
        messages.success(request, f"Merged into profile {merge.survivor_id}.")
        return redirect("admin:profiles_profile_change", merge.survivor_id)
    else:
        messages.success(request, f"Pair {outcome.status}.")
    return redirect("admin:profiles_matchcandidate_changelist")


@require_POST
def merge_unmerge(request: HttpRequest, merge_id: int) -> HttpResponse:
    """Undo a merge from the profile page's merge history."""
    _require(request, REVIEW_MERGES)
    merge = get_object_or_404(ProfileMerge, pk=merge_id)
    try:
        outcome = merge_undo(merge_id=merge_id, actor=actor_from(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("admin:profiles_profile_change", merge.survivor_id)
    if outcome.undone:
        messages.success(request, f"Unmerged: profile {outcome.restored_id} stands alone again.")
    else:
        messages.info(request, "This merge was already undone; nothing changed.")
    return redirect("admin:profiles_profile_change", merge.survivor_id)


def _run_body(run: ResolutionRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "mode": run.mode,
        "state": run.state,
        "stage": run.stage,
        "percent": run.percent,
        "counts": run.counts,
        "timings": run.timings,
        "error": run.error,
        "done": run.state in (ResolutionRun.State.SUCCEEDED, ResolutionRun.State.FAILED),
    }


def resolution_start(request: HttpRequest) -> HttpResponse:
    """Start a full or incremental run, with thresholds (defaults: the last full run's)."""
    _require(request, REVIEW_MERGES)
    current = run_settings_build().config.thresholds
    if request.method == "POST":
        try:
            thresholds = {
                key: float(request.POST[key])
                for key in ("auto_merge", "review")
                if request.POST.get(key)
            }
            settings = run_settings_build(thresholds=thresholds or None)
            run = resolution_run_request(
                mode=request.POST.get("mode", ResolutionRun.Mode.INCREMENTAL),
                actor=actor_from(request),
                settings=settings,
            )
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            return redirect("admin:profiles_resolutionrun_progress", run_id=run.pk)
    context = {
        **admin.site.each_context(request),
        "title": "Run identity resolution",
        "thresholds": current,
        "runs": resolution_runs_qs()[:10],
        "opts": ResolutionRun._meta,
    }
    return TemplateResponse(request, "admin/profiles/resolution_start.html", context)


def resolution_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    _require(request, REVIEW_MERGES)
    run = get_object_or_404(ResolutionRun, pk=run_id)
    context = {
        **admin.site.each_context(request),
        "title": f"Resolution run #{run.pk}",
        "run": run,
        "progress": _run_body(run),
        "opts": ResolutionRun._meta,
    }
    return TemplateResponse(request, "admin/profiles/resolution_progress.html", context)


def resolution_progress_json(request: HttpRequest, run_id: int) -> JsonResponse:
    _require(request, REVIEW_MERGES)
    return JsonResponse(_run_body(get_object_or_404(ResolutionRun, pk=run_id)))


def _quality_charts(report: Any) -> dict[str, Any]:
    fields = [row for row in report.fields if row.get("rows")]
    labels = [row["field"] for row in fields]
    bars = {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": "completeness %",
                    "data": [round(100 * (row["completeness"] or 0), 1) for row in fields],
                    "backgroundColor": "rgba(33, 150, 243, 0.7)",
                },
                {
                    "label": "validity %",
                    "data": [
                        None if row["validity"] is None else round(100 * row["validity"], 1)
                        for row in fields
                    ],
                    "backgroundColor": "rgba(46, 125, 50, 0.7)",
                },
            ],
        },
        "options": {"scales": {"y": {"min": 0, "max": 100}}},
    }
    issues = {
        "type": "bar",
        "data": {
            "labels": list(report.issues),
            "datasets": [
                {
                    "label": "rows quarantined",
                    "data": list(report.issues.values()),
                    "backgroundColor": "rgba(198, 40, 40, 0.7)",
                }
            ],
        },
        "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}}},
    }
    return {"fields": bars, "issues": issues}


def quality_report(request: HttpRequest, source_id: int) -> HttpResponse:
    """The latest quality report of a source with charts; POST computes a fresh one."""
    _require(request, MANAGE_SOURCES)
    source = get_object_or_404(Source, pk=source_id)
    if request.method == "POST":
        quality_report_compute(source_id=source.pk, actor=actor_from(request))
        messages.success(request, "Quality report computed.")
        return redirect("admin:profiles_source_quality", source_id=source.pk)
    reports = list(quality_reports_qs(source_id=source.pk)[:12])
    report = reports[0] if reports else None
    history = {
        "type": "line",
        "data": {
            "labels": [r.created_at.strftime("%Y-%m-%d %H:%M") for r in reversed(reports)],
            "datasets": [
                {
                    "label": "records merged as duplicates",
                    "data": [r.duplicates.get("merged", 0) for r in reversed(reports)],
                }
            ],
        },
    }
    context = {
        **admin.site.each_context(request),
        "title": f"Data quality of {source.name}",
        "source": source,
        "report": report,
        "charts": _quality_charts(report) if report else None,
        "history": history,
        "opts": Source._meta,
    }
    return TemplateResponse(request, "admin/profiles/quality_report.html", context)
