"""Profiles services: create sources, issue, rotate and revoke their write keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, InvalidInputError, NotFoundError
from cdp.core.write_keys import write_key_generate
from profiles.models import Source, WriteKey


@dataclass(frozen=True, kw_only=True)
class IssuedKey:
    """A newly issued key. `plain` exists only here: it is never stored."""

    source_id: int
    write_key_id: int
    prefix: str
    plain: str


def source_create(
    *,
    name: str,
    actor: Actor,
    kind: str = Source.Kind.HTTP,
    trust: int = 50,
    default_phone_region: str = "",
) -> tuple[Source, IssuedKey]:
    """Create a source with its first write key. Raises ConflictError if the name is taken."""
    name = name.strip()
    if not name:
        raise InvalidInputError("A source needs a name.")
    if kind not in Source.Kind.values:
        raise InvalidInputError(f"Unknown source kind {kind!r}; use one of {Source.Kind.values}.")
    try:
        with transaction.atomic():
            source = Source.objects.create(
                name=name,
                kind=kind,
                trust=trust,
                default_phone_region=default_phone_region.upper(),
            )
            issued = _issue(source)
            audit_record(
                actor=actor,
                action="profiles.source.create",
                target=source,
                details={"write_key_prefix": issued.prefix},
            )
    except IntegrityError as exc:
        raise ConflictError(f"A source named {name!r} already exists.") from exc
    return source, issued


def _issue(source: Source) -> IssuedKey:
    for _ in range(5):  # an 8-character prefix collision is rare; retry it
        generated = write_key_generate()
        if not WriteKey.objects.filter(prefix=generated.prefix).exists():
            key = WriteKey.objects.create(
                source=source, prefix=generated.prefix, digest=generated.digest
            )
            return IssuedKey(
                source_id=source.pk, write_key_id=key.pk, prefix=key.prefix, plain=generated.plain
            )
    raise ConflictError("Could not allocate a unique write-key prefix; try again.")


@transaction.atomic
def write_key_rotate(*, source_id: int, actor: Actor, revoke_previous: bool = True) -> IssuedKey:
    """Issue a new key for a source; by default revoke every older key at the same time."""
    source = Source.objects.select_for_update().filter(pk=source_id).first()
    if source is None:
        raise NotFoundError(f"No source with id {source_id}.")
    revoked = 0
    if revoke_previous:
        revoked = WriteKey.objects.filter(source=source, revoked_at=None).update(
            revoked_at=timezone.now()
        )
    issued = _issue(source)
    audit_record(
        actor=actor,
        action="profiles.source.rotate_key",
        target=source,
        details={"write_key_prefix": issued.prefix, "revoked": revoked},
    )
    return issued


@transaction.atomic
def write_key_revoke(*, source_id: int, actor: Actor, prefix: str | None = None) -> int:
    """Revoke one key (by prefix) or all active keys of a source. Returns how many."""
    keys = WriteKey.objects.filter(source_id=source_id, revoked_at=None)
    if prefix:
        keys = keys.filter(prefix=prefix)
    count = keys.update(revoked_at=timezone.now())
    if prefix and count == 0:
        raise NotFoundError(f"No active write key {prefix}… on source {source_id}.")
    audit_record(
        actor=actor,
        action="profiles.source.revoke_key",
        target_type="profiles.source",
        target_id=source_id,
        details={"prefix": prefix or "*", "revoked": count},
    )
    return count


def source_get_or_create_system(*, name: str, trust: int) -> Source:
    """The built-in source CDP itself writes as (e.g. "dsr" for rectifications)."""
    source, _ = Source.objects.get_or_create(
        name=name, defaults={"kind": Source.Kind.SYSTEM, "trust": trust}
    )
    return source
