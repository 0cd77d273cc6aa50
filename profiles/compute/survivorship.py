"""Profiles compute: survivorship — which observed value of a trait becomes the golden value."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MOST_TRUSTED = "most_trusted"  # highest source trust, ties to the most recent
MOST_RECENT = "most_recent"  # latest observation, but never over a more trusted source's value
MOST_FREQUENT = "most_frequent"  # the value seen most often across records, ties to trust
LONGEST = "longest"  # the longest non-empty text, ties to trust
RULES = (MOST_TRUSTED, MOST_RECENT, MOST_FREQUENT, LONGEST)


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """One observed value: its source's trust, when it was seen, how often, and its row id."""

    key: int
    value: Any
    trust: int
    observed_at: datetime
    seen_count: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Choice:
    key: int
    value: Any
    rule: str


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _trusted_recent(candidate: Candidate) -> tuple[int, datetime, int]:
    return (candidate.trust, candidate.observed_at, candidate.key)


def choose(candidates: Sequence[Candidate], *, rule: str = MOST_TRUSTED) -> Choice | None:
    """Pick the golden value among `candidates` by `rule`; None when all are empty.

    Deterministic: ties are broken by trust, then time, then the row id.
    """
    present = [candidate for candidate in candidates if not _is_empty(candidate.value)]
    if not present:
        return None
    if rule == MOST_RECENT:
        # A lower-trust source never overwrites a value from a higher-trust one.
        top_trust = max(candidate.trust for candidate in present)
        pool = [candidate for candidate in present if candidate.trust == top_trust]
        best = max(pool, key=lambda c: (c.observed_at, c.key))
    elif rule == MOST_FREQUENT:
        counts: Counter[str] = Counter()
        for candidate in present:
            counts[repr(candidate.value)] += candidate.seen_count
        best = max(present, key=lambda c: (counts[repr(c.value)], *_trusted_recent(c)))
    elif rule == LONGEST:
        best = max(present, key=lambda c: (len(str(c.value)), *_trusted_recent(c)))
    elif rule == MOST_TRUSTED:
        best = max(present, key=_trusted_recent)
    else:
        raise ValueError(f"unknown survivorship rule {rule!r}; use one of {RULES}")
    return Choice(key=best.key, value=best.value, rule=rule)
