"""Admin UI pages (ML): start a clustering run (features and steps chosen in a form), a run's
page — live progress bar, then its charts, cluster profiles and KPIs or model evaluation — the
progress JSON it polls, renaming a cluster, and segments from a model's score deciles. Thin:
selectors read, services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from cdp.core.actor import actor_from
from cdp.core.errors import DomainError
from cdp.core.roles import MANAGE_SEGMENTS, has_capability
from segments import ml_charts
from segments.compute.features import IMPUTATIONS, SCALINGS
from segments.models import ClusterDefinition, ModelRun, PredictiveModel
from segments.selectors.ml import (
    cluster_definitions_qs,
    model_run_get,
    run_clusters_qs,
    run_history,
    run_progress,
    score_deciles,
    score_segments_qs,
)
from segments.selectors.ml_features import feature_catalogue
from segments.services.ml.definitions import (
    ClusterDefinitionInput,
    cluster_definition_create,
    cluster_rename,
    score_segment_create,
)
from segments.services.ml.runs import model_run_request

# Sensible defaults per feature: money and counts are skewed (log), rates are not.
_LOG_HINTS = ("value", "revenue", "orders", "sessions", "clicks", "opens", "count", "velocity")


def _require(request: HttpRequest) -> None:
    if not has_capability(request.user, MANAGE_SEGMENTS):
        raise PermissionDenied


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": title,
        "opts": ModelRun._meta,
        **extra,
    }


class ClusteringStartForm(forms.Form):
    name = forms.CharField(max_length=200)
    algorithm = forms.ChoiceField(choices=ClusterDefinition.Algorithm.choices)
    k = forms.IntegerField(
        required=False, min_value=2, max_value=30, help_text="Empty: choose k for me"
    )
    k_min = forms.IntegerField(initial=2, min_value=2, max_value=30)
    k_max = forms.IntegerField(initial=8, min_value=2, max_value=30)
    max_missing_share = forms.FloatField(
        initial=0.5,
        min_value=0,
        max_value=1,
        help_text="Profiles missing more than this share of the features are left out",
    )
    pca_components = forms.IntegerField(required=False, min_value=1, max_value=20)
    random_state = forms.IntegerField(initial=0)


def _default_scaling(name: str) -> str:
    return "log1p_standard" if any(hint in name for hint in _LOG_HINTS) else "standard"


def _feature_rows(request: HttpRequest | None) -> list[dict[str, Any]]:
    rows = []
    for name, kind in sorted(feature_catalogue().items()):
        if kind != "number":
            continue
        posted = request.POST if request is not None and request.method == "POST" else None
        rows.append(
            {
                "name": name,
                "checked": bool(posted and posted.get(f"use_{name}")),
                "imputation": (posted or {}).get(f"imputation_{name}", "median"),
                "scaling": (posted or {}).get(f"scaling_{name}", _default_scaling(name)),
                "flag": bool(posted and posted.get(f"flag_{name}")),
            }
        )
    return rows


def _categorical_rows(request: HttpRequest | None) -> list[dict[str, Any]]:
    posted = request.POST if request is not None and request.method == "POST" else {}
    return [
        {"name": name, "checked": bool(posted.get(f"cat_{name}"))}
        for name, kind in sorted(feature_catalogue().items())
        if kind == "string"
    ]


def _spec_from(request: HttpRequest, form: ClusteringStartForm) -> dict[str, Any]:
    numeric = [
        {
            "name": row["name"],
            "imputation": row["imputation"],
            "scaling": row["scaling"],
            "missing_flag": row["flag"],
        }
        for row in _feature_rows(request)
        if row["checked"]
    ]
    categorical = [
        {"name": row["name"], "encoding": "onehot"}
        for row in _categorical_rows(request)
        if row["checked"]
    ]
    return {
        "numeric": numeric,
        "categorical": categorical,
        "max_missing_share": form.cleaned_data["max_missing_share"],
        "pca_components": form.cleaned_data["pca_components"],
        "random_state": form.cleaned_data["random_state"],
    }


def clustering_start(request: HttpRequest) -> HttpResponse:
    """Choose features (with imputation, missing flag and scaling each), the algorithm and k,
    then start the run and go to its page."""
    _require(request)
    form = ClusteringStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            definition = cluster_definition_create(
                data=ClusterDefinitionInput(
                    name=data["name"],
                    spec=_spec_from(request, form),
                    algorithm=data["algorithm"],
                    k=data["k"],
                    k_min=data["k_min"],
                    k_max=data["k_max"],
                    random_state=data["random_state"],
                ),
                actor=actor_from(request),
            )
            run = model_run_request(actor=actor_from(request), definition_id=definition.pk)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("admin:segments_modelrun_page", run_id=run.pk)
    context = _context(
        request,
        "Start a clustering run",
        form=form,
        features=_feature_rows(request),
        categorical=_categorical_rows(request),
        imputations=[i for i in IMPUTATIONS if i != "none"],
        scalings=SCALINGS,
        definitions=cluster_definitions_qs(),
    )
    return TemplateResponse(request, "admin/segments/ml_start.html", context)


def clustering_rerun(request: HttpRequest, definition_id: int) -> HttpResponse:
    """POST: run an existing definition again."""
    _require(request)
    if request.method != "POST":
        raise Http404
    try:
        run = model_run_request(actor=actor_from(request), definition_id=definition_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("admin:segments_modelrun_start")
    return redirect("admin:segments_modelrun_page", run_id=run.pk)


def run_progress_json(request: HttpRequest, run_id: int) -> JsonResponse:
    _require(request)
    progress = run_progress(run_id=run_id)
    if progress is None:
        raise Http404
    return JsonResponse(
        {
            "id": progress.id,
            "state": progress.state,
            "stage": progress.stage,
            "percent": progress.percent,
            "error": progress.error,
            "done": progress.is_finished,
        }
    )


def _clustering_context(run: ModelRun) -> dict[str, Any]:
    clusters = list(run_clusters_qs(run_id=run.pk))
    names = {cluster.index: cluster.name for cluster in clusters}
    diagnostics = run.diagnostics or {}
    pictures = diagnostics.get("pictures", {})
    history = run_history(run=run)
    features = list((clusters[0].profile.get("means") or {}).keys()) if clusters else []
    return {
        "clusters": clusters,
        "features": features,
        "kpi_columns": list((diagnostics.get("kpis") or {}).get("overall", {}).keys()),
        "kpis_overall": (diagnostics.get("kpis") or {}).get("overall", {}),
        "steps": diagnostics.get("steps", []),
        "k_charts": ml_charts.k_selection_charts(diagnostics.get("k_selection")),
        "k_distance_chart": ml_charts.k_distance_chart(diagnostics.get("k_distance")),
        "pca_chart": ml_charts.scatter_chart(pictures["pca"], names) if "pca" in pictures else None,
        "tsne_chart": (
            ml_charts.scatter_chart(pictures["tsne"], names) if "tsne" in pictures else None
        ),
        "silhouette_history": ml_charts.history_chart(
            [
                (r.created_at.strftime("%Y-%m-%d %H:%M"), r.metrics.get("silhouette"))
                for r in history
            ],
            "silhouette",
        ),
        "drift_checks": list(reversed(diagnostics.get("drift_checks", [])))[:10],
        "history": history,
    }


def _predictive_context(run: ModelRun) -> dict[str, Any]:
    diagnostics = run.diagnostics or {}
    best = (run.metrics or {}).get("best_model")
    summary = (diagnostics.get("models") or {}).get(best, {})
    history = run_history(run=run)
    metric = "test_roc_auc" if (run.metrics or {}).get("test_roc_auc") is not None else "cv_roc_auc"
    if run.kind == ModelRun.Kind.CLV:
        metric = "holdout_correlation"
    model_id = run.predictive_model_id or 0
    return {
        "best": best,
        "by_model": (run.metrics or {}).get("by_model", {}),
        "lift_chart": ml_charts.lift_chart(summary["lift"]) if summary.get("lift") else None,
        "calibration_chart": (
            ml_charts.calibration_chart(summary["calibration"])
            if summary.get("calibration")
            else None
        ),
        "importance_chart": (
            ml_charts.importance_chart(summary["importances"])
            if summary.get("importances")
            else None
        ),
        "auc_history": ml_charts.history_chart(
            [(r.created_at.strftime("%Y-%m-%d %H:%M"), r.metrics.get(metric)) for r in history],
            metric,
        ),
        "clv_chart": (
            ml_charts.decile_chart(diagnostics["clv_deciles"], "mean predicted CLV")
            if diagnostics.get("clv_deciles")
            else None
        ),
        "deciles": score_deciles(model_id=model_id),
        "score_segments": score_segments_qs(model_id=model_id),
        "history": history,
    }


def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run: progress while it works; then what it found and how good it is."""
    _require(request)
    run = model_run_get(run_id=run_id)
    if run is None:
        raise Http404
    owner = run.definition or run.predictive_model
    extra: dict[str, Any] = {}
    if run.state == ModelRun.State.SUCCEEDED:
        extra = (
            _clustering_context(run)
            if run.kind == ModelRun.Kind.CLUSTERING
            else _predictive_context(run)
        )
    context = _context(
        request,
        f"{run.get_kind_display()} #{run.pk}: {owner}",
        run=run,
        progress=run_progress(run_id=run.pk),
        **extra,
    )
    return TemplateResponse(request, "admin/segments/ml_run.html", context)


