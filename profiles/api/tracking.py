"""Profiles API: the Segment-compatible tracking endpoints (/v1/*), their parser and auth.

Request-level faults (bad JSON, body over 500 KB, over 2,500 messages, missing/unknown/revoked
write key) answer 4xx and store nothing. Message-level faults answer 200 with a per-message
error list; the bad messages are quarantined, the good ones stored (Segment clients drop a
whole batch on any 4xx).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

import orjson

from profiles.models import Source
from profiles.selectors import write_key_authenticate
from profiles.services.ingest import IngestOptions, IngestResult, events_ingest


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is over the limit."
    default_code = "payload_too_large"


class SizeLimitedJSONParser(BaseParser):
    """JSON body of at most CDP_INGEST_MAX_BATCH_BYTES (after gzip/deflate decoding)."""

    media_type = "*/*"  # Segment SDKs send application/json; some proxies change it

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        limit = settings.CDP_INGEST_MAX_BATCH_BYTES
        request = (parser_context or {}).get("request")
        encoding = (request.META.get("HTTP_CONTENT_ENCODING", "") if request else "").lower()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:  # compressed or not, a body this big is over the limit
            raise PayloadTooLarge(f"The body is over the limit of {limit} bytes.")
        body = _decode(raw, encoding, limit)
        if len(body) > limit:
            raise PayloadTooLarge(f"The body is {len(body)} bytes; the limit is {limit} bytes.")
        if not body.strip():
            raise exceptions.ParseError("The body is empty; send a JSON object.")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from exc


def _decode(raw: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise exceptions.UnsupportedMediaType(
            encoding, detail=f"Content-Encoding {encoding!r} is not supported; use gzip."
        )
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    try:
        body = decompressor.decompress(raw, limit + 1)  # never inflate past the limit (bombs)
    except zlib.error as exc:
        raise exceptions.ParseError(f"The body is not valid {encoding}: {exc}") from exc
    if len(body) > limit or decompressor.unconsumed_tail:
        raise PayloadTooLarge(f"The decompressed body is over the limit of {limit} bytes.")
    return body


class WriteKeyBasicAuthentication(BaseAuthentication):
    """The source's write key as the HTTP Basic user (password empty), as Segment SDKs send it.

    Never read from the query string. Sets request.auth to the Source.
    """

    def authenticate(self, request: Request) -> tuple[Any, Source] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            raise exceptions.NotAuthenticated(
                "Send the write key as the HTTP Basic user (Authorization: Basic base64(key:))."
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Basic authorization header.")
        try:
            user_pass = base64.b64decode(header[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise exceptions.AuthenticationFailed("Malformed Basic authorization header.") from exc
        key = user_pass.partition(":")[0]
        source = write_key_authenticate(key) if key else None
        if source is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked write key.")
        return (_SourceUser(source), source)

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="cdp"'


class _SourceUser:
    """The request.user of a write-key request: authenticated as a source, not a person."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, source: Source) -> None:
        self.source = source

    def get_username(self) -> str:
        return f"source:{self.source.name}"


class IsWriteKeySource(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Source)


class _NoThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        return True


class MessageErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    messageId = serializers.CharField(allow_blank=True)  # noqa: N815 (Segment's casing)
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)


class IngestResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    received = serializers.IntegerField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    errors = MessageErrorSerializer(many=True)


class SegmentMessageSerializer(serializers.Serializer):
    """A Segment-spec message (documentation; validation is in profiles.compute.messages)."""

    type = serializers.ChoiceField(
        choices=["identify", "track", "page", "screen", "group", "alias"], required=False
    )
    userId = serializers.CharField(required=False)  # noqa: N815
    anonymousId = serializers.CharField(required=False)  # noqa: N815
    messageId = serializers.CharField(required=False)  # noqa: N815
    timestamp = serializers.DateTimeField(required=False)
    event = serializers.CharField(required=False, help_text="track: the event name")
    name = serializers.CharField(required=False, help_text="page/screen: the page name")
    properties = serializers.DictField(required=False)
    traits = serializers.DictField(required=False)
    context = serializers.DictField(required=False)
    integrations = serializers.DictField(required=False)
    groupId = serializers.CharField(required=False)  # noqa: N815
    previousId = serializers.CharField(required=False)  # noqa: N815


