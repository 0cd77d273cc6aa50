"""Profiles API: profiles, timelines, sources and keys, imports, quarantine (/api/...)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdp.core.actor import actor_from
from cdp.core.api import PageNumberPagination
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from cdp.core.roles import (
    HANDLE_PRIVACY,
    MANAGE_SEGMENTS,
    MANAGE_SOURCES,
    VIEW_PII,
    IsIntegrationAdmin,
    has_capability,
)
from profiles.compute.normalise import NormalisationError, normalise_email, normalise_phone
from profiles.models import Event, ImportRun, Profile, QuarantinedRecord, Source
from profiles.selectors import (
    mask_trait,
    profile_detail,
    profile_list_by_identifier,
    profile_timeline_qs,
    profiles_active_qs,
)
from profiles.services.imports import import_create, parse_mapping
from profiles.services.quarantine import quarantine_replay
from profiles.services.sources import source_create, write_key_revoke, write_key_rotate

LOOKUP_PARAMETERS = ("email", "user_id", "phone", "anonymous_id", "loyalty_id", "crm_id")


class HasCdpRole(BasePermission):
    """Any CDP role may read profiles; what they see is masked by their capabilities."""

    message = "You need a CDP role (Marketer, Privacy officer or Integration admin)."

    def has_permission(self, request: Request, view: Any) -> bool:
        return any(
            has_capability(request.user, capability)
            for capability in (MANAGE_SEGMENTS, HANDLE_PRIVACY, MANAGE_SOURCES)
        )


def _lookup_value(kind: str, raw: str) -> str:
    try:
        if kind == "email":
            return normalise_email(raw) or ""
        if kind == "phone":
            return normalise_phone(raw, default_region=settings.CDP_DEFAULT_PHONE_REGION) or ""
    except NormalisationError as exc:
        raise InvalidInputError(f"{kind}: {exc}", details={"field": kind}) from exc
    return raw.strip()


class ProfileSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    traits = serializers.SerializerMethodField()

    def get_traits(self, profile: Profile) -> dict[str, Any]:
        if self.context.get("can_view_pii"):
            return profile.traits
        return {name: mask_trait(name, value) for name, value in profile.traits.items()}


class ProfileListApi(APIView):
    """GET /api/profiles/?email=… (or user_id, phone, anonymous_id, loyalty_id, crm_id)."""

    permission_classes = [HasCdpRole]

    @extend_schema(
        parameters=[OpenApiParameter(name, str, required=False) for name in LOOKUP_PARAMETERS],
        responses={200: ProfileSummarySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        can_view_pii = has_capability(request.user, VIEW_PII)
        given = [
            (name, request.query_params[name])
            for name in LOOKUP_PARAMETERS
            if request.query_params.get(name)
        ]
        if len(given) > 1:
            raise InvalidInputError("Look up by one identifier at a time.")
        if given:
            kind, raw = given[0]
            profiles = profile_list_by_identifier(kind=kind, value=_lookup_value(kind, raw))
            audit_record(
                actor=actor_from(request),
                action="profiles.profile.lookup",
                target_type="profiles.identifier",
                details={"type": kind},
            )
        else:
            profiles = profiles_active_qs().order_by("-pk")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(profiles, request, view=self)
        data = ProfileSummarySerializer(
            page, many=True, context={"can_view_pii": can_view_pii}
        ).data
        return paginator.get_paginated_response(data)


class ProfileDetailApi(APIView):
    """GET /api/profiles/<id>/ — identifiers, golden traits with provenance. Audited."""

    permission_classes = [HasCdpRole]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        merged_into = serializers.IntegerField(allow_null=True)
        masked = serializers.BooleanField()
        identifiers = serializers.ListField(child=serializers.DictField())
        traits = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, profile_id: int) -> Response:
        detail = profile_detail(
            profile_id=profile_id, can_view_pii=has_capability(request.user, VIEW_PII)
        )
        if detail is None:
            raise NotFoundError(f"No profile with id {profile_id}.")
        audit_record(
            actor=actor_from(request),
            action="profiles.profile.view",
            target=detail.profile,
            details={"masked": detail.is_masked},
        )
        body = {
            "id": detail.profile.pk,
            "merged_into": detail.merged_into_id,
            "masked": detail.is_masked,
            "created_at": detail.profile.created_at,
            "last_seen_at": detail.profile.last_seen_at,
            "identifiers": [
                {"type": kind, "value": value, "source": source}
                for kind, value, source in detail.identifiers
            ],
            "traits": [
                {
                    "name": trait.name,
                    "value": trait.value,
                    "provenance": {
                        "source": trait.source,
                        "observed_at": trait.observed_at,
                        "record": trait.record_ref,
                        "event_id": trait.event_id,
                        "rule": trait.rule,
                    },
                }
                for trait in detail.traits
            ],
        }
        return Response(body)


class TimelinePagination(CursorPagination):
    ordering = ("-timestamp", "-id")
    page_size = 50


class EventSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name")
    properties = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "event",
            "timestamp",
            "received_at",
            "message_id",
            "source",
            "properties",
            "status",
        ]

    def get_properties(self, event: Event) -> dict[str, Any]:
        return event.payload.get("properties") or {}


class ProfileTimelineApi(APIView):
    """GET /api/profiles/<id>/events/ — the profile's events, newest first, cursor-paginated."""

    permission_classes = [HasCdpRole]

    @extend_schema(responses={200: EventSerializer(many=True)})
    def get(self, request: Request, profile_id: int) -> Response:
        if not Profile.objects.filter(pk=profile_id).exists():
            raise NotFoundError(f"No profile with id {profile_id}.")
        paginator = TimelinePagination()
        page = paginator.paginate_queryset(
            profile_timeline_qs(profile_id=profile_id), request, view=self
        )
        audit_record(
            actor=actor_from(request),
            action="profiles.profile.timeline",
            target_type="profiles.profile",
            target_id=profile_id,
        )
        return paginator.get_paginated_response(EventSerializer(page, many=True).data)