def cluster_rename_view(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """POST a new name for a cluster; back to its run page."""
    _require(request)
    if request.method != "POST":
        raise Http404
    try:
        cluster = cluster_rename(
            cluster_id=cluster_id, name=request.POST.get("name", ""), actor=actor_from(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        run_id = int(request.POST.get("run_id") or 0)
        return redirect("admin:segments_modelrun_page", run_id=run_id)
    messages.success(request, f"Renamed to “{cluster.name}” (its segment too).")
    return redirect("admin:segments_modelrun_page", run_id=cluster.run_id)


def score_segment_view(request: HttpRequest, model_id: int) -> HttpResponse:
    """POST: a segment of the top N deciles of a model's scores."""
    _require(request)
    if request.method != "POST":
        raise Http404
    model = PredictiveModel.objects.filter(pk=model_id).first()
    if model is None:
        raise Http404
    try:
        band = score_segment_create(
            model_id=model_id,
            name=request.POST.get("name", ""),
            top_deciles=int(request.POST.get("top_deciles") or 1),
            actor=actor_from(request),
        )
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, f"Segment “{band.segment.name}” has {band.segment.size} members.")
    if model.active_run_id:
        return redirect("admin:segments_modelrun_page", run_id=model.active_run_id)
    return redirect("admin:segments_predictivemodel_changelist")
