"""Core kernel: who did something — a user or the system — as passed to every service."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from rest_framework.request import Request


@dataclass(frozen=True, kw_only=True)
class Actor:
    """The author of a change, recorded in audit rows. `user_id` is None for the system."""

    user_id: int | None
    label: str
    ip_address: str | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None


SYSTEM = Actor(user_id=None, label="system")


def actor_from(request: HttpRequest | Request) -> Actor:
    """Build the Actor of an authenticated request (admin or API)."""
    user = request.user
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR") or None
    if user is None or not user.is_authenticated:
        return Actor(user_id=None, label="anonymous", ip_address=ip)
    return Actor(user_id=user.pk, label=user.get_username(), ip_address=ip)
