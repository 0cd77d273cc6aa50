"""Admin UI for campaigns (ModelAdmin browses; every write goes through a service)."""

from . import editor, outbox

__all__ = ["editor", "outbox"]
