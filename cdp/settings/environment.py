"""Settings layer: the environment reader and the run-mode guard every settings module shares."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

MODE = env.str("CDP_MODE", default="embedded")
if MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured(f"CDP_MODE must be 'embedded' or 'production', not {MODE!r}")
IS_PRODUCTION = MODE == "production"

PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "CDP_HASH_KEY")

if IS_PRODUCTION:
    _missing = [name for name in PRODUCTION_REQUIRED if not env.str(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            "CDP_MODE=production needs these environment variables: " + ", ".join(_missing)
        )
