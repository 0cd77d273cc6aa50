"""Wiring: the core app (audit, jobs, roles) and the CDP admin site."""

from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    default = True
    name = "cdp.core"
    label = "core"
    verbose_name = "CDP core"

    def ready(self) -> None:
        from cdp import celery  # noqa: F401  (binds shared tasks to the configured app)
        from cdp.core import checks  # noqa: F401  (registers system checks)
        from cdp.core.role_sync import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="cdp.core.roles_sync")


class CdpAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "cdp.core.admin_site.CdpAdminSite"
