"""Wiring: the segments app — task subscriptions to topics and the privacy handler."""

from __future__ import annotations

from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from cdp.core import jobs
        from cdp.core.privacy import PrivacyHandler, privacy_handler_register

        from . import tasks
        from .services.privacy import memberships_erase, memberships_export

        jobs.subscribe(jobs.PROFILES_CHANGED, tasks.segments_realtime_evaluate_task)
        jobs.subscribe(jobs.CONSENT_CHANGED, tasks.segments_realtime_consent_task)
        jobs.subscribe(jobs.SEGMENT_REFRESH_REQUESTED, tasks.segment_refresh_task)
        jobs.subscribe(jobs.COMPUTED_TRAITS_REQUESTED, tasks.custom_traits_compute_task)
        privacy_handler_register(
            PrivacyHandler(
                app="segments", export=memberships_export, erase=memberships_erase, order=150
            )
        )
        from . import ml_wiring  # ML runs, assignments and scores (issue 5)

        ml_wiring.connect()