class SourceSerializer(serializers.ModelSerializer):
    active_keys = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = [
            "id",
            "name",
            "kind",
            "trust",
            "default_phone_region",
            "is_active",
            "created_at",
            "active_keys",
        ]

    def get_active_keys(self, source: Source) -> list[str]:
        return [f"{key.prefix}…" for key in source.write_keys.all() if key.revoked_at is None]


class SourceListCreateApi(APIView):
    """GET/POST /api/sources/ — the write key is in the POST answer, and only there."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema_serializer(component_name="SourceCreateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        kind = serializers.ChoiceField(choices=Source.Kind.choices, default=Source.Kind.HTTP)
        trust = serializers.IntegerField(min_value=0, max_value=100, default=50)
        default_phone_region = serializers.CharField(
            max_length=2, required=False, allow_blank=True, default=""
        )

    @extend_schema(responses={200: SourceSerializer(many=True)})
    def get(self, request: Request) -> Response:
        sources = Source.objects.prefetch_related("write_keys").order_by("name")
        return Response(SourceSerializer(sources, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SourceSerializer})
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        source, issued = source_create(actor=actor_from(request), **payload.validated_data)
        body = {**SourceSerializer(source).data, "write_key": issued.plain}
        return Response(body, status=status.HTTP_201_CREATED)


class SourceRotateKeyApi(APIView):
    """POST /api/sources/<id>/rotate-key — new key (shown once); older keys revoked."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "RotatedKey",
                {
                    "source_id": serializers.IntegerField(),
                    "write_key": serializers.CharField(),
                    "prefix": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request, source_id: int) -> Response:
        keep = str(request.data.get("keep_previous", "")).lower() in ("1", "true", "yes")
        issued = write_key_rotate(
            source_id=source_id, actor=actor_from(request), revoke_previous=not keep
        )
        return Response(
            {"source_id": source_id, "write_key": issued.plain, "prefix": issued.prefix}
        )


