"""Consent API: purposes, a person's consent (state, history, restrictions), grant and
withdraw — withdrawing is the same single call as granting."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdp.core.actor import actor_from
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from cdp.core.roles import (
    HANDLE_PRIVACY,
    MANAGE_SEGMENTS,
    MANAGE_SOURCES,
    VIEW_PII,
    IsIntegrationAdmin,
    IsPrivacyOfficer,
    has_capability,
)
from consent.selectors import (
    consent_history_qs,
    consent_states_for,
    evidence_masked,
    purposes_active,
    restrictions_active_for,
)
from consent.services.ledger import consent_change
from consent.services.providers import profile_locate
from consent.services.requests import IDENTIFIER_TYPES


class HasCdpRole(BasePermission):
    """Any CDP role (purposes are configuration every role reads)."""

    message = "You need a CDP role (Marketer, Privacy officer or Integration admin)."

    def has_permission(self, request: Request, view: Any) -> bool:
        return any(
            has_capability(request.user, capability)
            for capability in (MANAGE_SEGMENTS, HANDLE_PRIVACY, MANAGE_SOURCES)
        )


@extend_schema_serializer(component_name="ConsentIdentifier")
class IdentifierSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=IDENTIFIER_TYPES)
    value = serializers.CharField(max_length=320)


@extend_schema_serializer(component_name="ConsentPurpose")
class PurposeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    legal_basis = serializers.CharField()
    channels = serializers.ListField(child=serializers.CharField())
    is_marketing = serializers.BooleanField()
    is_sale_or_share = serializers.BooleanField()


class PurposeListApi(APIView):
    """GET /api/consent/purposes/ — active purposes, their legal basis and channels."""

    permission_classes = [HasCdpRole]

    @extend_schema(responses={200: PurposeSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(PurposeSerializer(purposes_active(), many=True).data)


def person_id(data: dict[str, Any]) -> int:
    """The profile a request body names (`profile_id` or an `identifier`), followed through
    merges to the profile standing for the person now.
    Raises InvalidInputError when neither (or both) is given, NotFoundError when unknown."""
    if ("profile_id" in data) == ("identifier" in data):
        raise InvalidInputError("Give either profile_id or identifier.")
    if "profile_id" in data:
        kind, value = "profile_id", str(data["profile_id"])
    else:
        kind, value = data["identifier"]["type"], data["identifier"]["value"]
    found = profile_locate(identifier_type=kind, value=value)
    if found is None:
        raise NotFoundError("No such person: unknown profile id or identifier.")
    return found


class _ConsentChangeApi(APIView):
    permission_classes = [IsPrivacyOfficer | IsIntegrationAdmin]
    is_granted = True

    @extend_schema_serializer(component_name="ConsentChangeInput")
    class InputSerializer(serializers.Serializer):
        profile_id = serializers.IntegerField(required=False, min_value=1)
        identifier = IdentifierSerializer(required=False)
        purposes = serializers.ListField(child=serializers.SlugField(), min_length=1)
        source = serializers.CharField(max_length=100, default="api")
        recorded_at = serializers.DateTimeField(required=False)
        evidence = serializers.DictField(required=False, default=dict)

    @extend_schema_serializer(component_name="ConsentChangeResult")
    class OutputSerializer(serializers.Serializer):
        profile_id = serializers.IntegerField()
        recorded = serializers.ListField(child=serializers.IntegerField())
        unchanged = serializers.ListField(child=serializers.CharField())

    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        profile_id = person_id(data)
        actor = actor_from(request)
        entries = consent_change(
            profile_id=profile_id,
            purpose_keys=data["purposes"],
            is_granted=self.is_granted,
            source=data["source"],
            actor=actor,
            evidence={**data["evidence"], "recorded_by": actor.label},
            recorded_at=data.get("recorded_at"),
        )
        changed = {entry.purpose.key for entry in entries}
        body = {
            "profile_id": profile_id,
            "recorded": [entry.pk for entry in entries],
            "unchanged": [key for key in data["purposes"] if key not in changed],
        }
        return Response(self.OutputSerializer(body).data)


class ConsentGrantApi(_ConsentChangeApi):
    """POST /api/consent/grant — the person agrees to purposes (with evidence)."""

    is_granted = True

    @extend_schema(
        request=_ConsentChangeApi.InputSerializer,
        responses={200: _ConsentChangeApi.OutputSerializer},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class ConsentWithdrawApi(_ConsentChangeApi):
    """POST /api/consent/withdraw — the person withdraws purposes (same body as grant)."""

    is_granted = False

    @extend_schema(
        request=_ConsentChangeApi.InputSerializer,
        responses={200: _ConsentChangeApi.OutputSerializer},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class ConsentPersonApi(APIView):
    """GET /api/consent/people/<profile_id>/ — current state per purpose, the full ledger
    (evidence masked without PII access) and active restrictions. Audited."""

    permission_classes = [IsPrivacyOfficer | IsIntegrationAdmin]

    @extend_schema_serializer(component_name="ConsentPerson")
    class OutputSerializer(serializers.Serializer):
        profile_id = serializers.IntegerField()
        states = serializers.DictField(child=serializers.BooleanField())
        history = serializers.ListField(child=serializers.DictField())
        restrictions = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, profile_id: int) -> Response:
        can_view_pii = has_capability(request.user, VIEW_PII)
        history = list(consent_history_qs([profile_id]).order_by("recorded_at", "pk"))
        audit_record(
            actor=actor_from(request),
            action="consent.consent.view",
            target_type="profiles.profile",
            target_id=profile_id,
            details={"masked": not can_view_pii},
        )
        body = {
            "profile_id": profile_id,
            "states": consent_states_for(profile_id),
            "history": [
                {
                    "id": entry.pk,
                    "purpose": entry.purpose.key,
                    "granted": entry.is_granted,
                    "recorded_at": entry.recorded_at.isoformat(),
                    "source": entry.source,
                    "evidence": evidence_masked(entry.evidence, can_view_pii=can_view_pii),
                }
                for entry in history
            ],
            "restrictions": [
                {"id": row.pk, "kind": row.kind, "since": row.created_at.isoformat()}
                for row in restrictions_active_for(profile_id)
            ],
        }
        return Response(self.OutputSerializer(body).data)
