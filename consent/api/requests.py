"""Consent API: data-subject requests — receive, list by urgency, verify (code or manual),
extend, reject, execute, follow progress, download the archive and the report."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse, JsonResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdp.core.actor import actor_from
from cdp.core.audit import audit_record
from cdp.core.errors import NotFoundError
from cdp.core.roles import IsIntegrationAdmin, IsPrivacyOfficer
from consent.compute.deadlines import urgency
from consent.models import DataSubjectRequest
from consent.selectors import dsr_get, dsr_queue, dsr_report_document
from consent.services.archive import archive_link_request
from consent.services.requests import (
    dsr_create,
    dsr_execute,
    dsr_extend,
    dsr_reject,
    dsr_verify_manually,
)
from consent.services.verification import dsr_verification_confirm, dsr_verification_send

from .ledger import IdentifierSerializer


def _request_or_404(request_id: int) -> DataSubjectRequest:
    found = dsr_get(request_id=request_id)
    if found is None:
        raise NotFoundError(f"No data-subject request with id {request_id}.")
    return found


def request_body(request: DataSubjectRequest, *, full: bool) -> dict[str, Any]:
    """A request as JSON; `full` adds identifiers, message, corrections and history."""
    left = urgency(due=request.due_at, now=timezone.now()) if request.is_open else None
    body: dict[str, Any] = {
        "id": request.pk,
        "kind": request.kind,
        "regime": request.regime,
        "state": request.state,
        "received_at": request.received_at,
        "due_at": request.due_at,
        "days_left": left.days_left if left else None,
        "overdue": bool(left and left.is_overdue),
        "extended": request.extended_at is not None,
        "verified_at": request.verified_at,
        "job_state": request.job_state,
        "percent": request.percent,
        "has_archive": bool(request.archive),
    }
    if full:
        body |= {
            "identifiers": [{"type": kind, "value": value} for kind, value in request.identifiers],
            "message": request.message,
            "corrections": request.corrections,
            "report": request.report,
            "job_error": request.job_error,
            "steps": [
                {"at": step.at, "by": step.actor_label, "action": step.action, "note": step.note}
                for step in request.steps.all()
            ],
        }
    return body


@extend_schema_serializer(component_name="DataSubjectRequest")
class RequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    regime = serializers.CharField()
    state = serializers.CharField()
    received_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    days_left = serializers.IntegerField(allow_null=True)
    overdue = serializers.BooleanField()
    extended = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    job_state = serializers.CharField()
    percent = serializers.IntegerField()
    has_archive = serializers.BooleanField()


@extend_schema_serializer(component_name="DataSubjectRequestDetail")
class RequestDetailSerializer(RequestSerializer):
    identifiers = IdentifierSerializer(many=True)
    message = serializers.CharField()
    corrections = serializers.DictField()
    report = serializers.DictField()
    job_error = serializers.CharField()
    steps = serializers.ListField(child=serializers.DictField())


class DsrListCreateApi(APIView):
    """GET /api/consent/requests/ — the queue by urgency (privacy officers);
    POST — receive a request (privacy officers, or an integration's web form)."""

    @extend_schema_serializer(component_name="DataSubjectRequestInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=DataSubjectRequest.Kind.choices)
        regime = serializers.ChoiceField(
            choices=DataSubjectRequest.Regime.choices, default=DataSubjectRequest.Regime.GDPR
        )
        identifiers = IdentifierSerializer(many=True)
        message = serializers.CharField(required=False, allow_blank=True, default="")
        corrections = serializers.DictField(required=False, default=dict)

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [(IsPrivacyOfficer | IsIntegrationAdmin)()]
        return [IsPrivacyOfficer()]

    @extend_schema(responses={200: RequestSerializer(many=True)})
    def get(self, request: Request) -> Response:
        states = request.query_params.getlist("state")
        rows = dsr_queue(now=timezone.now(), states=states or None)
        return Response([request_body(row.request, full=False) for row in rows])

    @extend_schema(request=InputSerializer, responses={201: RequestSerializer})
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        created = dsr_create(
            kind=data["kind"],
            regime=data["regime"],
            identifiers=[(item["type"], item["value"]) for item in data["identifiers"]],
            message=data["message"],
            corrections=data["corrections"],
            received_via=DataSubjectRequest.Channel.API,
            actor=actor_from(request),
        )
        return Response(request_body(created, full=False), status=status.HTTP_201_CREATED)


class DsrDetailApi(APIView):
    """GET /api/consent/requests/<id>/ — everything about one request. Audited (PII)."""

    permission_classes = [IsPrivacyOfficer]

    @extend_schema(responses={200: RequestDetailSerializer})
    def get(self, request: Request, request_id: int) -> Response:
        found = _request_or_404(request_id)
        audit_record(actor=actor_from(request), action="consent.dsr.view", target=found)
        return Response(request_body(found, full=True))


@extend_schema_serializer(component_name="DsrNoteInput")
class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


@extend_schema_serializer(component_name="DsrCodeInput")
class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class _ActionApi(APIView):
    """One officer action on a request; answers the request as it now is."""

    permission_classes = [IsPrivacyOfficer]
    input_serializer: type[serializers.Serializer] | None = None

    def act(self, request_id: int, data: dict[str, Any], request: Request) -> None:
        raise NotImplementedError

    def post(self, request: Request, request_id: int) -> Response:
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            payload = self.input_serializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = dict(payload.validated_data)
        self.act(request_id, data, request)
        return Response(request_body(_request_or_404(request_id), full=False))


def _action(
    name: str,
    doc: str,
    serializer: type[serializers.Serializer] | None,
    call: Any,
    permissions: list[Any] | None = None,
) -> type[_ActionApi]:
    class Api(_ActionApi):
        input_serializer = serializer
        permission_classes = permissions or [IsPrivacyOfficer]

        def act(self, request_id: int, data: dict[str, Any], request: Request) -> None:
            call(request_id=request_id, actor=actor_from(request), **data)

        @extend_schema(request=serializer, responses={200: RequestSerializer}, operation_id=name)
        def post(self, request: Request, request_id: int) -> Response:
            return super().post(request, request_id)

    Api.__name__ = Api.__qualname__ = "".join(part.title() for part in name.split("_")) + "Api"
    Api.__doc__ = doc
    return Api


def _send(*, request_id: int, actor: Any) -> None:
    dsr_verification_send(request_id=request_id, actor=actor)


def _confirm(*, request_id: int, actor: Any, code: str) -> None:
    dsr_verification_confirm(request_id=request_id, code=code, actor=actor)


def _manual(*, request_id: int, actor: Any, note: str) -> None:
    dsr_verify_manually(request_id=request_id, note=note, actor=actor)


def _extend(*, request_id: int, actor: Any, note: str) -> None:
    dsr_extend(request_id=request_id, reason=note, actor=actor)


def _reject(*, request_id: int, actor: Any, note: str) -> None:
    dsr_reject(request_id=request_id, reason=note, actor=actor)


def _execute(*, request_id: int, actor: Any) -> None:
    dsr_execute(request_id=request_id, actor=actor)


DsrCodeSendApi = _action(
    "dsr_code_send", "POST …/verification/send — email a one-time code.", None, _send
)
DsrCodeConfirmApi = _action(
    "dsr_code_confirm",
    "POST …/verification/confirm {code} — the person's code verifies the request.",
    CodeSerializer,
    _confirm,
    [IsPrivacyOfficer | IsIntegrationAdmin],
)
DsrVerifyManuallyApi = _action(
    "dsr_verify_manually",
    "POST …/verify {note} — record a manual verification.",
    NoteSerializer,
    _manual,
)
DsrExtendApi = _action(
    "dsr_extend",
    "POST …/extend {note} — extend the deadline with a reason.",
    NoteSerializer,
    _extend,
)
DsrRejectApi = _action(
    "dsr_reject",
    "POST …/reject {note} — close without acting, with the reason.",
    NoteSerializer,
    _reject,
)
DsrExecuteApi = _action(
    "dsr_execute",
    "POST …/execute — run the request as a job (progress on the row).",
    None,
    _execute,
)


class DsrArchiveApi(APIView):
    """GET /api/consent/requests/<id>/archive — the access/portability zip. Audited."""

    permission_classes = [IsPrivacyOfficer]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request, request_id: int) -> HttpResponse:
        found = _request_or_404(request_id)
        if not found.archive:
            raise NotFoundError("This request has no archive (not built yet, or expired).")
        audit_record(actor=actor_from(request), action="consent.dsr.archive_download", target=found)
        return FileResponse(
            found.archive.open("rb"), as_attachment=True, filename=f"privacy-request-{found.pk}.zip"
        )


class DsrReportApi(APIView):
    """GET /api/consent/requests/<id>/report — what was done, as JSON (identifies no one)."""

    permission_classes = [IsPrivacyOfficer]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, request_id: int) -> HttpResponse:
        found = _request_or_404(request_id)
        audit_record(actor=actor_from(request), action="consent.dsr.report_download", target=found)
        response = JsonResponse(dsr_report_document(found), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = (
            f'attachment; filename="privacy-request-{found.pk}-report.json"'
        )
        return response


class DsrArchiveLinkApi(APIView):
    """GET /api/consent/archive/<token> — the person's own short-lived download link."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY}, auth=[])
    def get(self, request: Request, token: str) -> HttpResponse:
        found = archive_link_request(token=token)
        if found is None:
            raise NotFoundError("This link is invalid or has expired.")
        audit_record(
            actor=actor_from(request), action="consent.dsr.archive_link_download", target=found
        )
        return FileResponse(
            found.archive.open("rb"), as_attachment=True, filename=f"privacy-request-{found.pk}.zip"
        )
