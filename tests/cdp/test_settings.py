import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "CDP_MODE": "production",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "cdp.example.com",
    "CDP_HASH_KEY": "hash-key-for-the-check",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENV
        and key not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "cdp.settings.base"},
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_and_names_every_missing_variable():
    result = _manage("check", env={"CDP_MODE": "production", "REDIS_URL": "redis://x"})

    assert result.returncode != 0
    assert (
        "CDP_MODE=production needs these environment variables: SECRET_KEY, DATABASE_URL, "
        "ALLOWED_HOSTS, CDP_HASH_KEY"
    ) in result.stderr


def test_check_deploy_is_clean_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_an_unknown_mode_is_refused():
    result = _manage("check", env={"CDP_MODE": "staging"})

    assert result.returncode != 0
    assert "CDP_MODE must be 'embedded' or 'production'" in result.stderr
