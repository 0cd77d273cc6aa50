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
    # Segments whose own cron time came (or whose definition changed) are refreshed; a
    # per-segment cron is at minute resolution, so the sweep runs every minute.
    "segments-refresh-sweep": {
        "task": "segments.segments_refresh_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Nightly full recompute of computed traits: windows (30/90/365 days) age without events,
    # and it repairs anything an incremental refresh missed. Off-peak, before the RFM scoring.
    "segments-computed-traits-recompute": {
        "task": "segments.computed_traits_recompute",
        "schedule": crontab(minute="0", hour="2"),
        "options": {"expires": 3 * 3600},
    },
    # Nightly RFM and lifecycle scoring (quantiles rank everyone, so it is a batch job), after
    # the recompute has brought every profile's orders up to date.
    "segments-rfm-rescore": {
        "task": "segments.rfm_rescore",
        "schedule": crontab(minute="0", hour="3"),
        "options": {"expires": 3 * 3600},
    },
    # Campaign sends whose delay came due (abandoned cart after 15 min, quiet hours over) are
    # dispatched; also re-kicks dispatch after a lost message. Minute resolution is the
    # precision of delays, so every minute.
    "campaigns-sends-due-sweep": {
        "task": "campaigns.sends_due_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Sends a dead worker left "sending" past their lease (5 min) are requeued or, for email
    # already handed to the mail server, marked outcome_unknown. Every minute bounds the delay.
    "campaigns-sends-recover": {
        "task": "campaigns.sends_recover",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Event triggers whose PROFILES_CHANGED message was lost are fired from the events table;
    # a minute keeps a lost trigger within the precision of delays.
    "campaigns-event-triggers-sweep": {
        "task": "campaigns.event_triggers_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Schedule runner: one-off and recurring campaigns at minute resolution (send times are
    # wall-clock minutes), per recipient time zone.
    "campaigns-schedules-run": {
        "task": "campaigns.schedules_run",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Segment entries/exits no notification delivered are applied by comparing with the
    # segment in SQL; every 10 minutes (a full comparison per campaign costs more than a sweep).
    "campaigns-memberships-reconcile": {
        "task": "campaigns.memberships_reconcile",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 590},
    },
    # Results (conversions, uplift, charts) of live campaigns; every 15 minutes is fresher than
    # any decision needs, and each refresh is one SQL pass over the campaign's assignments.
    "campaigns-results-refresh": {
        "task": "campaigns.results_refresh",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Product recommendations from the last 180 days of views and purchases, nightly off-peak
    # (after the segments jobs), as tastes change slowly.
    "campaigns-recommendations-refresh": {
        "task": "campaigns.recommendations_refresh",
        "schedule": crontab(minute="30", hour="4"),
        "options": {"expires": 3 * 3600},
    },
    # Privacy request jobs (export, erasure ...) a lost message or a dead worker left queued or
    # running: their state is on the request row. Every 5 minutes against a 10-minute lease.
    "consent-dsr-sweep": {
        "task": "consent.dsr_sweep",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 290},
    },
    # Daily digest to privacy officers of requests due within a week or overdue; deadlines are
    # counted in days, so once a day (morning, UTC) is enough and never spams.
    "consent-dsr-deadlines-remind": {
        "task": "consent.dsr_deadlines_remind",
        "schedule": crontab(minute="0", hour="7"),
        "options": {"expires": 3 * 3600},
    },
    # Retention purge (e.g. raw page views after 13 months): rules are in days, so nightly,
    # off-peak and before the segments jobs at 02:00, with counts in the audit log.
    "consent-retention-purge": {
        "task": "consent.retention_purge",
        "schedule": crontab(minute="15", hour="1"),
        "options": {"expires": 3 * 3600},
    },
    # Expired verification codes and access archives are deleted: codes live 30 minutes and
    # archives 7 days, so every 15 minutes keeps nothing long past its expiry.
    "consent-privacy-housekeeping": {
        "task": "consent.privacy_housekeeping",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Identity resolution: match profiles touched since the last run (incremental, with the
    # stored model), fail runs whose worker died, re-kick lost ones. Every 15 minutes keeps
    # the review queue fresh without re-reading all profiles too often.
    "profiles-identities-resolve": {
        "task": "profiles.identities_resolve",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 840},
    },
    # ML runs (clustering, training) a lost message or a dead worker left queued or running;
    # their state is on the ModelRun row. Every 5 minutes against a 10-minute heartbeat lease.
    "segments-ml-runs-sweep": {
        "task": "segments.model_runs_sweep",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 290},
    },
    # Dynamic clusters: profiles new or changed since the last pass are assigned with the
    # stored model (Mini-Batch models also learn from them). Hourly, at :20, after most
    # computed-trait refreshes and away from the minute sweeps.
    "segments-ml-clusters-rescore": {
        "task": "segments.clusters_rescore",
        "schedule": crontab(minute="20"),
        "options": {"expires": 55 * 60},
    },
    # Centroid drift of each dynamic clustering against its last trained model; a shift past
    # the definition's threshold (default 10%) queues a retrain. Daily, after the 02:00
    # computed-traits recompute has aged every profile's windows.
    "segments-ml-clusters-drift": {
        "task": "segments.clusters_drift_check",
        "schedule": crontab(minute="40", hour="3"),
        "options": {"expires": 3 * 3600},
    },
    # Churn/propensity scores of every customer with the stored models (features move daily:
    # recency grows). Nightly after the recompute and RFM scoring, before campaigns run.
    "segments-ml-score": {
        "task": "segments.predictive_score",
        "schedule": crontab(minute="10", hour="4"),
        "options": {"expires": 3 * 3600},
    },
    # Retrain every active churn, propensity and CLV model with the latest week of outcomes;
    # weekly (Sunday night) is enough for behaviour that shifts over months, and its metrics
    # are kept per run so their trend shows on the model's page.
    "segments-ml-retrain": {
        "task": "segments.predictive_retrain",
        "schedule": crontab(minute="0", hour="5", day_of_week="sun"),
        "options": {"expires": 6 * 3600},
    },
}
