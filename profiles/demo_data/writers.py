"""Demo data: writing a generated dataset to CSV / NDJSON files with a manifest."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .generator import GENERATOR_VERSION, DemoChunk, GeneratorConfig, generate_chunks, setup_budget

CSV_FILES = {"crm.csv": "crm", "orders.csv": "orders", "truth.csv": "truth", "people.csv": "people"}
EVENTS_FILE = "events.ndjson"
MANIFEST_FILE = "manifest.json"
MESSAGE_KEYS = (  # frame column -> Segment message key, in the order they are written
    ("message_id", "messageId"), ("type", "type"), ("event", "event"), ("name", "name"),
    ("user_id", "userId"), ("anonymous_id", "anonymousId"), ("timestamp", "timestamp"),
    ("properties", "properties"), ("context", "context"), ("traits", "traits"),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class DatasetManifest:
    """What write_dataset wrote: the config, rows per file and the generator version."""

    generator_version: str
    as_of: str
    config: dict[str, Any]
    chunk_people: int
    event_window_days: float | None
    counts: dict[str, int]  # data rows per file (CSV headers not counted)
    bytes: dict[str, int]

    def to_json(self) -> str:
        """The manifest as indented JSON text."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def segment_messages(events: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """The events frame as Segment-spec message dicts (absent values left out)."""
    stamps = events["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    text = np.datetime_as_string(stamps.to_numpy().astype("datetime64[ms]"), unit="ms")
    columns = [
        [f"{t}Z" for t in text.tolist()] if name == "timestamp" else events[name].tolist()
        for name, _key in MESSAGE_KEYS
    ]
    keys = [key for _name, key in MESSAGE_KEYS]
    for values in zip(*columns, strict=True):
        yield {key: value for key, value in zip(keys, values, strict=True) if value is not None}


def _write_events(handle: IO[str], events: pd.DataFrame) -> None:
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
    handle.writelines(f"{encoder.encode(message)}\n" for message in segment_messages(events))


def _config_json(config: GeneratorConfig) -> dict[str, Any]:
    values = dataclasses.asdict(config)
    values["as_of"] = config.as_of.isoformat()
    return values


def _write_chunk(handles: dict[str, IO[str]], chunk: DemoChunk, *, header: bool) -> None:
    for file_name, attribute in CSV_FILES.items():
        frame: pd.DataFrame = getattr(chunk, attribute)
        frame.to_csv(handles[file_name], header=header, index=False, lineterminator="\n")
    _write_events(handles[EVENTS_FILE], chunk.events)


def write_dataset(
    config: GeneratorConfig, out_dir: Path, *, progress: Callable[[int, int], None] | None = None,
    chunk_people: int = 20_000,
) -> DatasetManifest:  # fmt: skip
    """Write crm.csv, orders.csv, events.ndjson, truth.csv, people.csv, manifest.json into out_dir.

    Files are UTF-8 with "\\n" line ends; CSV blanks are missing values (read them back with
    dtype=str, keep_default_na=False). Existing files of these names are replaced; the
    manifest is written last. `progress(done, total)` is called with people counts after
    every chunk.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys([*CSV_FILES, EVENTS_FILE], 0)
    names = [*CSV_FILES, EVENTS_FILE]
    handles = {name: (out_dir / name).open("w", encoding="utf-8", newline="") for name in names}
    done = 0
    try:
        for index, chunk in enumerate(generate_chunks(config, chunk_people=chunk_people)):
            _write_chunk(handles, chunk, header=index == 0)
            for file_name, attribute in CSV_FILES.items():
                counts[file_name] += len(getattr(chunk, attribute))
            counts[EVENTS_FILE] += len(chunk.events)
            done += len(chunk.people)
            if progress is not None:
                progress(done, config.people)
    finally:
        for handle in handles.values():
            handle.close()
    budget = setup_budget(config)
    manifest = DatasetManifest(
        generator_version=GENERATOR_VERSION,
        as_of=config.as_of.isoformat(),
        config=_config_json(config),
        chunk_people=chunk_people,
        event_window_days=budget.window_days if budget is not None else None,
        counts=counts,
        bytes={name: (out_dir / name).stat().st_size for name in names},
    )
    (out_dir / MANIFEST_FILE).write_text(manifest.to_json() + "\n", encoding="utf-8")
    return manifest