class SourceRevokeKeyApi(APIView):
    """POST /api/sources/<id>/revoke-key {"prefix": …} — revoke one key, or all without prefix."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "RevokedKeys",
                {"source_id": serializers.IntegerField(), "revoked": serializers.IntegerField()},
            )
        },
    )
    def post(self, request: Request, source_id: int) -> Response:
        revoked = write_key_revoke(
            source_id=source_id,
            actor=actor_from(request),
            prefix=request.data.get("prefix") or None,
        )
        return Response({"source_id": source_id, "revoked": revoked})


class ImportRunSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name")
    percent = serializers.IntegerField()

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "source",
            "kind",
            "file_name",
            "state",
            "percent",
            "rows_read",
            "rows_stored",
            "rows_quarantined",
            "rows_duplicate",
            "rows_suppressed",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "mapping",
        ]


class ImportCreateApi(APIView):
    """POST /api/imports/ (multipart: source, kind, file, mapping) — progress at GET …/<id>/."""

    permission_classes = [IsIntegrationAdmin]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema_serializer(component_name="ImportCreateInput")
    class InputSerializer(serializers.Serializer):
        source = serializers.CharField()
        kind = serializers.ChoiceField(choices=ImportRun.Kind.choices)
        file = serializers.FileField()
        mapping = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={201: ImportRunSerializer})
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        source = Source.objects.filter(name=data["source"]).first()
        if source is None:
            raise NotFoundError(f"No source named {data['source']!r}.")
        run = import_create(
            source_id=source.pk,
            kind=data["kind"],
            upload=data["file"],
            mapping=parse_mapping(data["mapping"]),
            actor=actor_from(request),
        )
        run.refresh_from_db()
        return Response(ImportRunSerializer(run).data, status=status.HTTP_201_CREATED)


class ImportDetailApi(APIView):
    """GET /api/imports/<id>/ — state, progress and counts."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema(responses={200: ImportRunSerializer})
    def get(self, request: Request, import_run_id: int) -> Response:
        run = ImportRun.objects.select_related("source").filter(pk=import_run_id).first()
        if run is None:
            raise NotFoundError(f"No import with id {import_run_id}.")
        return Response(ImportRunSerializer(run).data)


class QuarantineSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuarantinedRecord
        fields = [
            "id",
            "source",
            "import_run",
            "origin",
            "position",
            "message_id",
            "reason",
            "detail",
            "payload",
            "status",
            "created_at",
        ]


class QuarantineListApi(APIView):
    """GET /api/quarantine/?status=open&reason=… — rejected records, newest first."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema(responses={200: QuarantineSerializer(many=True)})
    def get(self, request: Request) -> Response:
        records = QuarantinedRecord.objects.all()
        for name in ("status", "reason", "source", "import_run"):
            if request.query_params.get(name):
                records = records.filter(**{name: request.query_params[name]})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(records, request, view=self)
        return paginator.get_paginated_response(QuarantineSerializer(page, many=True).data)


class QuarantineReplayApi(APIView):
    """POST /api/quarantine/<id>/replay {"payload": {...fixed...}} — validate again and ingest."""

    permission_classes = [IsIntegrationAdmin]

    @extend_schema(
        request=inline_serializer(
            "QuarantineReplayInput", {"payload": serializers.DictField(required=False)}
        ),
        responses={
            200: inline_serializer(
                "QuarantineReplayResult",
                {
                    "replayed": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "reason": serializers.CharField(),
                    "detail": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request, record_id: int) -> Response:
        payload = request.data.get("payload") if isinstance(request.data, dict) else None
        if payload is not None and not isinstance(payload, dict):
            raise InvalidInputError("payload must be a JSON object.")
        if not QuarantinedRecord.objects.filter(pk=record_id).exists():
            raise NotFoundError(f"No quarantined record with id {record_id}.")
        outcome = quarantine_replay(
            record_ids=[record_id], actor=actor_from(request), payload=payload
        )
        record = QuarantinedRecord.objects.get(pk=record_id)
        return Response(
            {
                "replayed": outcome.replayed,
                "status": record.status,
                "reason": record.reason,
                "detail": record.detail,
            }
        )
