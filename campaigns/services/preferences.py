"""Campaigns services: the recipient's side — one-click unsubscribe (RFC 8058) and the
preference page, both writing to the consent ledger with evidence."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from campaigns.models import Campaign
from campaigns.selectors.people import profiles_exist
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from consent import public as consent_public

from .tokens import InvalidTokenError, RecipientToken, token_read

RECIPIENT = Actor(user_id=None, label="recipient")


@dataclass(frozen=True, kw_only=True)
class PurposeChoice:
    key: str
    label: str
    is_granted: bool


def _recipient(token: str) -> RecipientToken:
    recipient = token_read(token)
    if not profiles_exist([recipient.profile_id]):
        raise InvalidTokenError("This link is no longer valid.")
    return recipient


def _purpose_of(campaign_id: int) -> str:
    purpose = Campaign.objects.filter(pk=campaign_id).values_list("purpose_key", flat=True).first()
    return purpose or "email_marketing"


def _evidence(
    recipient: RecipientToken, method: str, request_meta: dict[str, str]
) -> dict[str, Any]:
    return {
        "method": method,
        "campaign_id": recipient.campaign_id,
        "delivery_id": recipient.delivery_id,
        "ip": request_meta.get("ip", ""),
        "user_agent": request_meta.get("user_agent", "")[:300],
    }


@transaction.atomic
def unsubscribe_apply(*, token: str, method: str, request_meta: dict[str, str]) -> str:
    """Withdraw the purpose of the campaign that sent the link (source "unsubscribe").

    Idempotent: unsubscribing twice records one withdrawal. Returns the purpose key.
    Raises InvalidTokenError for a forged token or an erased person.
    """
    recipient = _recipient(token)
    purpose = _purpose_of(recipient.campaign_id)
    entries = consent_public.consent_record(
        profile_id=recipient.profile_id,
        choices=[consent_public.ConsentChoice(purpose_key=purpose, is_granted=False)],
        source="unsubscribe",
        evidence=_evidence(recipient, method, request_meta),
    )
    audit_record(
        actor=RECIPIENT,
        action="campaigns.recipient.unsubscribe",
        target_type="campaigns.campaign",
        target_id=recipient.campaign_id,
        details={"purpose": purpose, "method": method, "recorded": len(entries)},
    )
    return purpose


def preferences_get(*, token: str) -> list[PurposeChoice]:
    """The purposes a recipient manages, each with whether it is allowed now."""
    recipient = _recipient(token)
    return [
        PurposeChoice(
            key=key,
            label=settings.CDP_CAMPAIGN_PURPOSES.get(key, key),
            is_granted=consent_public.consent_allows(
                profile_id=recipient.profile_id, purpose_key=key
            ),
        )
        for key in settings.CDP_PREFERENCE_PURPOSES
    ]


@transaction.atomic
def preferences_save(*, token: str, granted: Collection[str], request_meta: dict[str, str]) -> int:
    """Record each purpose the recipient changed on the page (source "preferences"); a
    purpose left as it was records nothing. Returns the number of ledger entries written."""
    recipient = _recipient(token)
    choices = [
        consent_public.ConsentChoice(purpose_key=choice.key, is_granted=choice.key in granted)
        for choice in preferences_get(token=token)
        if choice.is_granted != (choice.key in granted)
    ]
    try:
        entries = consent_public.consent_record(
            profile_id=recipient.profile_id,
            choices=choices,
            source="preferences",
            evidence=_evidence(recipient, "preference_page", request_meta),
        )
    except ObjectDoesNotExist as exc:  # a purpose named in settings is missing
        raise InvalidTokenError("These preferences cannot be saved right now.") from exc
    audit_record(
        actor=RECIPIENT,
        action="campaigns.recipient.preferences",
        target_type="campaigns.campaign",
        target_id=recipient.campaign_id,
        details={"recorded": len(entries)},
    )
    return len(entries)
