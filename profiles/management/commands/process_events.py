"""CLI: process every pending event now (e.g. after a bulk load, or with no worker running)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tqdm import tqdm

from profiles.models import Event
from profiles.services.processing import events_process


class Command(BaseCommand):
    help = "Process pending events in micro-batches, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=settings.CDP_PROCESS_BATCH_SIZE)
        parser.add_argument(
            "--limit", type=int, default=0, help="stop after about this many events (0: all)"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        pending = Event.objects.filter(status=Event.Status.PENDING)
        total = pending.count()
        if options["limit"] > 0:
            total = min(total, options["limit"])
        done = failed = 0
        started = time.monotonic()
        with tqdm(total=total, unit="ev", disable=options["no_progress"]) as bar:
            while True:
                ids = list(pending.order_by("pk").values_list("pk", flat=True)[: options["batch"]])
                if not ids:
                    break
                outcome = events_process(event_ids=ids)
                done += outcome.processed
                failed += outcome.failed
                bar.update(len(ids))
                if outcome.processed == 0 and outcome.failed == 0:
                    break  # everything left is locked by a worker
                if options["limit"] > 0 and done + failed >= options["limit"]:
                    break
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Processed {done} events, {failed} failed attempts in {elapsed:.2f} s "
            f"({done / max(elapsed, 1e-9):.0f} events/s)."
        )
