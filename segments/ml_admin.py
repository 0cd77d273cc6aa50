"""Admin UI (ML): clustering definitions, runs ("Clustering runs", with live progress) and
predictive models. ModelAdmin browses; starting runs, renaming and creating go through services.
Registered by segments.admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from cdp.core.actor import actor_from
from cdp.core.errors import DomainError
from segments import ml_admin_views as views
from segments.models import ClusterDefinition, ModelRun, PredictiveModel
from segments.services.ml.definitions import (
    ClusterDefinitionInput,
    PredictiveModelInput,
    cluster_definition_update,
    predictive_model_create,
    predictive_model_update,
)
from segments.services.ml.runs import model_run_request


def _run_link(run: ModelRun | None) -> str:
    if run is None:
        return "—"
    url = reverse("admin:segments_modelrun_page", args=[run.pk])
    return format_html("<a href='{}'>run #{}</a>", url, run.pk)


def _request_runs(
    admin_obj: admin.ModelAdmin, request: HttpRequest, field: str, ids: list[int]
) -> None:
    started = 0
    for pk in ids:
        try:
            model_run_request(actor=actor_from(request), **{field: pk})
        except DomainError as exc:
            admin_obj.message_user(request, exc.message, messages.ERROR)
        else:
            started += 1
    admin_obj.message_user(request, f"{started} run(s) queued; follow them in Clustering runs.")


@admin.register(ModelRun)
class ModelRunAdmin(admin.ModelAdmin):
    """Every clustering and training run with its progress and headline figures."""

    list_display = [
        "title",
        "kind",
        "owner",
        "state",
        "progress",
        "trigger",
        "headline",
        "created_at",
    ]
    list_filter = ["kind", "state", "trigger"]
    list_select_related = ["definition", "predictive_model"]
    readonly_fields = [field.name for field in ModelRun._meta.fields]

    @admin.display(description="Run")
    def title(self, run: ModelRun) -> str:
        url = reverse("admin:segments_modelrun_page", args=[run.pk])
        return format_html("<a href='{}'>#{}</a>", url, run.pk)

    @admin.display(description="Of")
    def owner(self, run: ModelRun) -> str:
        return str(run.definition or run.predictive_model or "")

    @admin.display(description="Progress")
    def progress(self, run: ModelRun) -> str:
        return format_html(
            "<progress max='100' value='{}'></progress> {}%", run.percent, run.percent
        )

    @admin.display(description="Result")
    def headline(self, run: ModelRun) -> str:
        metrics = run.metrics or {}
        if run.kind == ModelRun.Kind.CLUSTERING and "k" in metrics:
            silhouette = metrics.get("silhouette")
            shown = "—" if silhouette is None else f"{silhouette:.3f}"
            return f"k={metrics['k']}, silhouette {shown}"
        auc = metrics.get("test_roc_auc") or metrics.get("cv_roc_auc")
        if auc is not None:
            return f"{metrics.get('best_model')}: ROC-AUC {auc:.3f}"
        if "mean_predicted_clv" in metrics:
            return f"mean CLV {metrics['mean_predicted_clv']:.2f}"
        return ""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("start/", view(views.clustering_start), name="segments_modelrun_start"),
            path("<int:run_id>/page/", view(views.run_page), name="segments_modelrun_page"),
            path(
                "<int:run_id>/progress.json",
                view(views.run_progress_json),
                name="segments_modelrun_progress",
            ),
            path(
                "definition/<int:definition_id>/rerun/",
                view(views.clustering_rerun),
                name="segments_modelrun_rerun",
            ),
            path(
                "cluster/<int:cluster_id>/rename/",
                view(views.cluster_rename_view),
                name="segments_cluster_rename",
            ),
            path(
                "model/<int:model_id>/score-segment/",
                view(views.score_segment_view),
                name="segments_score_segment_create",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:segments_modelrun_start"))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:segments_modelrun_page", args=[object_id]))


@admin.register(ClusterDefinition)
class ClusterDefinitionAdmin(admin.ModelAdmin):
    """What to cluster and how; new ones are made on the start page."""

    list_display = ["name", "algorithm", "k", "is_dynamic", "drift_threshold", "active"]
    list_select_related = ["active_run"]
    fields = [
        "name",
        "description",
        "algorithm",
        "k",
        "k_min",
        "k_max",
        "eps",
        "min_samples",
        "random_state",
        "sample_size",
        "stability_boots",
        "drift_threshold",
        "is_dynamic",
        "spec",
    ]
    readonly_fields = ["spec"]
    actions = ["run_now"]

    @admin.display(description="Active model")
    def active(self, definition: ClusterDefinition) -> str:
        return _run_link(definition.active_run)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:segments_modelrun_start"))

    def save_model(
        self, request: HttpRequest, obj: ClusterDefinition, form: Any, change: bool
    ) -> None:
        fields = {name: getattr(obj, name) for name in ClusterDefinitionInput.__dataclass_fields__}
        fields.pop("extra", None)
        try:
            cluster_definition_update(
                definition_id=obj.pk,
                data=ClusterDefinitionInput(**fields),
                actor=actor_from(request),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description="Start a clustering run of the selected definitions")
    def run_now(self, request: HttpRequest, queryset: QuerySet[ClusterDefinition]) -> None:
        _request_runs(self, request, "definition_id", list(queryset.values_list("pk", flat=True)))


@admin.register(PredictiveModel)
class PredictiveModelAdmin(admin.ModelAdmin):
    """Churn, purchase-propensity and CLV models; trained by runs, scores on the profiles."""

    list_display = ["name", "target", "horizon_days", "is_active", "active"]
    list_select_related = ["active_run"]
    fields = [
        "name",
        "target",
        "horizon_days",
        "algorithms",
        "n_splits",
        "random_state",
        "clv_months",
        "clv_discount_monthly",
        "is_active",
    ]
    actions = ["train_now"]

    @admin.display(description="Active model")
    def active(self, model: PredictiveModel) -> str:
        return _run_link(model.active_run)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["name", "target"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: PredictiveModel, form: Any, change: bool
    ) -> None:
        if change:
            predictive_model_update(
                model_id=obj.pk,
                is_active=obj.is_active,
                horizon_days=obj.horizon_days,
                algorithms=tuple(obj.algorithms or ()),
                actor=actor_from(request),
            )
            return
        try:
            created = predictive_model_create(
                data=PredictiveModelInput(
                    name=obj.name,
                    target=obj.target,
                    horizon_days=obj.horizon_days,
                    algorithms=tuple(obj.algorithms or ()),
                    n_splits=obj.n_splits,
                    random_state=obj.random_state,
                    clv_months=obj.clv_months,
                    clv_discount_monthly=obj.clv_discount_monthly,
                ),
                actor=actor_from(request),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = created.pk

    @admin.action(description="Train the selected models now")
    def train_now(self, request: HttpRequest, queryset: QuerySet[PredictiveModel]) -> None:
        _request_runs(
            self, request, "predictive_model_id", list(queryset.values_list("pk", flat=True))
        )
