"""Settings layer: everything, driven by the environment; embedded defaults need no variables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from .environment import BASE_DIR, IS_PRODUCTION, MODE, env  # noqa: F401 (MODE re-exported)

# --- core -----------------------------------------------------------------------------------
# Embedded mode only: production refuses to start without SECRET_KEY.
_EMBEDDED_SECRET = "embedded-insecure-secret-key-change-me-for-any-real-deployment-0123456789"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_EMBEDDED_SECRET)
DEBUG = (not IS_PRODUCTION) and env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

VAR_DIR = Path(env.str("CDP_VAR_DIR", default=str(BASE_DIR / "var")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_URL = "/static/"

INSTALLED_APPS = [
    "cdp.core.apps.CdpAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "cdp.core",
    "consent",
    "profiles",
    "segments",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cdp.core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cdp.urls"
WSGI_APPLICATION = "cdp.wsgi.application"
ASGI_APPLICATION = "cdp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cdp.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work beside the single writer; IMMEDIATE takes the write lock at BEGIN,
    # so concurrent writers queue on the busy timeout instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth, i18n -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if IS_PRODUCTION
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CDP <no-reply@localhost>")

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Per-task success lines drown everything else at ingestion rates.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": env.str("CELERY_TRACE_LOG_LEVEL", default="WARNING")},
    },
}

# --- CDP ------------------------------------------------------------------------------------
# Keyed hashes of identifiers (lookups, suppression, pseudonymised exports) and of write keys.
# Kept apart from SECRET_KEY so rotating the session secret does not orphan every hash.
CDP_HASH_KEY = env.str("CDP_HASH_KEY", default="embedded-hash-key-" + SECRET_KEY)
CDP_PUBLIC_URL = env.str("CDP_PUBLIC_URL", default="http://127.0.0.1:8000")
CDP_BASE_CURRENCY = env.str("CDP_BASE_CURRENCY", default="EUR")
# Units of the base currency per unit of each currency; a deployment sets its own table.
CDP_CURRENCY_RATES = {
    code: Decimal(rate)
    for code, rate in env.dict(
        "CDP_CURRENCY_RATES",
        default={
            "EUR": "1",
            "USD": "0.92",
            "GBP": "1.17",
            "CHF": "1.05",
            "JPY": "0.0061",
            "SEK": "0.087",
            "DKK": "0.134",
            "NOK": "0.085",
            "PLN": "0.23",
            "CAD": "0.68",
            "AUD": "0.61",
        },
    ).items()
}
CDP_DEFAULT_PHONE_REGION = env.str("CDP_DEFAULT_PHONE_REGION", default="US")
CDP_INGEST_MAX_MESSAGE_BYTES = 32 * 1024
CDP_INGEST_MAX_BATCH_BYTES = 500 * 1024
CDP_INGEST_MAX_BATCH_MESSAGES = 2500
# Events still pending this long after arrival are re-enqueued by the sweeper.
CDP_PENDING_LEASE_SECONDS = env.int("CDP_PENDING_LEASE_SECONDS", default=120)
CDP_PROCESS_BATCH_SIZE = env.int("CDP_PROCESS_BATCH_SIZE", default=500)
# Events of a person without analytics consent: keep | strip | drop (a source may override).
CDP_CONSENT_DEFAULT_POLICY = env.str("CDP_CONSENT_DEFAULT_POLICY", default="keep")
# Enqueue failures after commit are logged, not raised: the sweepers re-kick the rows.
CDP_ROBUST_ON_COMMIT = True
# New event ids are published to the broker by a background thread, at most once per this many
# milliseconds per process (0: one publish per request, from the request).
CDP_PUBLISH_COALESCE_MS = env.int("CDP_PUBLISH_COALESCE_MS", default=50)

from .celery import *  # noqa: E402, F403
from .drf import *  # noqa: E402, F403
from .security import *  # noqa: E402, F403

# --- campaigns ------------------------------------------------------------------------------
# Wall times (quiet hours, schedules) of people without a valid 'timezone' trait.
CDP_CAMPAIGN_DEFAULT_TIMEZONE = env.str("CDP_CAMPAIGN_DEFAULT_TIMEZONE", default="UTC")
# Outbox: rows claimed per batch, and how long a claim lasts before the sweeper recovers it
# (longer than a batch can take: batch / threads × timeout).
CDP_SEND_BATCH_SIZE = env.int("CDP_SEND_BATCH_SIZE", default=500)
CDP_SEND_LEASE_SECONDS = env.int("CDP_SEND_LEASE_SECONDS", default=300)
# One dispatch task stops claiming after this long; the next kick or sweep continues.
CDP_SEND_TIME_BUDGET_SECONDS = env.int("CDP_SEND_TIME_BUDGET_SECONDS", default=50)
# Webhooks: per-request timeout, parallel requests per worker, retries with backoff.
CDP_WEBHOOK_TIMEOUT = env.float("CDP_WEBHOOK_TIMEOUT", default=5.0)
CDP_WEBHOOK_THREADS = env.int("CDP_WEBHOOK_THREADS", default=16)
CDP_WEBHOOK_MAX_ATTEMPTS = env.int("CDP_WEBHOOK_MAX_ATTEMPTS", default=6)
CDP_WEBHOOK_BACKOFF_SECONDS = env.float("CDP_WEBHOOK_BACKOFF_SECONDS", default=30.0)
CDP_WEBHOOK_BACKOFF_MAX_SECONDS = env.float("CDP_WEBHOOK_BACKOFF_MAX_SECONDS", default=3600.0)
# Email: transient SMTP failures are retried like webhooks, up to this many attempts.
CDP_EMAIL_MAX_ATTEMPTS = env.int("CDP_EMAIL_MAX_ATTEMPTS", default=4)
# Emails handed to the mail server between two outbox commits: a worker dying in between
# leaves at most this many emails "outcome unknown" (never resent).
CDP_EMAIL_GROUP_SIZE = env.int("CDP_EMAIL_GROUP_SIZE", default=10)
# Campaign mail may use another backend than the site's (e.g. the file backend for a
# worker whose mail a test inspects); empty: EMAIL_BACKEND.
CDP_CAMPAIGN_EMAIL_BACKEND = env.str("CDP_CAMPAIGN_EMAIL_BACKEND", default="")
CDP_CAMPAIGN_EMAIL_FILE_PATH = env.str("CDP_CAMPAIGN_EMAIL_FILE_PATH", default="")
# Events older than this when processed do not fire triggers (e.g. a backfill of old carts).
CDP_TRIGGER_MAX_AGE_SECONDS = env.int("CDP_TRIGGER_MAX_AGE_SECONDS", default=86_400)
# Purposes a campaign may send under, and those a recipient manages on the preference page.
CDP_CAMPAIGN_PURPOSES = {
    "email_marketing": "Marketing emails",
    "sms_marketing": "Text messages (SMS)",
    "advertising": "Advertising and audience sharing",
    "personalisation": "Personalised content and offers",
    "service": "Service messages",
}
CDP_PREFERENCE_PURPOSES = ("email_marketing", "sms_marketing", "advertising", "personalisation")
