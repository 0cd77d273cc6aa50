"""CLI: write the seeded demo/benchmark retailer (CRM, orders, events, ground truth) to files."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tqdm import tqdm

from profiles.demo_data.generator import GeneratorConfig
from profiles.demo_data.writers import write_dataset


class Command(BaseCommand):
    help = (
        "Write crm.csv, orders.csv, events.ndjson (Segment messages), people.csv and truth.csv "
        "(the true person and persona of every record) for N people. Deterministic for a seed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument(
            "--as-of", default=None, help="YYYY-MM-DD: the data's today (default: today, UTC)"
        )
        parser.add_argument("--events-per-person", type=float, default=20.0)
        parser.add_argument("--no-events", action="store_true")
        parser.add_argument("--duplicate-rate", type=float, default=0.12)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = (
                datetime.date.fromisoformat(options["as_of"])
                if options["as_of"]
                else datetime.datetime.now(datetime.UTC).date()
            )
            config = GeneratorConfig(
                people=options["people"],
                seed=options["seed"],
                as_of=as_of,
                events=not options["no_events"],
                events_per_person=options["events_per_person"],
                duplicate_rate=options["duplicate_rate"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        started = time.monotonic()
        with tqdm(total=config.people, unit="people", disable=options["no_progress"]) as bar:
            manifest = write_dataset(
                config, options["out"], progress=lambda done, total: bar.update(done - bar.n)
            )
        counts = ", ".join(f"{name} {count:,}" for name, count in manifest.counts.items())
        self.stdout.write(
            f"Wrote {counts} to {options['out']} in {time.monotonic() - started:.1f} s."
        )
