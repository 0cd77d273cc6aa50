"""Segments API (ML): cluster definitions and their runs, run progress and clusters, renaming,
predictive models, their training runs and score segments, and a profile's scores
(/api/segments/ml/…). Thin: serializers parse, services write, selectors read."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdp.core.actor import actor_from
from cdp.core.api import PageNumberPagination
from cdp.core.errors import NotFoundError
from cdp.core.roles import IsMarketer
from segments.models import ClusterDefinition, PredictiveModel
from segments.selectors.ml import (
    cluster_definitions_qs,
    model_run_get,
    profile_ml_scores,
    run_clusters_qs,
)
from segments.services.ml.definitions import (
    ClusterDefinitionInput,
    PredictiveModelInput,
    cluster_definition_create,
    cluster_rename,
    predictive_model_create,
    score_segment_create,
)
from segments.services.ml.runs import model_run_request


@extend_schema_serializer(component_name="MlModelRun")
class ModelRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    state = serializers.CharField()
    trigger = serializers.CharField()
    stage = serializers.CharField()
    percent = serializers.IntegerField()
    error = serializers.CharField()
    definition_id = serializers.IntegerField(allow_null=True)
    predictive_model_id = serializers.IntegerField(allow_null=True)
    metrics = serializers.JSONField()
    spec = serializers.JSONField()
    sklearn_version = serializers.CharField()
    n_rows = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="MlClusterDefinition")
class ClusterDefinitionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    algorithm = serializers.CharField()
    spec = serializers.JSONField()
    k = serializers.IntegerField(allow_null=True)
    k_min = serializers.IntegerField()
    k_max = serializers.IntegerField()
    drift_threshold = serializers.FloatField()
    is_dynamic = serializers.BooleanField()
    active_run_id = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(component_name="MlClusterDefinitionInput")
class ClusterDefinitionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    spec = serializers.JSONField(help_text="PipelineSpec: numeric/categorical features and steps")
    algorithm = serializers.ChoiceField(
        choices=ClusterDefinition.Algorithm.choices, default=ClusterDefinition.Algorithm.KMEANS
    )
    k = serializers.IntegerField(required=False, allow_null=True, min_value=2, default=None)
    k_min = serializers.IntegerField(min_value=2, default=2)
    k_max = serializers.IntegerField(min_value=2, default=8)
    eps = serializers.FloatField(required=False, allow_null=True, default=None)
    min_samples = serializers.IntegerField(min_value=2, default=10)
    random_state = serializers.IntegerField(default=0)
    drift_threshold = serializers.FloatField(min_value=0.0001, default=0.10)
    is_dynamic = serializers.BooleanField(default=True)
    start = serializers.BooleanField(default=True, help_text="Queue a first run at once")


@extend_schema_serializer(component_name="MlCluster")
class ClusterSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    index = serializers.IntegerField()
    name = serializers.CharField()
    auto_name = serializers.CharField()
    is_renamed = serializers.BooleanField()
    size = serializers.IntegerField()
    share = serializers.FloatField()
    profile = serializers.JSONField()
    kpis = serializers.JSONField()
    segment_id = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(component_name="MlClusterRename")
class RenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)


@extend_schema_serializer(component_name="MlPredictiveModel")
class PredictiveModelSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    target = serializers.CharField()
    horizon_days = serializers.IntegerField()
    algorithms = serializers.JSONField()
    is_active = serializers.BooleanField()
    active_run_id = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(component_name="MlPredictiveModelInput")
class PredictiveModelInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    target = serializers.ChoiceField(choices=PredictiveModel.Target.choices)
    horizon_days = serializers.IntegerField(min_value=1, default=90)
    algorithms = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    n_splits = serializers.IntegerField(min_value=2, default=5)
    random_state = serializers.IntegerField(default=0)
    clv_months = serializers.IntegerField(min_value=1, default=12)
    start = serializers.BooleanField(default=True, help_text="Queue a first training at once")


@extend_schema_serializer(component_name="MlScoreSegmentInput")
class ScoreSegmentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=190)
    top_deciles = serializers.IntegerField(
        min_value=1, max_value=10, required=False, allow_null=True
    )
    min_score = serializers.FloatField(required=False, allow_null=True)


@extend_schema_serializer(component_name="MlScoreSegment")
class ScoreSegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    segment_id = serializers.IntegerField()
    segment_name = serializers.CharField(source="segment.name")
    size = serializers.IntegerField(source="segment.size")
    top_deciles = serializers.IntegerField(allow_null=True)
    min_score = serializers.FloatField(allow_null=True)


@extend_schema_serializer(component_name="MlProfileScores")
class ProfileScoresSerializer(serializers.Serializer):
    scores = serializers.JSONField()
    clusters = serializers.JSONField()


class ClusterDefinitionListCreateApi(APIView):
    """GET /api/segments/ml/cluster-definitions/ and POST to create one (and start a run)."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: ClusterDefinitionSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(cluster_definitions_qs(), request, view=self)
        return paginator.get_paginated_response(ClusterDefinitionSerializer(page, many=True).data)

    @extend_schema(
        request=ClusterDefinitionInputSerializer, responses={201: ClusterDefinitionSerializer}
    )
    def post(self, request: Request) -> Response:
        payload = ClusterDefinitionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(payload.validated_data)
        start = data.pop("start")
        actor = actor_from(request)
        definition = cluster_definition_create(data=ClusterDefinitionInput(**data), actor=actor)
        if start:
            model_run_request(actor=actor, definition_id=definition.pk)
        return Response(
            ClusterDefinitionSerializer(definition).data, status=status.HTTP_201_CREATED
        )


