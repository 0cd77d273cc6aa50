"""Core kernel: keyed hashes (HMAC-SHA-256 with the server key) of identifiers and secrets.

An unkeyed hash of an email is reversible by dictionary; a keyed one is not without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=4)
def _keyed(key: str) -> hmac.HMAC:
    """An HMAC primed with the key; copying it skips re-deriving the key pads per call."""
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def keyed_hash(value: str, *, domain: str) -> str:
    """Hex HMAC-SHA-256 of `domain:value` under CDP_HASH_KEY. `domain` separates uses."""
    mac = _keyed(settings.CDP_HASH_KEY).copy()
    mac.update(f"{domain}:{value}".encode())
    return mac.hexdigest()


def identifier_hash(identifier_type: str, normalised_value: str) -> str:
    """The keyed hash used for suppression and pseudonymised exports of one identifier."""
    return keyed_hash(normalised_value, domain=f"id:{identifier_type}")
