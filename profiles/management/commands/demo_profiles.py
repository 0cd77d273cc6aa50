"""CLI: create the demo sources and load generated demo data through the real import and
ingestion paths (CRM and orders files through imports, web events through events_ingest)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from tqdm import tqdm

from cdp.core.actor import Actor
from profiles.models import Source
from profiles.services.imports import import_create, import_run_execute
from profiles.services.ingest import IngestOptions, events_ingest
from profiles.services.sources import source_create

DEMO_SOURCES = (  # name, kind, trust (survivorship: CRM beats shop beats web)
    ("crm", Source.Kind.CRM, 80),
    ("shop", Source.Kind.SHOP, 70),
    ("web", Source.Kind.HTTP, 40),
)
BATCH = 500


class Command(BaseCommand):
    help = "Load the demo retailer: sources, CRM and orders imports, web events via ingestion."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--events-per-person", type=float, default=12.0)
        parser.add_argument("--out", type=Path, default=Path(settings.VAR_DIR) / "demo-data")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(user_id=None, label="demo")
        keys = self._sources(actor)
        out: Path = options["out"]
        today = datetime.datetime.now(datetime.UTC).date()
        call_command(
            "generate_demo_data",
            people=options["people"],
            seed=options["seed"],
            out=out,
            as_of=today.isoformat(),
            events_per_person=options["events_per_person"],
            stdout=self.stdout,
        )
        for kind, source, file_name in (
            ("crm", "crm", "crm.csv"),
            ("orders", "shop", "orders.csv"),
        ):
            run = import_create(
                source_id=Source.objects.get(name=source).pk,
                kind=kind,
                upload=out / file_name,
                actor=actor,
                start=False,
            )
            import_run_execute(import_run_id=run.pk)
            run.refresh_from_db()
            self.stdout.write(
                f"Imported {file_name}: stored {run.rows_stored}, "
                f"quarantined {run.rows_quarantined}."
            )
        self._events(out / "events.ndjson")
        if keys:
            self.stdout.write("Write keys of the demo sources (shown once):")
            for name, key in keys.items():
                self.stdout.write(f"  {name}: {key}")

    def _sources(self, actor: Actor) -> dict[str, str]:
        keys = {}
        for name, kind, trust in DEMO_SOURCES:
            if not Source.objects.filter(name=name).exists():
                _, issued = source_create(name=name, kind=kind, trust=trust, actor=actor)
                keys[name] = issued.plain
        return keys

    def _events(self, path: Path) -> None:
        web = Source.objects.get(name="web")
        lines = path.read_text().splitlines()
        accepted = 0
        with tqdm(total=len(lines), unit="events", desc="web events") as bar:
            for start in range(0, len(lines), BATCH):
                messages = [json.loads(line) for line in lines[start : start + BATCH]]
                # Historic events: no clock-skew correction (that is for live SDK calls).
                result = events_ingest(
                    source_id=web.pk, messages=messages, options=IngestOptions(correct_skew=False)
                )
                accepted += result.accepted
                bar.update(len(messages))
        self.stdout.write(f"Ingested {accepted} web events.")