class ClusteringRunStartApi(APIView):
    """POST /api/segments/ml/cluster-definitions/<id>/runs/: queue a run (or get the pending)."""

    permission_classes = [IsMarketer]

    @extend_schema(request=None, responses={202: ModelRunSerializer})
    def post(self, request: Request, definition_id: int) -> Response:
        run = model_run_request(actor=actor_from(request), definition_id=definition_id)
        return Response(ModelRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


def _run(run_id: int) -> Any:
    run = model_run_get(run_id=run_id)
    if run is None:
        raise NotFoundError(f"No run with id {run_id}.")
    return run


class ModelRunDetailApi(APIView):
    """GET /api/segments/ml/runs/<id>/: state, progress and metrics of a run."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: ModelRunSerializer})
    def get(self, request: Request, run_id: int) -> Response:
        return Response(ModelRunSerializer(_run(run_id)).data)


class RunClustersApi(APIView):
    """GET /api/segments/ml/runs/<id>/clusters/: profiles, KPIs, names and segments."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: ClusterSerializer(many=True)})
    def get(self, request: Request, run_id: int) -> Response:
        _run(run_id)
        return Response(ClusterSerializer(run_clusters_qs(run_id=run_id), many=True).data)


class ClusterRenameApi(APIView):
    """POST /api/segments/ml/clusters/<id>/rename/: the marketer's name (its segment too)."""

    permission_classes = [IsMarketer]

    @extend_schema(request=RenameSerializer, responses={200: ClusterSerializer})
    def post(self, request: Request, cluster_id: int) -> Response:
        payload = RenameSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        cluster = cluster_rename(
            cluster_id=cluster_id, name=payload.validated_data["name"], actor=actor_from(request)
        )
        return Response(ClusterSerializer(cluster).data)


class PredictiveModelListCreateApi(APIView):
    """GET /api/segments/ml/predictive-models/ and POST to create one (and train it)."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: PredictiveModelSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        models = PredictiveModel.objects.order_by("name")
        page = paginator.paginate_queryset(models, request, view=self)
        return paginator.get_paginated_response(PredictiveModelSerializer(page, many=True).data)

    @extend_schema(
        request=PredictiveModelInputSerializer, responses={201: PredictiveModelSerializer}
    )
    def post(self, request: Request) -> Response:
        payload = PredictiveModelInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(payload.validated_data)
        start = data.pop("start")
        data["algorithms"] = tuple(data["algorithms"])
        actor = actor_from(request)
        model = predictive_model_create(data=PredictiveModelInput(**data), actor=actor)
        if start:
            model_run_request(actor=actor, predictive_model_id=model.pk)
        return Response(PredictiveModelSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelTrainingStartApi(APIView):
    """POST /api/segments/ml/predictive-models/<id>/runs/: queue a training run."""

    permission_classes = [IsMarketer]

    @extend_schema(request=None, responses={202: ModelRunSerializer})
    def post(self, request: Request, model_id: int) -> Response:
        run = model_run_request(actor=actor_from(request), predictive_model_id=model_id)
        return Response(ModelRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ScoreSegmentCreateApi(APIView):
    """POST /api/segments/ml/predictive-models/<id>/score-segments/: e.g. top decile churn."""

    permission_classes = [IsMarketer]

    @extend_schema(request=ScoreSegmentInputSerializer, responses={201: ScoreSegmentSerializer})
    def post(self, request: Request, model_id: int) -> Response:
        payload = ScoreSegmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        band = score_segment_create(
            model_id=model_id, actor=actor_from(request), **payload.validated_data
        )
        return Response(ScoreSegmentSerializer(band).data, status=status.HTTP_201_CREATED)


class ProfileScoresApi(APIView):
    """GET /api/segments/ml/profiles/<id>/scores/: a profile's model scores and clusters."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: ProfileScoresSerializer})
    def get(self, request: Request, profile_id: int) -> Response:
        return Response(ProfileScoresSerializer(profile_ml_scores(profile_id=profile_id)).data)
