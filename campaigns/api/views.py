"""Campaigns API: campaigns — list, create, read, edit, launch, pause, resume, end (thin:
parse, check the role, call one service, serialise)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Campaign
from campaigns.selectors.campaigns import campaign_get, campaign_list_qs
from campaigns.services.definitions import campaign_create, campaign_update
from campaigns.services.lifecycle import (
    campaign_end,
    campaign_launch,
    campaign_pause,
    campaign_resume,
)
from cdp.core.actor import actor_from
from cdp.core.api import PageNumberPagination
from cdp.core.roles import CanManageCampaigns

from .serializers import CampaignInputSerializer, CampaignOutputSerializer, variant_specs


class CampaignListCreateApi(APIView):
    """GET /api/campaigns/ (newest first, paginated); POST creates a draft."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(responses={200: CampaignOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            campaign_list_qs().prefetch_related("variants"), request, view=self
        )
        return paginator.get_paginated_response(CampaignOutputSerializer(page, many=True).data)

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignOutputSerializer})
    def post(self, request: Request) -> Response:
        payload = CampaignInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        variants = variant_specs(fields.pop("variants", []))
        campaign = campaign_create(actor=actor_from(request), fields=fields, variants=variants)
        return Response(
            CampaignOutputSerializer(campaign_get(campaign_id=campaign.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class CampaignDetailApi(APIView):
    """GET /api/campaigns/<id>/; PATCH edits (some fields are locked after launch)."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(responses={200: CampaignOutputSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        return Response(CampaignOutputSerializer(campaign_get(campaign_id=campaign_id)).data)

    @extend_schema(request=CampaignInputSerializer, responses={200: CampaignOutputSerializer})
    def patch(self, request: Request, campaign_id: int) -> Response:
        payload = CampaignInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        variants = fields.pop("variants", None)
        campaign_update(
            campaign_id=campaign_id,
            actor=actor_from(request),
            fields=fields,
            variants=variant_specs(variants) if variants is not None else None,
        )
        return Response(CampaignOutputSerializer(campaign_get(campaign_id=campaign_id)).data)


def _lifecycle(request: Request, campaign_id: int, action: str) -> Response:
    services = {
        "launch": campaign_launch,
        "pause": campaign_pause,
        "resume": campaign_resume,
        "end": campaign_end,
    }
    campaign: Campaign = services[action](campaign_id=campaign_id, actor=actor_from(request))
    return Response(CampaignOutputSerializer(campaign_get(campaign_id=campaign.pk)).data)


class CampaignLaunchApi(APIView):
    """POST /api/campaigns/<id>/launch — validate and start a draft."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(request=None, responses={200: CampaignOutputSerializer})
    def post(self, request: Request, campaign_id: int) -> Response:
        return _lifecycle(request, campaign_id, "launch")


class CampaignPauseApi(APIView):
    """POST /api/campaigns/<id>/pause — hold triggers and queued sends."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(request=None, responses={200: CampaignOutputSerializer})
    def post(self, request: Request, campaign_id: int) -> Response:
        return _lifecycle(request, campaign_id, "pause")


class CampaignResumeApi(APIView):
    """POST /api/campaigns/<id>/resume."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(request=None, responses={200: CampaignOutputSerializer})
    def post(self, request: Request, campaign_id: int) -> Response:
        return _lifecycle(request, campaign_id, "resume")


class CampaignEndApi(APIView):
    """POST /api/campaigns/<id>/end — for good; queued sends are skipped."""

    permission_classes = [CanManageCampaigns]

    @extend_schema(request=None, responses={200: CampaignOutputSerializer})
    def post(self, request: Request, campaign_id: int) -> Response:
        return _lifecycle(request, campaign_id, "end")
