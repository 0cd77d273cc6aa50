"""Settings layer: test overrides — fast hashing, eager Celery without a broker, locmem mail."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Eager in the test process; a real worker subprocess (tests marked `redis`) sets
# CDP_CELERY_EAGER=0 and consumes from REDIS_URL against the same test database.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CDP_CELERY_EAGER", "1") != "0"
CELERY_BROKER_URL = REDIS_URL or "memory://"
CDP_HASH_KEY = "test-hash-key"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = os.environ.get("CDP_TEST_MEDIA_ROOT", "/tmp/cdp-test-media")  # noqa: S108
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a live server, a Celery worker process and an outage
    # simulation (closing and re-pointing the connection) all see the same test database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("CDP_TEST_SQLITE", "/tmp/cdp-test.sqlite3")  # noqa: S108
    }
CDP_ROBUST_ON_COMMIT = False
