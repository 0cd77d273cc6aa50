"""Profiles services: record observed trait values with provenance and recompute golden traits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from profiles.compute.survivorship import MOST_TRUSTED, Candidate, choose
from profiles.models import Event, Profile, ProfileTrait, Source, TraitValue

from .survivorship import survivorship_config

_MAX_TRAIT_NAME = 100


def trait_values_observe(
    *,
    profile_id: int,
    source: Source,
    traits: Mapping[str, Any],
    observed_at: datetime,
    event: Event | None = None,
    record_ref: str = "",
) -> set[str]:
    """Upsert this source's latest value of each trait for a profile; return changed names.

    An observation older than the stored one is ignored (events can arrive out of order);
    the same value again only bumps `seen_count`. Idempotent for a replayed event.
    """
    names = [name[:_MAX_TRAIT_NAME] for name in traits]
    existing = {
        row.name: row
        for row in TraitValue.objects.filter(
            origin_profile_id=profile_id, source=source, name__in=names
        )
    }
    create, update, changed = [], [], set()
    for raw_name, value in traits.items():
        name = raw_name[:_MAX_TRAIT_NAME]
        row = existing.get(name)
        if row is None:
            create.append(
                TraitValue(
                    profile_id=profile_id,
                    origin_profile_id=profile_id,
                    source=source,
                    name=name,
                    value=value,
                    observed_at=observed_at,
                    event=event,
                    record_ref=record_ref,
                )
            )
            changed.add(name)
        elif row.event_id is not None and event is not None and row.event_id == event.pk:
            continue  # replay of the event that wrote this row
        elif observed_at >= row.observed_at:
            if row.value != value:
                changed.add(name)
                row.seen_count = 1
            else:
                row.seen_count += 1
            row.value, row.observed_at, row.event, row.record_ref = (
                value,
                observed_at,
                event,
                record_ref,
            )
            update.append(row)
    TraitValue.objects.bulk_create(create)
    TraitValue.objects.bulk_update(
        update, ["value", "observed_at", "event", "record_ref", "seen_count"]
    )
    return changed


def golden_traits_recompute(
    *,
    profile_id: int,
    names: Iterable[str] | None = None,
    rules: Mapping[str, str] | None = None,
    trust: Mapping[tuple[str, int], int] | None = None,
) -> set[str]:
    """Choose the golden value of each trait (all, or `names`) among the profile's observations.

    `rules` (trait -> rule) and `trust` ((trait, source id) -> trust) default to the configured
    survivorship (SurvivorshipRule rows). Writes ProfileTrait rows (with the chosen
    observation as provenance and the rule) and the Profile.traits cache. Returns the names
    whose golden value changed. Idempotent.
    """
    if rules is None:
        config = survivorship_config()
        rules, trust = config.rules, config.trust if trust is None else trust
    trust = trust or {}
    values = TraitValue.objects.filter(profile_id=profile_id).select_related("source")
    name_list = None if names is None else list(names)
    if name_list is not None:
        values = values.filter(name__in=name_list)
    grouped: dict[str, list[Candidate]] = defaultdict(list)
    for row in values:
        grouped[row.name].append(
            Candidate(
                key=row.pk,
                value=row.value,
                trust=trust.get((row.name, row.source_id), row.source.trust),
                observed_at=row.observed_at,
                seen_count=row.seen_count,
            )
        )
    current = {trait.name: trait for trait in _golden_rows(profile_id, name_list)}
    wanted = set(grouped) if name_list is None else set(name_list)
    changed = _apply_choices(profile_id, grouped, current, wanted, rules)
    if changed:
        _refresh_cache(profile_id)
    return changed


def _golden_rows(profile_id: int, names: list[str] | None) -> Iterable[ProfileTrait]:
    rows = ProfileTrait.objects.filter(profile_id=profile_id)
    return rows if names is None else rows.filter(name__in=names)


def _apply_choices(
    profile_id: int,
    grouped: Mapping[str, list[Candidate]],
    current: Mapping[str, ProfileTrait],
    wanted: set[str],
    rules: Mapping[str, str],
) -> set[str]:
    changed: set[str] = set()
    create, update, delete = [], [], []
    now = timezone.now()
    for name in wanted | set(current):
        choice = choose(grouped.get(name, []), rule=rules.get(name, MOST_TRUSTED))
        row = current.get(name)
        if choice is None:
            if row is not None:
                delete.append(row.pk)
                changed.add(name)
            continue
        if row is None:
            create.append(
                ProfileTrait(
                    profile_id=profile_id,
                    name=name,
                    value=choice.value,
                    chosen_id=choice.key,
                    rule=choice.rule,
                    updated_at=now,
                )
            )
            changed.add(name)
        elif (row.chosen_id, row.value, row.rule) != (choice.key, choice.value, choice.rule):
            if row.value != choice.value:
                changed.add(name)
            row.value, row.chosen_id, row.rule, row.updated_at = (
                choice.value,
                choice.key,
                choice.rule,
                now,
            )
            update.append(row)
    ProfileTrait.objects.filter(pk__in=delete).delete()
    ProfileTrait.objects.bulk_create(create)
    ProfileTrait.objects.bulk_update(update, ["value", "chosen", "rule", "updated_at"])
    return changed


def _refresh_cache(profile_id: int) -> None:
    traits = dict(ProfileTrait.objects.filter(profile_id=profile_id).values_list("name", "value"))
    Profile.objects.filter(pk=profile_id).update(traits=traits, updated_at=timezone.now())
