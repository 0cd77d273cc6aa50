"""Wiring: the consent app — its privacy handler and the task that runs privacy requests."""

from __future__ import annotations

from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent and privacy"

    def ready(self) -> None:
        from cdp.core import jobs
        from cdp.core.privacy import privacy_handler_register

        from . import tasks
        from .services.privacy_handler import HANDLER

        jobs.subscribe(jobs.DSR_EXECUTION_REQUESTED, tasks.dsr_run_task)
        privacy_handler_register(HANDLER)
