"""Segments API: members (paginated, CSV export), refresh, explain, size series, overlap,
uploaded lists, and a profile's membership history (/api/segments/…)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdp.core import jobs
from cdp.core.actor import actor_from
from cdp.core.api import PageNumberPagination
from cdp.core.audit import audit_record
from cdp.core.errors import NotFoundError
from cdp.core.roles import VIEW_PII, IsMarketer, has_capability
from segments.selectors.explain import explain
from segments.selectors.export import members_csv_rows, members_page_rows
from segments.selectors.membership import (
    profile_memberships_qs,
    segment_get,
    segment_members_qs,
    segment_size_series,
    segments_overlap,
)
from segments.services.refresh import segment_upload_members


def _segment(segment_id: int) -> Any:
    segment = segment_get(segment_id=segment_id)
    if segment is None:
        raise NotFoundError(f"No segment with id {segment_id}.")
    return segment


@extend_schema_serializer(component_name="SegmentMember")
class MemberSerializer(serializers.Serializer):
    profile_id = serializers.IntegerField()
    entered_at = serializers.DateTimeField()
    traits = serializers.DictField()


class SegmentMembersApi(APIView):
    """GET /api/segments/<id>/members/ — current members, newest entries first, paginated,
    with golden traits masked for roles without PII access. Audited."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: MemberSerializer(many=True)})
    def get(self, request: Request, segment_id: int) -> Response:
        segment = _segment(segment_id)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            segment_members_qs(segment_id=segment.pk).order_by("-entered_at", "-pk"),
            request,
            view=self,
        )
        can_view_pii = has_capability(request.user, VIEW_PII)
        audit_record(
            actor=actor_from(request),
            action="segments.segment.members",
            target=segment,
            details={"masked": not can_view_pii},
        )
        rows = members_page_rows(page, can_view_pii=can_view_pii)
        return paginator.get_paginated_response(MemberSerializer(rows, many=True).data)


class SegmentMembersCsvApi(APIView):
    """GET /api/segments/<id>/members.csv — every current member as CSV (streamed): profile
    id, entered at, email, first name, country, lifecycle stage; PII masked unless the role
    may see it. Audited."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: OpenApiResponse(description="text/csv")})
    def get(self, request: Request, segment_id: int) -> StreamingHttpResponse:
        segment = _segment(segment_id)
        can_view_pii = has_capability(request.user, VIEW_PII)
        audit_record(
            actor=actor_from(request),
            action="segments.segment.export",
            target=segment,
            details={"masked": not can_view_pii, "size": segment.size},
        )
        response = StreamingHttpResponse(
            members_csv_rows(segment_id=segment.pk, can_view_pii=can_view_pii),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-members.csv"'
        return response


class SegmentRefreshApi(APIView):
    """POST /api/segments/<id>/refresh/ — recompute the members now (queued)."""

    permission_classes = [IsMarketer]

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request, segment_id: int) -> Response:
        segment = _segment(segment_id)
        audit_record(actor=actor_from(request), action="segments.segment.refresh", target=segment)
        jobs.publish_on_commit(jobs.SEGMENT_REFRESH_REQUESTED, segment_id=segment.pk)
        return Response(status=status.HTTP_202_ACCEPTED)


@extend_schema_serializer(component_name="ConditionVerdict")
class VerdictSerializer(serializers.Serializer):
    path = serializers.CharField()
    depth = serializers.IntegerField()
    label = serializers.CharField()
    matched = serializers.BooleanField()
    value = serializers.JSONField(allow_null=True)


class SegmentExplainApi(APIView):
    """GET /api/segments/<id>/explain/<profile_id>/ — why the profile is in or out, condition
    by condition, with the values that decided it. Audited."""

    permission_classes = [IsMarketer]

    @extend_schema_serializer(component_name="Explanation")
    class OutputSerializer(serializers.Serializer):
        profile_id = serializers.IntegerField()
        is_member = serializers.BooleanField()
        is_current_member = serializers.BooleanField(allow_null=True)
        conditions = VerdictSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, segment_id: int, profile_id: int) -> Response:
        segment = _segment(segment_id)
        result = explain(
            tree=segment.rule_tree,
            profile_id=profile_id,
            segment_id=segment.pk,
            can_view_pii=has_capability(request.user, VIEW_PII),
        )
        audit_record(
            actor=actor_from(request),
            action="segments.segment.explain",
            target=segment,
            details={"profile_id": profile_id},
        )
        return Response(self.OutputSerializer(result).data)


@extend_schema_serializer(component_name="SegmentSizePoint")
class SizePointSerializer(serializers.Serializer):
    measured_at = serializers.DateTimeField()
    size = serializers.IntegerField()
    entered = serializers.IntegerField()
    exited = serializers.IntegerField()


class SegmentSizesApi(APIView):
    """GET /api/segments/<id>/sizes/ — size after each refresh, oldest first."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: SizePointSerializer(many=True)})
    def get(self, request: Request, segment_id: int) -> Response:
        points = segment_size_series(segment_id=_segment(segment_id).pk)
        return Response(SizePointSerializer(points, many=True).data)


class SegmentOverlapApi(APIView):
    """GET /api/segments/<id>/overlap/<other_id>/ — members shared and in one only."""

    permission_classes = [IsMarketer]

    @extend_schema_serializer(component_name="SegmentOverlap")
    class OutputSerializer(serializers.Serializer):
        both = serializers.IntegerField()
        only_first = serializers.IntegerField()
        only_second = serializers.IntegerField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, segment_id: int, other_id: int) -> Response:
        first, second = _segment(segment_id), _segment(other_id)
        overlap = segments_overlap(first_id=first.pk, second_id=second.pk)
        return Response(self.OutputSerializer(overlap).data)


class SegmentUploadApi(APIView):
    """POST /api/segments/<id>/upload/ {identifiers: [{type, value}]} — the members of an
    uploaded static segment (normalised values; unknown ones are ignored)."""

    permission_classes = [IsMarketer]

    @extend_schema_serializer(component_name="SegmentUploadInput")
    class InputSerializer(serializers.Serializer):
        identifiers = serializers.ListField(
            child=serializers.DictField(child=serializers.CharField()), max_length=100_000
        )

    @extend_schema_serializer(component_name="SegmentUploadResult")
    class OutputSerializer(serializers.Serializer):
        entered = serializers.IntegerField()
        exited = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, segment_id: int) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        pairs = [
            (item.get("type", ""), item.get("value", ""))
            for item in payload.validated_data["identifiers"]
        ]
        diff = segment_upload_members(
            segment_id=segment_id, identifiers=pairs, actor=actor_from(request)
        )
        body = {"entered": len(diff.entered_ids), "exited": len(diff.exited_ids)}
        return Response(self.OutputSerializer(body).data)


@extend_schema_serializer(component_name="MembershipStay")
class StaySerializer(serializers.Serializer):
    segment_id = serializers.IntegerField()
    segment = serializers.CharField(source="segment.name")
    entered_at = serializers.DateTimeField()
    exited_at = serializers.DateTimeField(allow_null=True)
    entered_by = serializers.CharField()
    exited_by = serializers.CharField()


class ProfileMembershipsApi(APIView):
    """GET /api/segments/profiles/<profile_id>/memberships/ — every segment the profile is or
    was in, with entered and exited times, newest first (paginated)."""

    permission_classes = [IsMarketer]

    @extend_schema(responses={200: StaySerializer(many=True)})
    def get(self, request: Request, profile_id: int) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            profile_memberships_qs(profile_id=profile_id), request, view=self
        )
        return paginator.get_paginated_response(StaySerializer(page, many=True).data)
