"""CLI: process every pending event now (e.g. after a bulk load, or with no worker running)."""

from __future__ import annotations

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
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        pending = Event.objects.filter(status=Event.Status.PENDING)
        total = pending.count()
        done = failed = 0
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
        self.stdout.write(f"Processed {done} events, {failed} failed attempts.")
