"""Consent services: the suppression list — keyed hashes of identifiers never to ingest again."""

from __future__ import annotations

from collections.abc import Iterable

from cdp.core.hashing import identifier_hash
from consent.models import Suppression


def suppression_add(
    *, hashes: Iterable[tuple[str, str]], reason: str, request_id: int | None = None
) -> int:
    """Add (identifier_type, keyed hash) pairs to the suppression list; return how many were
    new. Idempotent: a hash already listed keeps its first reason (unique constraint)."""
    rows = {
        value_hash: Suppression(
            value_hash=value_hash, identifier_type=kind, reason=reason, request_id=request_id
        )
        for kind, value_hash in hashes
    }
    if not rows:
        return 0
    before = Suppression.objects.filter(value_hash__in=list(rows)).count()
    Suppression.objects.bulk_create(list(rows.values()), ignore_conflicts=True)
    return len(rows) - before


def suppression_add_identifiers(
    *, identifiers: Iterable[tuple[str, str]], reason: str, request_id: int | None = None
) -> int:
    """Suppress (type, normalised value) identifiers by their keyed hash (the value itself is
    never stored). Idempotent."""
    return suppression_add(
        hashes=[(kind, identifier_hash(kind, value)) for kind, value in identifiers],
        reason=reason,
        request_id=request_id,
    )
