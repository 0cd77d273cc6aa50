"""CLI: import a CRM, orders or events file (CSV or NDJSON, optionally .gz) with progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tqdm import tqdm

from cdp.core.actor import Actor
from cdp.core.errors import DomainError
from profiles.models import ImportRun
from profiles.selectors import source_get_by_name
from profiles.services.imports import import_create, import_run_execute, parse_mapping


class Command(BaseCommand):
    help = (
        "Import a file through the same path as the API. Canonical columns are listed in the "
        "README; --map canonical=FileColumn,... renames the file's columns."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", required=True, help="source name")
        parser.add_argument("--kind", required=True, choices=["crm", "orders", "events"])
        parser.add_argument(
            "--map", default="", dest="mapping", help="e.g. first_name=GivenName,email=Mail"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        source = source_get_by_name(options["source"])
        if source is None:
            raise CommandError(
                f"No source named {options['source']!r}; create it with "
                "`manage.py create_source NAME`."
            )
        actor = Actor(user_id=None, label="cli")
        try:
            run = import_create(
                source_id=source.pk,
                kind=options["kind"],
                upload=path,
                mapping=parse_mapping(options["mapping"]),
                actor=actor,
                start=False,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if run.state == ImportRun.State.MAPPING:
            raise CommandError(
                f"Import #{run.pk}: required columns are missing from {path.name}; "
                "map them with --map canonical=FileColumn."
            )
        state = self._run(run, disable=options["no_progress"])
        run.refresh_from_db()
        self.stdout.write(
            f"Import #{run.pk} {state}: read {run.rows_read}, stored {run.rows_stored}, "
            f"quarantined {run.rows_quarantined}, duplicates {run.rows_duplicate}, "
            f"suppressed {run.rows_suppressed}."
        )
        if state != ImportRun.State.SUCCEEDED:
            raise CommandError(f"Import #{run.pk} failed: {run.error}")

    def _run(self, run: ImportRun, *, disable: bool) -> str:
        with tqdm(
            total=run.bytes_total, unit="B", unit_scale=True, desc=run.file_name, disable=disable
        ) as bar:

            def progress(current: ImportRun) -> None:
                bar.update(current.bytes_read - bar.n)
                bar.set_postfix(rows=current.rows_read, quarantined=current.rows_quarantined)

            state = import_run_execute(import_run_id=run.pk, progress=progress)
            bar.update(run.bytes_total - bar.n)
        return state
