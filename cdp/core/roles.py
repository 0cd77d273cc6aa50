"""Core kernel: the three roles, their capabilities, and DRF permission classes for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

MARKETER = "Marketer"
PRIVACY_OFFICER = "Privacy officer"
INTEGRATION_ADMIN = "Integration admin"
ROLE_NAMES = (MARKETER, PRIVACY_OFFICER, INTEGRATION_ADMIN)

VIEW_PII = "core.view_pii"
MANAGE_SEGMENTS = "core.manage_segments"
MANAGE_CAMPAIGNS = "core.manage_campaigns"
HANDLE_PRIVACY = "core.handle_privacy"
MANAGE_SOURCES = "core.manage_sources"
REVIEW_MERGES = "core.review_merges"
VIEW_AUDIT = "core.view_audit"


@dataclass(frozen=True, kw_only=True)
class RoleSpec:
    """What a role may do: capabilities (core.*) and model permissions for admin pages."""

    name: str
    capabilities: tuple[str, ...]
    model_permissions: tuple[str, ...]


# Model permissions are "app_label.codename"; those of models that do not exist yet are skipped
# by the sync, so the table can name what later apps add.
ROLES = (
    RoleSpec(
        name=MARKETER,
        capabilities=(MANAGE_SEGMENTS, MANAGE_CAMPAIGNS),
        model_permissions=(
            "profiles.view_profile",
            "profiles.view_event",
            "profiles.view_source",
            "segments.view_segment",
            "segments.add_segment",
            "segments.change_segment",
            "segments.delete_segment",
            "segments.view_segmentmembership",
            "segments.view_computedtrait",
            "segments.add_computedtrait",
            "segments.change_computedtrait",
            "segments.view_modelrun",
            "segments.add_modelrun",
            "segments.view_clusterdefinition",
            "segments.add_clusterdefinition",
            "segments.change_clusterdefinition",
            "segments.view_predictivemodel",
            "segments.add_predictivemodel",
            "segments.change_predictivemodel",
            "segments.view_cluster",
            "segments.change_cluster",
            "segments.view_scoresegment",
            "segments.add_scoresegment",
            "segments.view_profilescore",
            "campaigns.view_campaign",
            "campaigns.add_campaign",
            "campaigns.change_campaign",
            "campaigns.delete_campaign",
            "campaigns.view_variant",
            "campaigns.add_variant",
            "campaigns.change_variant",
            "campaigns.delete_variant",
            "campaigns.view_send",
            "campaigns.view_contentblock",
            "campaigns.add_contentblock",
            "campaigns.change_contentblock",
            "campaigns.delete_contentblock",
            "campaigns.view_deadletter",
            "campaigns.view_audienceexport",
            "consent.view_purpose",
            "core.view_jobrun",
        ),
    ),
    RoleSpec(
        name=PRIVACY_OFFICER,
        capabilities=(VIEW_PII, HANDLE_PRIVACY, VIEW_AUDIT),
        model_permissions=(
            "profiles.view_profile",
            "profiles.view_event",
            "profiles.view_identifier",
            "profiles.view_source",
            "profiles.view_profilemerge",
            "consent.view_purpose",
            "consent.add_purpose",
            "consent.change_purpose",
            "consent.view_consentevent",
            "consent.add_consentevent",
            "consent.view_suppression",
            "consent.view_datasubjectrequest",
            "consent.add_datasubjectrequest",
            "consent.change_datasubjectrequest",
            "consent.view_retentionrule",
            "consent.add_retentionrule",
            "consent.change_retentionrule",
            "consent.view_processingrestriction",
            "consent.change_processingrestriction",
            "consent.view_enforcementcount",
            "core.view_auditevent",
            "campaigns.view_send",
            "segments.view_segment",
        ),
    ),
    RoleSpec(
        name=INTEGRATION_ADMIN,
        capabilities=(VIEW_PII, MANAGE_SOURCES, REVIEW_MERGES),
        model_permissions=(
            "profiles.view_source",
            "profiles.add_source",
            "profiles.change_source",
            "profiles.view_writekey",
            "profiles.view_importrun",
            "profiles.add_importrun",
            "profiles.view_quarantinedrecord",
            "profiles.change_quarantinedrecord",
            "profiles.view_profile",
            "profiles.view_event",
            "profiles.view_identifier",
            "profiles.view_profilemerge",
            "profiles.view_matchcandidate",
            "profiles.change_matchcandidate",
            "profiles.view_trackingplan",
            "profiles.add_trackingplan",
            "profiles.change_trackingplan",
            "profiles.view_trackingviolation",
            "profiles.view_survivorshiprule",
            "profiles.add_survivorshiprule",
            "profiles.change_survivorshiprule",
            "profiles.delete_survivorshiprule",
            "profiles.delete_trackingplan",
            "profiles.view_resolutionrun",
            "profiles.add_resolutionrun",
            "profiles.view_qualityreport",
            "core.view_jobrun",
            "authtoken.view_token",
            "authtoken.add_token",
        ),
    ),
)


def has_capability(user: AbstractBaseUser | AnonymousUser | None, capability: str) -> bool:
    """True when `user` is active and holds `capability` (superusers hold all)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.has_perm(capability))


def user_roles(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """The role names of `user`, in the order of ROLE_NAMES."""
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
    return [name for name in ROLE_NAMES if name in names]


class _CapabilityPermission(BasePermission):
    capability = ""
    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_capability(request.user, self.capability)


class IsMarketer(_CapabilityPermission):
    capability = MANAGE_SEGMENTS


class CanManageCampaigns(_CapabilityPermission):
    capability = MANAGE_CAMPAIGNS


class IsPrivacyOfficer(_CapabilityPermission):
    capability = HANDLE_PRIVACY


class IsIntegrationAdmin(_CapabilityPermission):
    capability = MANAGE_SOURCES


class CanReviewMerges(_CapabilityPermission):
    capability = REVIEW_MERGES


class CanViewPii(_CapabilityPermission):
    capability = VIEW_PII


class CanViewAudit(_CapabilityPermission):
    capability = VIEW_AUDIT
