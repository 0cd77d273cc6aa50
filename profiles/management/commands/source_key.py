"""CLI: rotate or revoke a source's write keys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cdp.core.actor import Actor
from cdp.core.errors import DomainError
from profiles.selectors import source_get_by_name
from profiles.services.sources import write_key_revoke, write_key_rotate


class Command(BaseCommand):
    help = "rotate: issue a new key (printed last) and revoke the old; revoke: revoke keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rotate", "revoke"])
        parser.add_argument("source", help="source name")
        parser.add_argument(
            "--keep-previous",
            action="store_true",
            help="rotate without revoking the older keys (grace period)",
        )
        parser.add_argument("--prefix", default=None, help="revoke only the key with this prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        source = source_get_by_name(options["source"])
        if source is None:
            raise CommandError(f"No source named {options['source']!r}.")
        actor = Actor(user_id=None, label="cli")
        try:
            if options["action"] == "rotate":
                issued = write_key_rotate(
                    source_id=source.pk, actor=actor, revoke_previous=not options["keep_previous"]
                )
                self.stdout.write("New write key (shown once):")
                self.stdout.write(issued.plain)
            else:
                count = write_key_revoke(source_id=source.pk, actor=actor, prefix=options["prefix"])
                self.stdout.write(f"Revoked {count} key(s) of {source.name!r}.")
        except DomainError as exc:
            raise CommandError(exc.message) from exc
