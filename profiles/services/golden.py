"""Profiles services: golden traits for many profiles at once (the bulk merge path) with the
same survivorship as golden_traits_recompute, and re-applying a changed rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.utils import timezone

from profiles.compute.survivorship import MOST_TRUSTED, Candidate, Choice, choose
from profiles.models import Profile, ProfileTrait, TraitValue

from .bulk_sql import rows_update
from .survivorship import SurvivorshipConfig, survivorship_config
from .traits import golden_traits_recompute

_IN_CHUNK = 10_000


class Observation(NamedTuple):
    """One TraitValue row as survivorship reads it (trust before overrides)."""

    pk: int
    profile_id: int
    name: str
    value: Any
    source_id: int
    trust: int
    observed_at: datetime
    seen_count: int


class GoldenRow(NamedTuple):
    """One stored ProfileTrait row."""

    pk: int
    value: Any
    chosen: int
    rule: str


def observations_of(profile_ids: Sequence[int]) -> dict[int, list[Observation]]:
    """TraitValue rows currently owned by each profile (one query per 10,000 ids)."""
    found: dict[int, list[Observation]] = defaultdict(list)
    ids = list(profile_ids)
    for start in range(0, len(ids), _IN_CHUNK):
        rows = TraitValue.objects.filter(profile_id__in=ids[start : start + _IN_CHUNK]).values_list(
            "pk",
            "profile_id",
            "name",
            "value",
            "source_id",
            "source__trust",
            "observed_at",
            "seen_count",
        )
        for row in rows:
            found[row[1]].append(Observation._make(row))
    return found


def golden_choices(
    observations: Iterable[Observation], config: SurvivorshipConfig
) -> dict[str, Choice]:
    """The golden value per trait name, exactly as golden_traits_recompute chooses it."""
    grouped: dict[str, list[Candidate]] = defaultdict(list)
    for row in observations:
        grouped[row.name].append(
            Candidate(
                key=row.pk,
                value=row.value,
                trust=config.trust.get((row.name, row.source_id), row.trust),
                observed_at=row.observed_at,
                seen_count=row.seen_count,
            )
        )
    choices = {}
    for name, candidates in grouped.items():
        choice = choose(candidates, rule=config.rules.get(name, MOST_TRUSTED))
        if choice is not None:
            choices[name] = choice
    return choices


def _current_rows(profile_ids: list[int]) -> dict[int, dict[str, GoldenRow]]:
    current: dict[int, dict[str, GoldenRow]] = defaultdict(dict)
    for start in range(0, len(profile_ids), _IN_CHUNK):
        rows = ProfileTrait.objects.filter(
            profile_id__in=profile_ids[start : start + _IN_CHUNK]
        ).values_list("pk", "profile_id", "name", "value", "chosen_id", "rule")
        for pk, profile_id, name, value, chosen, rule in rows:
            current[profile_id][name] = GoldenRow(pk, value, chosen, rule)
    return current


def golden_rows_replace(
    choices_by_profile: Mapping[int, Mapping[str, Choice]],
    *,
    current: Mapping[int, Mapping[str, GoldenRow]] | None = None,
) -> None:
    """Make each profile's ProfileTrait rows and traits cache equal `choices` (rows kept in
    place where only value, provenance or rule changed, as golden_traits_recompute does).
    `current` may pass the profiles' stored rows when the caller has read them already."""
    ids = list(choices_by_profile)
    stored = current if current is not None else _current_rows(ids)
    now = timezone.now()
    create, update, delete = [], [], []
    for profile_id in ids:
        wanted = choices_by_profile[profile_id]
        rows = stored.get(profile_id, {})
        delete += [row.pk for name, row in rows.items() if name not in wanted]
        for name, choice in wanted.items():
            row = rows.get(name)
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
            elif (row.chosen, row.value, row.rule) != (choice.key, choice.value, choice.rule):
                update.append(
                    ProfileTrait(
                        pk=row.pk,
                        value=choice.value,
                        chosen_id=choice.key,
                        rule=choice.rule,
                        updated_at=now,
                    )
                )
    for start in range(0, len(delete), _IN_CHUNK):
        ProfileTrait.objects.filter(pk__in=delete[start : start + _IN_CHUNK]).delete()
    ProfileTrait.objects.bulk_create(create, batch_size=5_000)
    rows_update(ProfileTrait, update, ["value", "chosen", "rule", "updated_at"])
    caches = [
        Profile(
            pk=profile_id,
            traits={name: choice.value for name, choice in sorted(choices.items())},
            updated_at=now,
        )
        for profile_id, choices in choices_by_profile.items()
    ]
    rows_update(Profile, caches, ["traits", "updated_at"])


def golden_traits_reapply(*, trait: str, limit: int | None = None) -> int:
    """Recompute the golden value of `trait` on live profiles holding more than one observation
    of it (only there can a rule change the choice). Returns how many were recomputed."""
    config = survivorship_config()
    profile_ids = (
        TraitValue.objects.filter(name=trait, profile__merged_into__isnull=True)
        .order_by("profile_id")
        .values_list("profile_id", flat=True)
        .distinct()
    )
    done = 0
    for profile_id in profile_ids.iterator(chunk_size=2_000):
        golden_traits_recompute(
            profile_id=profile_id, names=[trait], rules=config.rules, trust=config.trust
        )
        done += 1
        if limit is not None and done >= limit:
            break
    return done
