"""Core kernel: the registry of per-app privacy handlers (export, erase) for data-subject requests.

Each app that stores personal data registers one handler in its AppConfig.ready(); the consent
app's DSR services call every handler without importing the apps above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Subject:
    """The person a request is about: every profile id they are or were, and their identifiers."""

    profile_ids: tuple[int, ...]
    identifiers: tuple[tuple[str, str], ...]  # (type, normalised value)


@dataclass(frozen=True, kw_only=True)
class ExportPart:
    """One app's share of an access/portability archive: named tables of JSON-able rows."""

    app: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ErasureReport:
    """What one app removed or anonymised, as counts per table (identifies no one)."""

    app: str
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PrivacyHandler:
    app: str
    export: Callable[[Subject], ExportPart]
    erase: Callable[[Subject], ErasureReport]
    order: int = 100  # erase lower orders last (profiles owns the rows others point at)


_handlers: dict[str, PrivacyHandler] = {}


def privacy_handler_register(handler: PrivacyHandler) -> None:
    """Register (or replace) the handler of one app."""
    _handlers[handler.app] = handler


def privacy_handlers() -> list[PrivacyHandler]:
    """Handlers in erase order: highest `order` first."""
    return sorted(_handlers.values(), key=lambda handler: -handler.order)
