"""Wiring: the profiles app — task subscriptions to topics."""

from __future__ import annotations

from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        from cdp.core import jobs

        from . import tasks
        from .services.privacy import privacy_register

        jobs.subscribe(jobs.EVENTS_RECEIVED, tasks.events_process_task)
        jobs.subscribe(jobs.IMPORT_REQUESTED, tasks.import_run_task)
        jobs.subscribe(jobs.RESOLUTION_REQUESTED, tasks.identities_resolve_task)
        privacy_register()  # export/erase handler and the providers consent calls
