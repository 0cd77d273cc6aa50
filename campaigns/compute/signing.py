"""Campaigns compute layer: HMAC-SHA-256 signatures of webhook bodies (and their check)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-CDP-Signature"
DELIVERY_HEADER = "X-CDP-Delivery"
SIGNATURE_VERSION = "v1"


def webhook_signature(secret: str, *, timestamp: int, body: bytes) -> str:
    """Header value "t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, f'{t}.' + body)>".

    Signing the timestamp with the body lets a receiver refuse replays of old deliveries.
    """
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SIGNATURE_VERSION}={digest}"


def verify_webhook_signature(
    secret: str, *, header: str, body: bytes, now: int, tolerance_seconds: int = 300
) -> bool:
    """True when `header` signs `body` under `secret` and its timestamp is within tolerance.

    Constant-time comparison; a malformed header is simply not valid.
    """
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = webhook_signature(secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={parts.get(SIGNATURE_VERSION, '')}")
