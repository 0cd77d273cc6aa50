"""Demo data: the seeded generator of a retailer's customers, CRM, orders and web events."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calibration import EventBudget, event_budget
from .catalog import Catalog
from .crm import build_crm
from .email_events import build_email_events
from .events import EVENT_COLUMNS, EventRows, build_web_events
from .orders import build_orders
from .people import MAX_PEOPLE, EmailRegistry, Population, sample_people
from .personas import ActivityClock
from .sessions import build_sessions

GENERATOR_VERSION = "1.0"
TRUTH_COLUMNS = ("record_kind", "record_id", "person_id", "persona")
CHUNK_STREAM, CATALOG_STREAM = 0, 1  # first spawn-key entry: keeps the two kinds of RNG apart


@dataclass(frozen=True, kw_only=True)
class GeneratorConfig:
    """What to generate; the output is a pure function of these values and chunk_people."""

    people: int
    seed: int = 42
    as_of: datetime.date  # the "today" of the data; all activity is before its midnight UTC
    history_days: int = 730  # orders reach this far back
    duplicate_rate: float = 0.12  # share of people with extra CRM records (planted duplicates)
    lookalike_rate: float = 0.01  # share of people given a namesake in their city
    events: bool = True  # behavioural events on/off
    events_per_person: float = 20.0  # average; 1,000,000 people give about 20,000,000 events
    event_days: int | None = None  # event window; None: the longest the average allows

    def __post_init__(self) -> None:
        if not 1 <= self.people <= MAX_PEOPLE:
            raise ValueError(f"people must be between 1 and {MAX_PEOPLE}")
        if self.seed < 0:
            raise ValueError("seed must be >= 0")
        if self.history_days < 30:
            raise ValueError("history_days must be at least 30")
        if not (0.0 <= self.duplicate_rate <= 1.0 and 0.0 <= self.lookalike_rate <= 0.5):
            raise ValueError("duplicate_rate must be in [0, 1] and lookalike_rate in [0, 0.5]")
        if self.events_per_person < 0:
            raise ValueError("events_per_person must be >= 0")
        if self.event_days is not None and not 1 <= self.event_days <= self.history_days:
            raise ValueError("event_days must be between 1 and history_days")


@dataclass(frozen=True, kw_only=True, eq=False)
class DemoChunk:
    """The data of one chunk of people; every record's true person is in `truth`."""

    people: pd.DataFrame  # people.csv columns: ground truth per person
    crm: pd.DataFrame  # crm.csv columns
    orders: pd.DataFrame  # orders.csv columns
    events: pd.DataFrame  # EVENT_COLUMNS, one row per Segment message, by person then time
    truth: pd.DataFrame  # TRUTH_COLUMNS for every CRM record, order and event


@dataclass(frozen=True, kw_only=True, eq=False)
class _Setup:
    config: GeneratorConfig
    catalog: Catalog
    clock: ActivityClock
    budget: EventBudget | None


def setup_budget(config: GeneratorConfig) -> EventBudget | None:
    """The event window and rates the generator will use (None when events are off)."""
    if not config.events:
        return None
    return event_budget(
        target=config.events_per_person,
        history_days=config.history_days,
        window_days=config.event_days,
    )


def _events_frame(
    config: GeneratorConfig, parts: list[EventRows]
) -> tuple[pd.DataFrame, np.ndarray]:
    person = np.concatenate([p.person for p in parts])
    day = np.concatenate([p.day for p in parts])
    order = np.lexsort((day, person))
    as_of_ms = int(np.datetime64(config.as_of, "ms").astype(np.int64))
    millis = as_of_ms + np.round(day[order] * 86_400_000).astype(np.int64)
    data: dict[str, object] = {}
    for name in EVENT_COLUMNS:
        if name == "timestamp":
            data[name] = pd.DatetimeIndex(millis.astype("datetime64[ms]")).tz_localize("UTC")
        else:
            merged = np.empty(person.size, dtype=object)
            merged[:] = [value for p in parts for value in p.columns[name]]
            data[name] = pd.Series(merged[order], dtype=object)
    return pd.DataFrame(data), person[order]


