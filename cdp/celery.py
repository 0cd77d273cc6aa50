"""Entry point: the Celery application, configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings.base")

app = Celery("cdp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.visibility_timeout = app.conf.broker_transport_options.get("visibility_timeout", 3600)
app.autodiscover_tasks()
