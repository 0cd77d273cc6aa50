"""Settings layer: Celery. Redis from REDIS_URL; without it, tasks run eagerly in-process."""

from __future__ import annotations

from celery.schedules import crontab

from .environment import IS_PRODUCTION, env

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not IS_PRODUCTION and not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A task is acknowledged only after it ran, and re-queued when its worker dies, so a crash
# repeats work (tasks are idempotent) instead of losing it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers unacknowledged messages after the visibility timeout; Celery reads it from
# three places and uses the smallest, so it is set in all three.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = "cdp"

# Beat schedules: crontab only, every entry expires before its next run so a backlog never
# piles up duplicate sweeps.
CELERY_BEAT_SCHEDULE = {
    # Re-enqueue events still pending after their lease: a lost broker message costs a minute.
    "profiles-events-sweep": {
        "task": "profiles.events_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Imports whose worker died are re-kicked; their state lives in the ImportRun row.
    "profiles-imports-sweep": {
        "task": "profiles.imports_sweep",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 290},
    },
}
