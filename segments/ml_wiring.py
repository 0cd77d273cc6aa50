"""Wiring (ML): subscribe the run executor to MODEL_RUN_REQUESTED and register the privacy
handler of cluster assignments and model scores. Called from SegmentsConfig.ready()."""

from __future__ import annotations

from cdp.core import jobs
from cdp.core.privacy import PrivacyHandler, privacy_handler_register

from . import tasks_ml
from .services.ml.privacy import APP, ml_erase, ml_export


def connect() -> None:
    """Idempotent: subscribing or registering twice keeps one entry."""
    jobs.subscribe(jobs.MODEL_RUN_REQUESTED, tasks_ml.model_run_execute_task)
    privacy_handler_register(PrivacyHandler(app=APP, export=ml_export, erase=ml_erase, order=160))
