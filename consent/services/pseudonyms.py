"""Consent services: pseudonymisation — keyed hashes that stand in for identifiers in analytics
and ML exports (stable per identifier, not reversible without the server key, and a different
keyed domain from the suppression list so an export cannot be matched against it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cdp.core.hashing import keyed_hash


def pseudonymise(identifier_type: str, value: str) -> str:
    """The pseudonym of one (type, normalised value) identifier, or of a profile id."""
    return keyed_hash(str(value), domain=f"pseudonym:{identifier_type}")


def pseudonymise_rows(
    rows: Iterable[Mapping[str, Any]], *, columns: Mapping[str, str]
) -> Iterator[dict[str, Any]]:
    """Copies of `rows` with each column of `columns` (column -> identifier type) replaced by
    its pseudonym; empty values stay empty."""
    for row in rows:
        out = dict(row)
        for column, kind in columns.items():
            value = out.get(column)
            if value not in (None, ""):
                out[column] = pseudonymise(kind, str(value))
        yield out
