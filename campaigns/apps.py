"""Wiring: the campaigns app — topic subscriptions and the privacy handler."""

from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from cdp.core import jobs
        from cdp.core.privacy import privacy_handler_register

        from . import tasks
        from .services.privacy import HANDLER

        jobs.subscribe(jobs.PROFILES_CHANGED, tasks.event_triggers_fire_task)
        jobs.subscribe(jobs.SEGMENT_MEMBERSHIP_CHANGED, tasks.segment_membership_changed_task)
        jobs.subscribe(jobs.CONSENT_CHANGED, tasks.consent_changed_task)
        jobs.subscribe(jobs.CAMPAIGN_SENDS_DUE, tasks.sends_dispatch_task)
        privacy_handler_register(HANDLER)
