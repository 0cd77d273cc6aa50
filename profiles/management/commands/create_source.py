"""CLI: create a source; the new write key is printed on the last line, and shown only once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cdp.core.actor import Actor
from cdp.core.errors import DomainError
from profiles.models import Source
from profiles.services.sources import source_create


class Command(BaseCommand):
    help = "Create a source and print its write key (last line). The key is not stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", default=Source.Kind.HTTP, choices=Source.Kind.values)
        parser.add_argument(
            "--trust",
            type=int,
            default=50,
            help="0-100: values from more trusted sources win survivorship",
        )
        parser.add_argument(
            "--phone-region",
            default="",
            help="ISO country for phone numbers without a country code",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source, issued = source_create(
                name=options["name"],
                kind=options["kind"],
                trust=options["trust"],
                default_phone_region=options["phone_region"],
                actor=Actor(user_id=None, label="cli"),
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created source {source.name!r} (id {source.pk}).")
        self.stdout.write("Write key (shown once; send it as the HTTP Basic user):")
        self.stdout.write(issued.plain)
