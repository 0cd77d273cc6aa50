"""Segments API: segment CRUD, the live preview of a rule tree, the builder's catalogue, and
custom computed traits (/api/segments/…)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdp.core.actor import actor_from
from cdp.core.api import PageNumberPagination
from cdp.core.errors import NotFoundError
from cdp.core.roles import IsMarketer
from segments.models import ComputedTrait, Segment
from segments.selectors.builder import builder_catalogue, freshness, preview
from segments.selectors.membership import segment_get, segments_active_qs
from segments.services.definitions import (
    ComputedTraitInput,
    SegmentInput,
    computed_trait_save,
    segment_create,
    segment_delete,
    segment_update,
)


@extend_schema_serializer(component_name="SegmentFreshness")
class FreshnessSerializer(serializers.Serializer):
    mode = serializers.CharField()
    label = serializers.CharField()
    last_refreshed_at = serializers.DateTimeField(allow_null=True)
    next_refresh_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="Segment")
class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.CharField()
    origin = serializers.CharField()
    rule_tree = serializers.JSONField()
    is_realtime = serializers.BooleanField()
    refresh_cron = serializers.CharField()
    size = serializers.IntegerField()
    definition_version = serializers.IntegerField()
    refresh_error = serializers.CharField()
    freshness = serializers.SerializerMethodField()

    def get_freshness(self, segment: Segment) -> dict[str, Any]:
        return FreshnessSerializer(freshness(segment)).data


@extend_schema_serializer(component_name="SegmentInput")
class SegmentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=Segment.Kind.choices, default=Segment.Kind.DYNAMIC)
    rule_tree = serializers.JSONField()
    is_realtime = serializers.BooleanField(default=False)
    refresh_cron = serializers.CharField(max_length=100, default="0 * * * *")

    def validate_rule_tree(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("The rule tree is a JSON object.")
        return value


class SegmentListCreateApi(APIView):
    """GET /api/segments/ (paginated, by name) and POST to create one."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: SegmentSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            segments_active_qs().order_by("name"), request, view=self
        )
        return paginator.get_paginated_response(SegmentSerializer(page, many=True).data)

    @extend_schema(request=SegmentInputSerializer, responses={201: SegmentSerializer})
    def post(self, request: Request) -> Response:
        payload = SegmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        segment = segment_create(
            data=SegmentInput(**payload.validated_data), actor=actor_from(request)
        )
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


def _segment(segment_id: int) -> Segment:
    segment = segment_get(segment_id=segment_id)
    if segment is None:
        raise NotFoundError(f"No segment with id {segment_id}.")
    return segment


class SegmentDetailApi(APIView):
    """GET, PUT, DELETE /api/segments/<id>/."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: SegmentSerializer})
    def get(self, request: Request, segment_id: int) -> Response:
        return Response(SegmentSerializer(_segment(segment_id)).data)

    @extend_schema(request=SegmentInputSerializer, responses={200: SegmentSerializer})
    def put(self, request: Request, segment_id: int) -> Response:
        payload = SegmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        segment = segment_update(
            segment_id=segment_id,
            data=SegmentInput(**payload.validated_data),
            actor=actor_from(request),
        )
        return Response(SegmentSerializer(segment).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, segment_id: int) -> Response:
        segment_delete(segment_id=segment_id, actor=actor_from(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentPreviewApi(APIView):
    """POST /api/segments/preview/ {rule_tree} → count, a sample of profile ids, and whether
    the tree can be evaluated in real time. Validation errors come back as a 400 with every
    issue (path, code, message)."""

    permission_classes = [IsMarketer]

    @extend_schema_serializer(component_name="SegmentPreviewInput")
    class InputSerializer(serializers.Serializer):
        rule_tree = serializers.JSONField()
        sample_size = serializers.IntegerField(min_value=0, max_value=100, default=10)

    @extend_schema_serializer(component_name="SegmentPreview")
    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        sample = serializers.ListField(child=serializers.IntegerField())
        is_realtime_capable = serializers.BooleanField()
        realtime_blockers = serializers.ListField(child=serializers.CharField())
        realtime_notes = serializers.ListField(child=serializers.CharField())
        milliseconds = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = preview(
            tree=payload.validated_data["rule_tree"],
            sample_size=payload.validated_data["sample_size"],
        )
        return Response(self.OutputSerializer(result).data)


class SegmentCatalogueApi(APIView):
    """GET /api/segments/catalogue/ — what the builder offers: traits (golden and computed) with
    types, events and their properties as seen in the data, purposes, segments, operators."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(builder_catalogue())


@extend_schema_serializer(component_name="ComputedTrait")
class ComputedTraitSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=120)
    event = serializers.CharField(max_length=200)
    property = serializers.CharField(max_length=100, allow_blank=True, default="")
    aggregate = serializers.ChoiceField(choices=ComputedTrait.Aggregate.choices)
    window_days = serializers.IntegerField(min_value=1, allow_null=True, default=None)


class ComputedTraitListSaveApi(APIView):
    """GET /api/segments/computed-traits/ and POST to create or change one (by key)."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: ComputedTraitSerializer(many=True)})
    def get(self, request: Request) -> Response:
        traits = ComputedTrait.objects.order_by("key")
        return Response(ComputedTraitSerializer(traits, many=True).data)

    @extend_schema(request=ComputedTraitSerializer, responses={200: ComputedTraitSerializer})
    def post(self, request: Request) -> Response:
        payload = ComputedTraitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        trait = computed_trait_save(
            data=ComputedTraitInput(**payload.validated_data), actor=actor_from(request)
        )
        return Response(ComputedTraitSerializer(trait).data)
