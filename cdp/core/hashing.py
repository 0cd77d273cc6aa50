"""Core kernel: keyed hashes (HMAC-SHA-256 with the server key) of identifiers and secrets.

An unkeyed hash of an email is reversible by dictionary; a keyed one is not without the key.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def keyed_hash(value: str, *, domain: str) -> str:
    """Hex HMAC-SHA-256 of `domain:value` under CDP_HASH_KEY. `domain` separates uses."""
    key = settings.CDP_HASH_KEY.encode()
    return hmac.new(key, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()


def identifier_hash(identifier_type: str, normalised_value: str) -> str:
    """The keyed hash used for suppression and pseudonymised exports of one identifier."""
    return keyed_hash(normalised_value, domain=f"id:{identifier_type}")