class BatchEnvelopeSerializer(serializers.Serializer):
    """Documentation of the batch envelope; the view checks it by hand for speed."""

    batch = SegmentMessageSerializer(many=True)
    context = serializers.DictField(required=False)
    integrations = serializers.DictField(required=False)
    sentAt = serializers.DateTimeField(required=False)  # noqa: N815


def _result_body(result: IngestResult) -> dict[str, Any]:
    return {
        "success": True,
        "received": result.received,
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "suppressed": result.suppressed,
        "errors": [error.as_dict() for error in result.errors],
    }


def _object_or_none(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise exceptions.ParseError(f"{name} must be a JSON object.")
    return value


class _TrackingApi(APIView):
    authentication_classes = [WriteKeyBasicAuthentication]
    permission_classes = [IsWriteKeySource]
    parser_classes = [SizeLimitedJSONParser]
    throttle_classes = [_NoThrottle]
    type_hint: str | None = None

    def handle_exception(self, exc: Exception) -> Response:
        """Errors also carry Segment's top-level `code`/`message`, which its SDKs log."""
        response = super().handle_exception(exc)
        error = response.data.get("error") if isinstance(response.data, dict) else None
        if isinstance(error, dict):
            response.data = {
                "success": False,
                "code": error.get("code"),
                "message": error.get("message"),
                **response.data,
            }
        return response

    def _ingest(self, request: Request, messages: list[Any], body: dict[str, Any]) -> Response:
        source: Source = request.auth
        sent_at = body.get("sentAt") if isinstance(body.get("sentAt"), str) else None
        batch_context = _object_or_none(body, "context") if self.type_hint is None else None
        if request.META.get("HTTP_SEC_GPC", "").strip() == "1":
            # Global Privacy Control: processing records it as an opt-out of sale/sharing.
            batch_context = {**(batch_context or {}), "gpc": True}
        options = IngestOptions(
            type_hint=self.type_hint,
            batch_context=batch_context,
            batch_integrations=(
                _object_or_none(body, "integrations") if self.type_hint is None else None
            ),
            sent_at=sent_at,
            default_region=source.default_phone_region or None,
        )
        result = events_ingest(
            source_id=source.pk,
            messages=messages,
            options=options,
            plan_stamp=source.tracking_plan_stamp,
        )
        return Response(_result_body(result), status=status.HTTP_200_OK)


class BatchApi(_TrackingApi):
    """POST /v1/batch — up to 2,500 messages of any type (Segment HTTP Tracking API)."""

    @extend_schema(
        request=BatchEnvelopeSerializer,
        responses={200: IngestResultSerializer},
        auth=[{"writeKeyBasic": []}],
        examples=[
            OpenApiExample(
                "batch",
                request_only=True,
                value={
                    "batch": [
                        {
                            "type": "identify",
                            "userId": "u1",
                            "traits": {"email": "ada@example.com"},
                        },
                        {
                            "type": "track",
                            "userId": "u1",
                            "event": "Order Completed",
                            "properties": {"order_id": "o1", "total": 42.5, "currency": "EUR"},
                        },
                    ]
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
            raise exceptions.ParseError('The body must be an object with a "batch" array.')
        messages = body["batch"]
        limit = settings.CDP_INGEST_MAX_BATCH_MESSAGES
        if len(messages) > limit:
            raise PayloadTooLarge(
                f"A batch may hold at most {limit} messages, got {len(messages)}."
            )
        return self._ingest(request, messages, body)


def _single(kind: str) -> type[_TrackingApi]:
    class SingleMessageApi(_TrackingApi):
        type_hint = kind

        @extend_schema(
            request=SegmentMessageSerializer,
            responses={200: IngestResultSerializer},
            operation_id=f"v1_{kind}",
            auth=[{"writeKeyBasic": []}],
        )
        def post(self, request: Request) -> Response:
            body = request.data
            if not isinstance(body, dict):
                raise exceptions.ParseError("The body must be a JSON object.")
            return self._ingest(request, [body], {})

    SingleMessageApi.__name__ = f"{kind.capitalize()}Api"
    SingleMessageApi.__qualname__ = SingleMessageApi.__name__
    SingleMessageApi.__doc__ = f"POST /v1/{kind} — one {kind} message (Segment HTTP Tracking API)."
    return SingleMessageApi


IdentifyApi = _single("identify")
TrackApi = _single("track")
PageApi = _single("page")
ScreenApi = _single("screen")
GroupApi = _single("group")
AliasApi = _single("alias")
