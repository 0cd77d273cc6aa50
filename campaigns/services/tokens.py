"""Campaigns services: signed tokens and absolute URLs of the public unsubscribe and preference
pages (no login: the signature is the authentication)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from cdp.core.errors import DomainError

_SALT = "campaigns.preferences"


def _signer() -> signing.Signer:
    return _signer_for(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))


@functools.lru_cache(maxsize=4)
def _signer_for(secret: str, fallbacks: tuple[str, ...]) -> signing.Signer:
    """One signer per key: a dispatcher signs a token per message, and building a Signer
    costs as much as signing."""
    return signing.Signer(key=secret, fallback_keys=list(fallbacks), salt=_SALT)


class InvalidTokenError(DomainError):
    code = "invalid_token"
    status_code = 404


@dataclass(frozen=True, kw_only=True)
class RecipientToken:
    """Who a link belongs to and which send carried it."""

    profile_id: int
    campaign_id: int
    delivery_id: str


def token_make(*, profile_id: int, campaign_id: int, delivery_id: str) -> str:
    """A signed, URL-safe token for one recipient of one send (HMAC-SHA-256 of the ids under
    SECRET_KEY; no expiry: links in old emails must keep working, RFC 8058)."""
    return _signer().sign(f"{profile_id}.{campaign_id}.{delivery_id}")


def token_read(token: str) -> RecipientToken:
    """Decode a token. Raises InvalidTokenError when it is forged or malformed."""
    try:
        profile_id, campaign_id, delivery_id = _signer().unsign(token).split(".", 2)
        return RecipientToken(
            profile_id=int(profile_id), campaign_id=int(campaign_id), delivery_id=delivery_id
        )
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidTokenError("This link is not valid.") from exc


_PLACEHOLDER = "TOKEN"


@functools.cache
def _url_around(name: str, base: str) -> tuple[str, str]:
    """The absolute URL of `name` split around its token (reversed once per process: a
    dispatcher builds two links per message)."""
    path = reverse(name, kwargs={"token": _PLACEHOLDER})
    before, after = path.split(_PLACEHOLDER)
    return base.rstrip("/") + before, after


def unsubscribe_url(token: str) -> str:
    """Absolute one-click unsubscribe URL (List-Unsubscribe target)."""
    before, after = _url_around("campaigns-public:unsubscribe", settings.CDP_PUBLIC_URL)
    return before + token + after


def preferences_url(token: str) -> str:
    """Absolute URL of the preference page."""
    before, after = _url_around("campaigns-public:preferences", settings.CDP_PUBLIC_URL)
    return before + token + after
