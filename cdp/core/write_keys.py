"""Core kernel: write-key generation and verification (random key, keyed hash, short prefix)."""

from __future__ import annotations

import hmac
import secrets
import string
from dataclasses import dataclass

from .hashing import keyed_hash

PREFIX_LENGTH = 8
SECRET_LENGTH = 32
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, kw_only=True)
class GeneratedKey:
    """A fresh key: `plain` is shown once; `prefix` and `digest` are what is stored."""

    plain: str
    prefix: str
    digest: str


def write_key_generate() -> GeneratedKey:
    """Make a random 40-character key; its first 8 characters are the lookup prefix."""
    plain = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH + SECRET_LENGTH))
    return GeneratedKey(plain=plain, prefix=plain[:PREFIX_LENGTH], digest=write_key_digest(plain))


def write_key_digest(plain: str) -> str:
    """The stored form of a key: a keyed HMAC, fast enough to check on every request."""
    return keyed_hash(plain, domain="write-key")


def write_key_prefix(plain: str) -> str | None:
    """The lookup prefix of a presented key, or None when it cannot be one of ours."""
    if len(plain) != PREFIX_LENGTH + SECRET_LENGTH:
        return None
    return plain[:PREFIX_LENGTH]


def write_key_matches(plain: str, digest: str) -> bool:
    """Constant-time comparison of a presented key against a stored digest."""
    return hmac.compare_digest(write_key_digest(plain), digest)
