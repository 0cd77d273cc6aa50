"""CLI: pseudonymise identifier columns of a CSV file (for analytics and ML exports)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.services.pseudonyms import pseudonymise_rows


class Command(BaseCommand):
    help = (
        "Copy a CSV file with identifier columns replaced by keyed-hash pseudonyms: "
        "pseudonymise_csv in.csv out.csv --column email=email --column customer=user_id"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path)
        parser.add_argument("target", type=Path)
        parser.add_argument(
            "--column",
            action="append",
            required=True,
            help="COLUMN=TYPE: a column to pseudonymise and its identifier type",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        columns: dict[str, str] = {}
        for item in options["column"]:
            column, sep, kind = item.partition("=")
            if not sep or not column or not kind:
                raise CommandError(f"Write --column COLUMN=TYPE, not {item!r}.")
            columns[column] = kind
        source: Path = options["source"]
        with source.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            missing = sorted(set(columns) - set(header))
            if missing:
                raise CommandError(f"No such column(s) in {source.name}: {', '.join(missing)}.")
            rows = 0
            with options["target"].open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=header)
                writer.writeheader()
                for row in pseudonymise_rows(reader, columns=columns):
                    writer.writerow(row)
                    rows += 1
        self.stdout.write(f"{rows} row(s) written with {len(columns)} column(s) pseudonymised.")
