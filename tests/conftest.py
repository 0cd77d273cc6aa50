"""Shared fixtures: write keys, role users, API clients. Fixtures return what they build."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.test import APIClient

import pytest

from cdp.core.actor import Actor
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER
from profiles.models import Source
from profiles.services.sources import source_create


def basic(key: str) -> str:
    """The Authorization header a Segment SDK sends for write key `key`."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.fixture
def actor() -> Actor:
    return Actor(user_id=None, label="test")


@pytest.fixture
def source_and_key(db) -> tuple[Source, str]:
    source, issued = source_create(name="web", actor=Actor(user_id=None, label="test"))
    return source, issued.plain


@pytest.fixture
def write_key(source_and_key) -> str:
    return source_and_key[1]


@pytest.fixture
def tracking_client(write_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(write_key))
    return client


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(role: str | None, username: str | None = None) -> User:
        name = username or (role or "norole").lower().replace(" ", "_")
        user = User.objects.create_user(name, f"{name}@staff.example", "pw-" + name, is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def api_client_for(make_user) -> Callable[[str | None], APIClient]:
    def client_for(role: str | None) -> APIClient:
        client = APIClient()
        client.force_authenticate(make_user(role))
        return client

    return client_for


ROLES = (MARKETER, PRIVACY_OFFICER, INTEGRATION_ADMIN)


REDIS_URL = os.environ.get("REDIS_URL", "")
ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked `redis` need a broker; without REDIS_URL they are reported as skipped with
    the reason (they run in the PostgreSQL + Redis pass of .ci/run). Tests marked `postgres`
    are skipped the same way on SQLite."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        on_sqlite = "needs PostgreSQL: runs in the PostgreSQL pass of .ci/run"
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=on_sqlite))
    if REDIS_URL:
        return
    reason = "needs REDIS_URL: runs in the PostgreSQL + Redis pass of .ci/run"
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def _database_url() -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """A real `celery worker` process on REDIS_URL against the test database; stop/start it
    to simulate a dead worker or an outage."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from cdp.celery import app as celery_app

        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "celery"),
                "-A",
                "cdp",
                "worker",
                "--pool=threads",
                "--concurrency=2",
                "-Q",
                "cdp",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not celery_app.control.ping(timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail("the Celery worker did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


@pytest.fixture
def celery_worker(transactional_db):
    """A started WorkerProcess. The queue is purged first (messages of earlier runs must not
    leak in); tasks the test publishes go to Redis (eager mode is off meanwhile)."""
    from cdp.celery import app as celery_app

    celery_app.control.purge()
    env = {
        **os.environ,
        "CDP_CELERY_EAGER": "0",
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "cdp.settings.test",
        "PYTHONUNBUFFERED": "1",
    }
    worker = WorkerProcess(env)
    worker.start()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield worker
    celery_app.conf.task_always_eager = previous
    worker.stop()


def wait_until(predicate, *, timeout: float = 20.0, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return bool(value)
        time.sleep(interval)
