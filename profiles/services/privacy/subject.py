"""Profiles services (privacy): find every profile a person is or was, locate one profile,
rectify traits from a privacy request, and purge events past their retention."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cdp.core.privacy import Subject
from consent import public as consent_public
from profiles.compute.normalise import NormalisationError, normalise_email, normalise_phone
from profiles.models import Event, Identifier, Profile, ProfileMerge
from profiles.selectors import profile_canonical
from profiles.services.processing import _normalised_traits
from profiles.services.sources import source_get_or_create_system
from profiles.services.traits import golden_traits_recompute, trait_values_observe

DSR_SOURCE = "dsr"
DSR_TRUST = 1000  # above any source's trust (0..100): a rectified value is the golden value
_PURGE_BATCH = 5_000


def _normalised(pairs: Iterable[Sequence[str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for kind, raw in pairs:
        value = str(raw).strip()
        try:
            if kind == "email":
                value = normalise_email(value) or value
            elif kind == "phone":
                value = (
                    normalise_phone(value, default_region=settings.CDP_DEFAULT_PHONE_REGION)
                    or value
                )
        except NormalisationError:
            pass
        if value:
            found.add((str(kind), value))
    return found


def _merge_closure(seeds: set[int], unmerged_since: datetime | None) -> set[int]:
    """Profiles linked to `seeds` by merges (both ways) and by unmerges after `unmerged_since`."""
    found, frontier = set(seeds), set(seeds)
    while frontier:
        linked = set(
            Profile.objects.filter(pk__in=frontier, merged_into__isnull=False).values_list(
                "merged_into_id", flat=True
            )
        )
        linked |= set(
            Profile.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
        )
        if unmerged_since is not None:
            split = ProfileMerge.objects.filter(
                Q(survivor_id__in=frontier) | Q(absorbed_id__in=frontier),
                undone_at__gte=unmerged_since,
            ).values_list("survivor_id", "absorbed_id")
            linked |= {profile_id for pair in split for profile_id in pair}
        frontier = linked - found
        found |= frontier
    return found


def privacy_subject_resolve(
    *,
    identifiers: Sequence[tuple[str, str]],
    profile_ids: Sequence[int] = (),
    unmerged_since: datetime | None = None,
) -> consent_public.ResolvedSubject:
    """Every profile the person is or was — the owners of `identifiers`, the whole merge tree,
    and profiles split off by unmerges after `unmerged_since` — with every identifier they hold
    (plus the given ones, normalised). Reads only."""
    given = _normalised(identifiers)
    condition = Q(pk__in=[])
    for kind, value in given:
        condition |= Q(type=kind, value=value)
    seeds = set(profile_ids)
    for owner, origin in Identifier.objects.filter(condition).values_list(
        "profile_id", "origin_profile_id"
    ):
        seeds |= {owner, origin}
    ids = _merge_closure(seeds, unmerged_since)
    held = set(
        Identifier.objects.filter(Q(profile_id__in=ids) | Q(origin_profile_id__in=ids))
        .values_list("type", "value")
        .distinct()
    )
    existing = Profile.objects.filter(pk__in=ids)
    active = existing.filter(merged_into__isnull=True).values_list("pk", flat=True)
    return consent_public.ResolvedSubject(
        subject=Subject(
            profile_ids=tuple(sorted(existing.values_list("pk", flat=True))),
            identifiers=tuple(sorted(held | given)),
        ),
        active_profile_ids=tuple(sorted(active)),
    )


def privacy_profile_locate(*, identifier_type: str, value: str) -> int | None:
    """The profile standing for the owner of one identifier (or of a profile id, type
    "profile_id") now, after merges; None when unknown."""
    if identifier_type == "profile_id":
        profile = Profile.objects.filter(pk=int(value)).first() if value.isdigit() else None
        return None if profile is None else profile_canonical(profile).pk
    pairs = _normalised([(identifier_type, value)])
    if not pairs:
        return None
    kind, normalised = next(iter(pairs))
    owner = Identifier.objects.filter(type=kind, value=normalised).select_related("profile").first()
    return None if owner is None else profile_canonical(owner.profile).pk


def privacy_rectify(
    *, subject: Subject, corrections: Mapping[str, Any], request_id: int
) -> consent_public.Rectification:
    """Record corrected trait values from the "dsr" system source (trust above every source) on
    each active profile of the person, so they become the golden values with provenance
    "dsr:<request id>". Values that fail normalisation are refused. Idempotent."""
    region = settings.CDP_DEFAULT_PHONE_REGION
    clean = _normalised_traits({str(name): value for name, value in corrections.items()}, region)
    refused = {
        str(name): "not a valid value for this trait" for name in corrections if name not in clean
    }
    source = source_get_or_create_system(name=DSR_SOURCE, trust=DSR_TRUST)
    active = Profile.objects.filter(pk__in=subject.profile_ids, merged_into__isnull=True)
    with transaction.atomic():
        for profile_id in active.values_list("pk", flat=True):
            trait_values_observe(
                profile_id=profile_id,
                source=source,
                traits=clean,
                observed_at=timezone.now(),
                record_ref=f"dsr:{request_id}",
            )
            golden_traits_recompute(profile_id=profile_id, names=list(clean))
    return consent_public.Rectification(applied=tuple(sorted(clean)), refused=refused)


def privacy_events_purge(*, spec: consent_public.RetentionSpec) -> int:
    """Delete raw events matching a retention spec, in batches; return how many."""
    events = Event.objects.filter(timestamp__lt=spec.before)
    if spec.event_types:
        events = events.filter(type__in=spec.event_types)
    if spec.event_names:
        events = events.filter(event__in=spec.event_names)
    if spec.exclude_event_names:
        events = events.exclude(event__in=spec.exclude_event_names)
    total = 0
    while ids := list(events.values_list("pk", flat=True)[:_PURGE_BATCH]):
        with transaction.atomic():
            _, per_model = Event.objects.filter(pk__in=ids).delete()
        total += per_model.get(Event._meta.label, 0)
    return total
