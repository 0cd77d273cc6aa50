"""Profiles API: identity resolution — the review queue (list, side by side, accept, reject),
merge history and unmerge, resolution runs, survivorship rules, tracking plans, the
violations inbox and data-quality reports (/api/...)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdp.core.actor import actor_from
from cdp.core.api import PageNumberPagination
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from cdp.core.roles import VIEW_PII, CanReviewMerges, IsIntegrationAdmin, has_capability
from profiles.models import MatchCandidate, ResolutionRun, TrackingPlan
from profiles.selectors import profile_merges_qs
from profiles.selectors_matching import (
    candidate_detail,
    profile_label,
    quality_report_latest,
    resolution_runs_qs,
    review_queue_qs,
    tracking_plan_get,
    tracking_violations_qs,
)
from profiles.services.quality_report import quality_report_compute
from profiles.services.resolution_runs import resolution_run_request, run_settings_build
from profiles.services.review import match_candidate_accept, match_candidate_reject, merge_undo
from profiles.services.tracking_plans import tracking_plan_delete, tracking_plan_set

_MERGE_DETAIL_KEYS = ("rule", "probability", "pair", "contributions", "candidate_id", "run_id")


def _can_view_pii(request: Request) -> bool:
    return has_capability(request.user, VIEW_PII)


@extend_schema_serializer(component_name="MatchCandidateSummary")
class CandidateSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    left_id = serializers.IntegerField()
    right_id = serializers.IntegerField()
    left = serializers.SerializerMethodField()
    right = serializers.SerializerMethodField()
    probability = serializers.FloatField()
    status = serializers.CharField()
    reason = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by_label")
    decided_at = serializers.DateTimeField(allow_null=True)

    def get_left(self, candidate: MatchCandidate) -> str:
        return profile_label(candidate.left.traits, can_view_pii=self.context["pii"])

    def get_right(self, candidate: MatchCandidate) -> str:
        return profile_label(candidate.right.traits, can_view_pii=self.context["pii"])


class MatchCandidateListApi(APIView):
    """GET /api/matches/?status=pending — the review queue, most probable first."""

    permission_classes = [CanReviewMerges]

    @extend_schema(
        parameters=[OpenApiParameter("status", str, required=False, enum=MatchCandidate.Status)],
        responses={200: CandidateSummarySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status", MatchCandidate.Status.PENDING)
        if wanted not in MatchCandidate.Status.values:
            raise InvalidInputError(f"Unknown status {wanted!r}.")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(review_queue_qs(status=wanted), request, view=self)
        context = {"pii": _can_view_pii(request)}
        return paginator.get_paginated_response(
            CandidateSummarySerializer(page, many=True, context=context).data
        )


class MatchCandidateDetailApi(APIView):
    """GET /api/matches/<id>/ — both profiles side by side with the score breakdown (audited)."""

    permission_classes = [CanReviewMerges]

    @extend_schema_serializer(component_name="FieldComparison")
    class FieldSerializer(serializers.Serializer):
        name = serializers.CharField()
        left = serializers.CharField()
        right = serializers.CharField()
        level = serializers.CharField()
        weight = serializers.FloatField()

    @extend_schema_serializer(component_name="MatchCandidateDetail")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        left_id = serializers.IntegerField()
        right_id = serializers.IntegerField()
        probability = serializers.FloatField()
        match_weight = serializers.FloatField()
        status = serializers.CharField()
        reason = serializers.CharField()
        merge_id = serializers.IntegerField(allow_null=True)
        left = serializers.DictField()
        right = serializers.DictField()
        fields = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, candidate_id: int) -> Response:
        pii = _can_view_pii(request)
        detail = candidate_detail(candidate_id=candidate_id, can_view_pii=pii)
        if detail is None:
            raise NotFoundError(f"No match candidate with id {candidate_id}.")
        audit_record(
            actor=actor_from(request),
            action="profiles.match.view",
            target=detail.candidate,
            details={"masked": not pii},
        )
        candidate = detail.candidate
        body = {
            "id": candidate.pk,
            "left_id": candidate.left_id,
            "right_id": candidate.right_id,
            "probability": candidate.probability,
            "match_weight": candidate.match_weight,
            "status": candidate.status,
            "reason": candidate.reason,
            "merge_id": candidate.merge_id,
            "left": {t.name: t.value for t in detail.left.traits},
            "right": {t.name: t.value for t in detail.right.traits},
            "fields": [field.__dict__ for field in detail.fields],
        }
        return Response(self.OutputSerializer(body).data)


@extend_schema_serializer(component_name="ReviewOutcome")
class ReviewOutcomeSerializer(serializers.Serializer):
    candidate_id = serializers.IntegerField()
    status = serializers.CharField()
    merge_id = serializers.IntegerField(allow_null=True)
    changed = serializers.BooleanField()


class MatchCandidateAcceptApi(APIView):
    """POST /api/matches/<id>/accept — merge the pair (once, however often it is sent)."""

    permission_classes = [CanReviewMerges]

    @extend_schema(request=None, responses={200: ReviewOutcomeSerializer})
    def post(self, request: Request, candidate_id: int) -> Response:
        outcome = match_candidate_accept(candidate_id=candidate_id, actor=actor_from(request))
        return Response(ReviewOutcomeSerializer(outcome).data)


class MatchCandidateRejectApi(APIView):
    """POST /api/matches/<id>/reject — keep the pair apart for good."""

    permission_classes = [CanReviewMerges]

    @extend_schema(request=None, responses={200: ReviewOutcomeSerializer})
    def post(self, request: Request, candidate_id: int) -> Response:
        outcome = match_candidate_reject(candidate_id=candidate_id, actor=actor_from(request))
        return Response(ReviewOutcomeSerializer(outcome).data)


@extend_schema_serializer(component_name="ProfileMergeRecord")
class MergeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    survivor_id = serializers.IntegerField()
    absorbed_id = serializers.IntegerField()
    reason = serializers.CharField()
    details = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor_label")
    created_at = serializers.DateTimeField()
    undone_at = serializers.DateTimeField(allow_null=True)
    undone_by = serializers.CharField(source="undone_by_label")

    def get_details(self, merge: Any) -> dict[str, Any]:
        details = dict(merge.details or {})
        return {key: details[key] for key in _MERGE_DETAIL_KEYS if key in details}


class ProfileMergesApi(APIView):
    """GET /api/profiles/<id>/merges/ — the merges this profile won or lost, newest first."""

    permission_classes = [CanReviewMerges]

    @extend_schema(responses={200: MergeSerializer(many=True)})
    def get(self, request: Request, profile_id: int) -> Response:
        merges = profile_merges_qs(profile_id=profile_id).order_by("-created_at", "-pk")
        return Response(MergeSerializer(merges[:200], many=True).data)


@extend_schema_serializer(component_name="UnmergeOutcome")
class UnmergeOutcomeSerializer(serializers.Serializer):
    merge_id = serializers.IntegerField()
    restored_id = serializers.IntegerField()
    undone = serializers.BooleanField()


class MergeUndoApi(APIView):
    """POST /api/merges/<id>/unmerge — undo a merge exactly; the pair is kept apart after."""

    permission_classes = [CanReviewMerges]

    @extend_schema(request=None, responses={200: UnmergeOutcomeSerializer})
    def post(self, request: Request, merge_id: int) -> Response:
        outcome = merge_undo(merge_id=merge_id, actor=actor_from(request))
        return Response(UnmergeOutcomeSerializer(outcome).data)


@extend_schema_serializer(component_name="ResolutionRun")
class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    mode = serializers.CharField()
    state = serializers.CharField()
    stage = serializers.CharField()
    percent = serializers.IntegerField()
    progress_done = serializers.IntegerField()
    progress_total = serializers.IntegerField()
    counts = serializers.DictField()
    blocking_stats = serializers.ListField(child=serializers.DictField())
    timings = serializers.DictField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ResolutionRunListCreateApi(APIView):
    """GET /api/resolution-runs/ (latest first); POST to start one (mode full|incremental)."""

    permission_classes = [CanReviewMerges]

    @extend_schema_serializer(component_name="ResolutionRunStart")
    class InputSerializer(serializers.Serializer):
        mode = serializers.CharField(
            default=ResolutionRun.Mode.INCREMENTAL, help_text="full or incremental"
        )
        auto_merge = serializers.FloatField(required=False, min_value=0, max_value=1)
        review = serializers.FloatField(required=False, min_value=0, max_value=1)
        blocking_rules = serializers.ListField(child=serializers.CharField(), required=False)

    @extend_schema(responses={200: RunSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(RunSerializer(resolution_runs_qs()[:50], many=True).data)

    @extend_schema(request=InputSerializer, responses={202: RunSerializer})
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["mode"] not in (ResolutionRun.Mode.FULL, ResolutionRun.Mode.INCREMENTAL):
            raise InvalidInputError("mode must be full or incremental.")
        thresholds = {key: data[key] for key in ("auto_merge", "review") if key in data}
        settings = run_settings_build(
            thresholds=thresholds or None, blocking_rules=data.get("blocking_rules")
        )
        run = resolution_run_request(
            mode=data["mode"], actor=actor_from(request), settings=settings
        )
        run.refresh_from_db()
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ResolutionRunDetailApi(APIView):
    """GET /api/resolution-runs/<id>/ — state and progress (poll this)."""

    permission_classes = [CanReviewMerges]

    @extend_schema(responses={200: RunSerializer})
    def get(self, request: Request, run_id: int) -> Response:
        run = resolution_runs_qs().filter(pk=run_id).first()
        if run is None:
            raise NotFoundError(f"No resolution run with id {run_id}.")
        return Response(RunSerializer(run).data)


@extend_schema_serializer(component_name="TrackingPlan")
class PlanSerializer(serializers.Serializer):
    source_id = serializers.IntegerField()
    events = serializers.DictField()
    traits_schema = serializers.DictField()
    mode = serializers.CharField()
    allow_unplanned_events = serializers.BooleanField()
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField(read_only=True)


class TrackingPlanApi(APIView):
    """GET / PUT / DELETE /api/sources/<id>/tracking-plan — a source's tracking plan."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema_serializer(component_name="TrackingPlanInput")
    class InputSerializer(serializers.Serializer):
        events = serializers.DictField(required=False, default=dict)
        traits_schema = serializers.DictField(required=False, default=dict)
        mode = serializers.CharField(
            default=TrackingPlan.Mode.QUARANTINE, help_text="quarantine or block"
        )
        allow_unplanned_events = serializers.BooleanField(default=True)
        is_active = serializers.BooleanField(default=True)

    @extend_schema(responses={200: PlanSerializer})
    def get(self, request: Request, source_id: int) -> Response:
        plan = tracking_plan_get(source_id=source_id)
        if plan is None:
            raise NotFoundError(f"Source {source_id} has no tracking plan.")
        return Response(PlanSerializer(plan).data)

    @extend_schema(request=InputSerializer, responses={200: PlanSerializer})
    def put(self, request: Request, source_id: int) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        plan = tracking_plan_set(
            source_id=source_id, actor=actor_from(request), **payload.validated_data
        )
        return Response(PlanSerializer(plan).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, source_id: int) -> Response:
        tracking_plan_delete(source_id=source_id, actor=actor_from(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_serializer(component_name="TrackingViolation")
class ViolationSerializer(serializers.Serializer):
    source_id = serializers.IntegerField()
    event = serializers.CharField()
    property = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    last_message_id = serializers.CharField()


class TrackingViolationListApi(APIView):
    """GET /api/tracking-violations/?source=<id> — the inbox, most recent first."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("source", int, required=False)],
        responses={200: ViolationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        source = request.query_params.get("source")
        if source is not None and not source.isdigit():
            raise InvalidInputError("source must be a source id.")
        rows = tracking_violations_qs(source_id=int(source) if source else None)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(ViolationSerializer(page, many=True).data)


@extend_schema_serializer(component_name="QualityReport")
class QualitySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    source_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    records = serializers.IntegerField()
    fields = serializers.ListField(child=serializers.DictField())
    issues = serializers.DictField()
    duplicates = serializers.DictField()


class QualityReportApi(APIView):
    """GET /api/sources/<id>/quality — latest report; POST computes a new one."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema(responses={200: QualitySerializer})
    def get(self, request: Request, source_id: int) -> Response:
        report = quality_report_latest(source_id=source_id)
        if report is None:
            raise NotFoundError(f"No quality report for source {source_id} yet.")
        return Response(QualitySerializer(report).data)

    @extend_schema(request=None, responses={201: QualitySerializer})
    def post(self, request: Request, source_id: int) -> Response:
        report = quality_report_compute(source_id=source_id, actor=actor_from(request))
        return Response(QualitySerializer(report).data, status=status.HTTP_201_CREATED)
