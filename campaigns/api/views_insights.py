"""Campaigns API: preview, dry run, results, the send log, dead letters, content blocks and
audience exports (thin views over services and selectors)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import ContentBlock
from campaigns.selectors.outbox import dead_letters_qs, sends_log_qs
from campaigns.selectors.results import snapshot_latest
from campaigns.services.definitions import content_block_save
from campaigns.services.exports import audience_export_write
from campaigns.services.outbox import dead_letters_retry
from campaigns.services.results import results_refresh
from campaigns.services.simulation import campaign_dry_run, variant_preview
from cdp.core.actor import actor_from
from cdp.core.api import PageNumberPagination
from cdp.core.roles import VIEW_PII, CanManageCampaigns, IsPrivacyOfficer, has_capability

from .serializers import SendSerializer


class CampaignPreviewApi(APIView):
    """POST /api/campaigns/<id>/preview — a variant rendered for one profile (audited)."""

    permission_classes = [CanManageCampaigns]

    @extend_schema_serializer(component_name="CampaignPreviewInput")
    class InputSerializer(serializers.Serializer):
        variant = serializers.SlugField()
        profile_id = serializers.IntegerField()

    @extend_schema_serializer(component_name="CampaignPreviewOutput")
    class OutputSerializer(serializers.Serializer):
        profile_id = serializers.IntegerField()
        variant = serializers.CharField()
        to = serializers.CharField()
        subject = serializers.CharField(source="message.subject")
        text = serializers.CharField(source="message.text")
        html = serializers.CharField(source="message.html")
        offer = serializers.CharField(source="message.offer_key", allow_null=True)
        masked = serializers.BooleanField(source="is_masked")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, campaign_id: int) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        preview = variant_preview(
            campaign_id=campaign_id,
            variant_key=payload.validated_data["variant"],
            profile_id=payload.validated_data["profile_id"],
            actor=actor_from(request),
            can_view_pii=has_capability(request.user, VIEW_PII),
        )
        return Response(self.OutputSerializer(preview).data)


@extend_schema_serializer(component_name="CampaignDryRunRow")
class DryRunRowSerializer(serializers.Serializer):
    profile_id = serializers.IntegerField()
    triggered_at = serializers.DateTimeField()
    send_at = serializers.DateTimeField()
    arm = serializers.CharField()
    outcome = serializers.CharField()
    reason = serializers.CharField()


class CampaignDryRunApi(APIView):
    """POST /api/campaigns/<id>/dry-run — a test profile now, or a replay of [start, end)."""

    permission_classes = [CanManageCampaigns]

    @extend_schema_serializer(component_name="CampaignDryRunInput")
    class InputSerializer(serializers.Serializer):
        profile_id = serializers.IntegerField(required=False, allow_null=True)
        start = serializers.DateTimeField(required=False, allow_null=True)
        end = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema_serializer(component_name="CampaignDryRunOutput")
    class OutputSerializer(serializers.Serializer):
        total = serializers.IntegerField()
        outcomes = serializers.DictField(child=serializers.IntegerField())
        reasons = serializers.DictField(child=serializers.IntegerField())
        arms = serializers.DictField(child=serializers.IntegerField())
        is_truncated = serializers.BooleanField()
        rows = DryRunRowSerializer(many=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, campaign_id: int) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = campaign_dry_run(
            campaign_id=campaign_id, actor=actor_from(request), **payload.validated_data
        )
        return Response(self.OutputSerializer(report).data)


class CampaignResultsApi(APIView):
    """GET /api/campaigns/<id>/results — the latest snapshot (?refresh=1 recomputes)."""

    permission_classes = [CanManageCampaigns]

    @extend_schema_serializer(component_name="CampaignResults")
    class OutputSerializer(serializers.Serializer):
        computed_at = serializers.DateTimeField()
        report = serializers.JSONField()

    @extend_schema(
        parameters=[OpenApiParameter("refresh", bool, required=False)],
        responses={200: OutputSerializer},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        snapshot = snapshot_latest(campaign_id=campaign_id)
        if snapshot is None or request.query_params.get("refresh") in ("1", "true"):
            snapshot = results_refresh(campaign_id=campaign_id)
        return Response(self.OutputSerializer(snapshot).data)


class CampaignSendsApi(APIView):
    """GET /api/campaigns/<id>/sends — the send log with reasons (filter status/reason/arm)."""

    permission_classes = [CanManageCampaigns | IsPrivacyOfficer]

    @extend_schema(
        parameters=[
            OpenApiParameter(name, str, required=False) for name in ("status", "reason", "arm")
        ],
        responses={200: SendSerializer(many=True)},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        filters = {name: request.query_params.get(name, "") for name in ("status", "reason", "arm")}
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            sends_log_qs(campaign_id=campaign_id, **filters), request, view=self
        )
        return paginator.get_paginated_response(SendSerializer(page, many=True).data)


class DeadLetterListApi(APIView):
    """GET /api/campaigns/dead-letters/ — sends that failed for good."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(responses={200: SendSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(dead_letters_qs(), request, view=self)
        return paginator.get_paginated_response(SendSerializer(page, many=True).data)


class DeadLetterRetryApi(APIView):
    """POST /api/campaigns/dead-letters/retry — requeue failed sends by id."""

    permission_classes = [CanManageCampaigns]

    @extend_schema_serializer(component_name="DeadLetterRetryInput")
    class InputSerializer(serializers.Serializer):
        send_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1)

    @extend_schema_serializer(component_name="DeadLetterRetryOutput")
    class OutputSerializer(serializers.Serializer):
        requeued = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        count = dead_letters_retry(
            send_ids=payload.validated_data["send_ids"], actor=actor_from(request)
        )
        return Response(self.OutputSerializer({"requeued": count}).data)


@extend_schema_serializer(component_name="ContentBlock")
class ContentBlockSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=200)
    priority = serializers.IntegerField(default=0)
    conditions = serializers.JSONField(default=list)
    body = serializers.CharField()
    is_active = serializers.BooleanField(default=True)


class ContentBlockListSaveApi(APIView):
    """GET /api/campaigns/content-blocks/; POST creates or updates one by key."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(responses={200: ContentBlockSerializer(many=True)})
    def get(self, request: Request) -> Response:
        blocks = ContentBlock.objects.order_by("-priority", "key")
        return Response(ContentBlockSerializer(blocks, many=True).data)

    @extend_schema(request=ContentBlockSerializer, responses={201: ContentBlockSerializer})
    def post(self, request: Request) -> Response:
        payload = ContentBlockSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(payload.validated_data)
        block = content_block_save(actor=actor_from(request), key=fields.pop("key"), fields=fields)
        return Response(ContentBlockSerializer(block).data, status=status.HTTP_201_CREATED)


class AudienceExportApi(APIView):
    """POST /api/campaigns/<id>/export — write the consenting audience as CSV now."""

    permission_classes = [CanManageCampaigns]

    @extend_schema_serializer(component_name="AudienceExportOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="pk")
        rows = serializers.IntegerField()
        file = serializers.CharField(source="file.name")
        created_at = serializers.DateTimeField()

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request: Request, campaign_id: int) -> Response:
        export = audience_export_write(campaign_id=campaign_id, actor=actor_from(request))
        return Response(self.OutputSerializer(export).data, status=status.HTTP_201_CREATED)
