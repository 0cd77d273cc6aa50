"""Core kernel: keep the role groups' model permissions in step with ROLES after each migrate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .roles import ROLES


def roles_sync() -> dict[str, int]:
    """Give each role group exactly the permissions ROLES names that exist. Idempotent."""
    granted: dict[str, int] = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.name)
        wanted = Q(pk__in=[])
        for dotted in (*role.capabilities, *role.model_permissions):
            app_label, codename = dotted.split(".", 1)
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(wanted))
        group.permissions.set(permissions)
        granted[role.name] = len(permissions)
    return granted


def roles_sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate receiver (also after test flushes): permissions of every app so far."""
    roles_sync()
