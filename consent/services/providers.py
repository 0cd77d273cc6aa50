"""Consent services: the registry of what the apps above consent provide to privacy work —
finding a person's profiles, locating one profile, rectifying traits, purging old events.

The consent app sits below profiles and cannot import it; profiles registers these callables
from its AppConfig.ready() through consent.public, as every app registers its export/erase
handler with cdp.core.privacy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cdp.core.errors import DomainError
from cdp.core.privacy import Subject


class ProviderMissingError(DomainError):
    code = "privacy_provider_missing"
    status_code = 503


@dataclass(frozen=True, kw_only=True)
class ResolvedSubject:
    """A person as found: the Subject every privacy handler gets, and which of its profiles
    stand for the person now (not merged into another), where consent and restrictions live."""

    subject: Subject
    active_profile_ids: tuple[int, ...]


class SubjectResolver(Protocol):
    def __call__(
        self,
        *,
        identifiers: Sequence[tuple[str, str]],
        profile_ids: Sequence[int],
        unmerged_since: datetime | None,
    ) -> ResolvedSubject: ...


class ProfileLocator(Protocol):
    def __call__(self, *, identifier_type: str, value: str) -> int | None: ...


@dataclass(frozen=True, kw_only=True)
class Rectification:
    """What a rectification changed: trait names applied, and those refused with the reason."""

    applied: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)


class Rectifier(Protocol):
    def __call__(
        self, *, subject: Subject, corrections: Mapping[str, Any], request_id: int
    ) -> Rectification: ...


@dataclass(frozen=True, kw_only=True)
class RetentionSpec:
    """Raw events to purge: older than `before`, matching every non-empty filter."""

    before: datetime
    event_types: tuple[str, ...] = ()
    event_names: tuple[str, ...] = ()
    exclude_event_names: tuple[str, ...] = ()


class RetentionPurger(Protocol):
    def __call__(self, *, spec: RetentionSpec) -> int: ...


_NAMES = ("resolver", "locator", "rectifier", "purger")
_providers: dict[str, Callable[..., Any]] = {}


def privacy_providers_register(
    *,
    resolver: SubjectResolver,
    locator: ProfileLocator,
    rectifier: Rectifier,
    purger: RetentionPurger,
) -> None:
    """Register (or replace) the callables the profiles app provides. Validates each."""
    given = {"resolver": resolver, "locator": locator, "rectifier": rectifier, "purger": purger}
    for name, provider in given.items():
        if not callable(provider):
            raise TypeError(f"privacy provider {name} must be callable, got {provider!r}")
    _providers.update(given)


def _provider(name: str) -> Callable[..., Any]:
    provider = _providers.get(name)
    if provider is None:
        raise ProviderMissingError(
            f"No {name} is registered: the profiles app registers it in AppConfig.ready()."
        )
    return provider


def subject_resolve(
    *,
    identifiers: Sequence[tuple[str, str]],
    profile_ids: Sequence[int] = (),
    unmerged_since: datetime | None = None,
) -> ResolvedSubject:
    """Every profile the person is or was (merge tree, and profiles split off by unmerges
    after `unmerged_since`), with every identifier they hold. Raises ProviderMissingError."""
    resolver: SubjectResolver = _provider("resolver")
    return resolver(identifiers=identifiers, profile_ids=profile_ids, unmerged_since=unmerged_since)


def profile_locate(*, identifier_type: str, value: str) -> int | None:
    """The profile that stands for the owner of one identifier now, or None."""
    locator: ProfileLocator = _provider("locator")
    return locator(identifier_type=identifier_type, value=value)


def subject_rectify(
    *, subject: Subject, corrections: Mapping[str, Any], request_id: int
) -> Rectification:
    rectifier: Rectifier = _provider("rectifier")
    return rectifier(subject=subject, corrections=corrections, request_id=request_id)


def events_purge(*, spec: RetentionSpec) -> int:
    purger: RetentionPurger = _provider("purger")
    return purger(spec=spec)


def providers_registered() -> tuple[str, ...]:
    return tuple(name for name in _NAMES if name in _providers)
