"""Test helpers: demo CRM records (planted duplicates, look-alikes) through the real import path,
and full dumps of profiles for exact before/after comparisons."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from consent.models import ConsentEvent, ConsentState
from profiles.compute.records import RowContext, RowRejection, apply_mapping, crm_row_to_message
from profiles.demo_data import GeneratorConfig, generate_chunks
from profiles.models import Event, Identifier, Order, Profile, ProfileTrait, TraitValue
from profiles.services.ingest import IngestOptions, events_ingest

AS_OF = datetime.date(2025, 6, 1)


@dataclass(frozen=True, kw_only=True)
class DemoCrm:
    crm: pd.DataFrame
    truth: pd.Series  # crm_id -> person_id
    lookalikes: list[tuple[str, str]]  # pairs of different people with the same name and city


def demo_crm(people: int, *, seed: int = 3, lookalike_rate: float = 0.01) -> DemoCrm:
    config = GeneratorConfig(
        people=people, seed=seed, as_of=AS_OF, events=False, lookalike_rate=lookalike_rate
    )
    chunk = next(iter(generate_chunks(config, chunk_people=people)))
    truth = chunk.truth[chunk.truth["record_kind"] == "crm"]
    marked = chunk.people[chunk.people["lookalike_of"] != ""]
    return DemoCrm(
        crm=chunk.crm,
        truth=pd.Series(truth["person_id"].to_numpy(), index=truth["record_id"].to_numpy()),
        lookalikes=list(zip(marked["person_id"], marked["lookalike_of"], strict=True)),
    )


def crm_messages(crm: pd.DataFrame) -> list[dict]:
    """The identify messages the CRM import would send (rejected rows left out)."""
    context = RowContext(
        now=datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC),
        today=AS_OF,
        default_region="US",
        base_currency="EUR",
        currency_rates={"EUR": Decimal(1)},
    )
    messages = []
    for position, row in enumerate(crm.to_dict("records")):
        message = crm_row_to_message(apply_mapping(row, {}), position=position, context=context)
        if not isinstance(message, RowRejection):
            messages.append(message)
    return messages


def ingest(source_id: int, messages: list[dict]) -> None:
    """Store and (eagerly) process the messages, 500 per batch, as a file import does."""
    options = IngestOptions(trait_identity=True)
    for start in range(0, len(messages), 500):
        events_ingest(source_id=source_id, messages=messages[start : start + 500], options=options)


def person_clusters(truth: pd.Series) -> dict[str, set[int]]:
    """person_id -> the live profile ids now holding that person's CRM records."""
    owners = dict(Identifier.objects.filter(type="crm_id").values_list("value", "profile_id"))
    found: dict[str, set[int]] = {}
    for crm_id, profile_id in owners.items():
        found.setdefault(truth[crm_id], set()).add(profile_id)
    return found


def profile_dump(profile_id: int) -> dict[str, Any]:
    """Everything a profile is: its row, identifiers, events, observations, golden values with
    provenance, orders and consent — by natural keys (golden rows are derived: no pks)."""
    profile = Profile.objects.get(pk=profile_id)
    return {
        "merged_into": profile.merged_into_id,
        "traits": profile.traits,
        "last_seen_at": profile.last_seen_at,
        "identifiers": sorted(
            Identifier.objects.filter(profile_id=profile_id).values_list(
                "type", "value", "origin_profile_id", "source_id", "is_verified"
            )
        ),
        "events": sorted(
            Event.objects.filter(profile_id=profile_id).values_list(
                "pk", "origin_profile_id", "status"
            )
        ),
        "trait_values": sorted(
            TraitValue.objects.filter(profile_id=profile_id).values_list(
                "pk", "origin_profile_id", "source_id", "name", "observed_at", "seen_count"
            )
        ),
        "golden": sorted(
            (name, repr(value), chosen, rule)
            for name, value, chosen, rule in ProfileTrait.objects.filter(
                profile_id=profile_id
            ).values_list("name", "value", "chosen_id", "rule")
        ),
        "orders": sorted(Order.objects.filter(profile_id=profile_id).values_list("pk", "total")),
        "consent_events": sorted(
            ConsentEvent.objects.filter(profile_id=profile_id).values_list(
                "pk", "origin_profile_id", "purpose_id", "is_granted"
            )
        ),
        "consent_states": sorted(
            ConsentState.objects.filter(profile_id=profile_id).values_list(
                "purpose_id", "is_granted", "entry_id"
            )
        ),
    }
