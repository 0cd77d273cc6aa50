"""Profiles services: configurable survivorship — which rule picks each trait's golden value and
how much each source is trusted for it — and re-applying it to existing profiles."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.db import transaction

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from profiles.compute.survivorship import RULES
from profiles.models import Source, SurvivorshipRule

CACHE_SECONDS = 30.0  # other processes see a rule change within this time


@dataclass(frozen=True, kw_only=True)
class SurvivorshipConfig:
    """Rule per trait (absent: most trusted) and trust overrides per (trait, source id)."""

    rules: dict[str, str] = field(default_factory=dict)
    trust: dict[tuple[str, int], int] = field(default_factory=dict)


_cache: dict[str, tuple[float, SurvivorshipConfig]] = {}
_lock = threading.Lock()


def survivorship_config() -> SurvivorshipConfig:
    """The configured rules (one query at most every CACHE_SECONDS per process)."""
    with _lock:
        cached = _cache.get("config")
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    rules: dict[str, str] = {}
    trust: dict[tuple[str, int], int] = {}
    for trait, source_id, rule, value in SurvivorshipRule.objects.values_list(
        "trait", "source_id", "rule", "trust"
    ):
        if source_id is None:
            rules[trait] = rule
        elif value is not None:
            trust[(trait, source_id)] = value
    config = SurvivorshipConfig(rules=rules, trust=trust)
    with _lock:
        _cache["config"] = (time.monotonic(), config)
    return config


def survivorship_cache_clear() -> None:
    """Forget the cached configuration (after a change in this process, and in tests)."""
    with _lock:
        _cache.clear()


def survivorship_rule_set(
    *,
    trait: str,
    actor: Actor,
    rule: str = "",
    source_id: int | None = None,
    trust: int | None = None,
) -> SurvivorshipRule:
    """Set the rule of a trait (no source) or a source's trust for a trait. Idempotent.

    Raises InvalidInputError for an unknown rule, a trait rule without a rule, a source
    override without a trust in 0..1000; NotFoundError for an unknown source.
    """
    trait = trait.strip()
    if not trait:
        raise InvalidInputError("Name the trait.")
    if source_id is None and rule not in RULES:
        raise InvalidInputError(f"Unknown rule {rule!r}; use one of {', '.join(RULES)}.")
    if source_id is not None:
        if trust is None or not 0 <= trust <= 1000:
            raise InvalidInputError("A source override needs a trust between 0 and 1000.")
        if not Source.objects.filter(pk=source_id).exists():
            raise NotFoundError(f"No source with id {source_id}.")
    with transaction.atomic():
        row, _ = SurvivorshipRule.objects.update_or_create(
            trait=trait,
            source_id=source_id,
            defaults={"rule": rule if source_id is None else "", "trust": trust},
        )
        audit_record(
            actor=actor,
            action="profiles.survivorship.set",
            target=row,
            details={"trait": trait, "source_id": source_id, "rule": rule, "trust": trust},
        )
    survivorship_cache_clear()
    return row


def survivorship_rule_delete(*, rule_id: int, actor: Actor) -> bool:
    """Remove a rule or override (back to the default). Idempotent: False when absent."""
    with transaction.atomic():
        row = SurvivorshipRule.objects.filter(pk=rule_id).first()
        if row is None:
            return False
        audit_record(
            actor=actor,
            action="profiles.survivorship.delete",
            target=row,
            details={"trait": row.trait, "source_id": row.source_id},
        )
        row.delete()
    survivorship_cache_clear()
    return True