def _empty_events() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in EVENT_COLUMNS})
    frame["timestamp"] = pd.Series(pd.DatetimeIndex([], dtype="datetime64[ms, UTC]"))
    return frame


def _truth(pop: Population, kind: str, record_ids: object, person: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_kind": kind,
            "record_id": np.asarray(record_ids, dtype=object),
            "person_id": pop.frame["person_id"].to_numpy(dtype=object)[person],
            "persona": pop.frame["persona"].to_numpy(dtype=object)[person],
        },
        columns=list(TRUTH_COLUMNS),
    )


def _chunk(
    setup: _Setup, index: int, start: int, count: int, registry: EmailRegistry, first_order: int
) -> DemoChunk:
    config = setup.config
    stream = np.random.SeedSequence(config.seed, spawn_key=(CHUNK_STREAM, index))
    rng_people, rng_crm, rng_orders, rng_events = (
        np.random.default_rng(s) for s in stream.spawn(4)
    )
    pop = sample_people(
        rng_people, registry, start=start, count=count, seed=config.seed, as_of=config.as_of,
        lookalike_rate=config.lookalike_rate,
    )  # fmt: skip
    crm, crm_person = build_crm(
        rng_crm, pop, start=start, seed=config.seed, as_of=config.as_of,
        duplicate_rate=config.duplicate_rate,
    )  # fmt: skip
    orders = build_orders(
        rng_orders, pop, catalog=setup.catalog, clock=setup.clock, as_of=config.as_of,
        history_days=config.history_days, first_order=first_order, seed=config.seed,
    )  # fmt: skip
    truth = [
        _truth(pop, "crm", crm["crm_id"], crm_person),
        _truth(pop, "order", orders.order_id, orders.person),
    ]
    events = _empty_events()
    if setup.budget is not None:
        budget = setup.budget
        sessions, devices = build_sessions(
            rng_events, pop, orders, clock=setup.clock, as_of=config.as_of,
            window_days=budget.window_days, browse_scale=budget.browse_scale,
        )  # fmt: skip
        web = build_web_events(rng_events, sessions, devices, pop, orders, setup.catalog)
        email = build_email_events(
            rng_events, pop, as_of=config.as_of, window_days=budget.window_days,
            scale=budget.email_scale, seed=config.seed, start=start,
        )  # fmt: skip
        events, event_person = _events_frame(config, [web, email])
        truth.append(_truth(pop, "event", events["message_id"], event_person))
    return DemoChunk(
        people=pop.frame, crm=crm, orders=orders.frame, events=events,
        truth=pd.concat(truth, ignore_index=True),
    )  # fmt: skip


def generate_chunks(config: GeneratorConfig, *, chunk_people: int = 20_000) -> Iterator[DemoChunk]:
    """Yield the data in chunks of people (DataFrames), for writers and bulk loaders.

    The same config and chunk_people always give the same chunks: chunk i draws from
    SeedSequence(seed, spawn_key=(0, i)). Ids and e-mail addresses are unique across chunks.
    """
    if chunk_people < 1:
        raise ValueError("chunk_people must be >= 1")
    catalog_rng = np.random.default_rng(
        np.random.SeedSequence(config.seed, spawn_key=(CATALOG_STREAM,))
    )
    setup = _Setup(
        config=config,
        catalog=Catalog.build(catalog_rng),
        clock=ActivityClock.build(as_of=config.as_of, history_days=config.history_days),
        budget=setup_budget(config),
    )
    registry = EmailRegistry()
    first_order = 0
    for index, start in enumerate(range(0, config.people, chunk_people)):
        count = min(chunk_people, config.people - start)
        chunk = _chunk(setup, index, start, count, registry, first_order)
        first_order += len(chunk.orders)
        yield chunk
