"""The publish-on-commit kernel: id lists published after commit, directly or coalesced by the
per-process background publisher."""

import threading

from django.db import transaction

import pytest

from cdp.celery import app as celery_app
from cdp.core import jobs
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db


class Recorder:
    name = "tests.recorder"

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[dict] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def apply_async(self, *, kwargs, kwargsrepr=None):
        with self.lock:
            if self.fail_first:
                self.fail_first -= 1
                raise ConnectionError("broker down")
            self.calls.append(kwargs)

    def ids(self) -> list[int]:
        with self.lock:
            return sorted(i for call in self.calls for i in call["event_ids"])


@pytest.fixture
def recorder(monkeypatch):
    recorder = Recorder()
    monkeypatch.setitem(jobs._subscribers, jobs.EVENTS_RECEIVED, [recorder])
    return recorder


@pytest.fixture
def broker_mode(settings):
    """Celery not eager, as with a real broker; the publisher coalesces over 50 ms."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    settings.CDP_PUBLISH_COALESCE_MS = 50
    yield
    celery_app.conf.task_always_eager = previous


def test_eager_mode_publishes_after_commit_in_chunks(recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        jobs.publish_ids_on_commit(jobs.EVENTS_RECEIVED, "event_ids", list(range(1, 1201)))
        assert recorder.calls == []  # nothing before commit

    assert [len(call["event_ids"]) for call in recorder.calls] == [500, 500, 200]
    assert recorder.ids() == list(range(1, 1201))


def test_with_a_broker_many_small_commits_are_published_as_few_messages(
    recorder, broker_mode, django_capture_on_commit_callbacks
):
    for start in range(0, 300, 3):
        with django_capture_on_commit_callbacks(execute=True):
            jobs.publish_ids_on_commit(
                jobs.EVENTS_RECEIVED, "event_ids", [start + 1, start + 2, start + 3]
            )
    jobs.publish_flush()

    assert recorder.ids() == list(range(1, 301))
    assert len(recorder.calls) < 100  # 100 commits, coalesced
    assert all(len(call["event_ids"]) <= 500 for call in recorder.calls)


def _publish_then_fail() -> None:
    with transaction.atomic():
        jobs.publish_ids_on_commit(jobs.EVENTS_RECEIVED, "event_ids", [1, 2])
        raise RuntimeError("rollback")


def test_a_rolled_back_transaction_publishes_nothing(recorder, broker_mode):
    with pytest.raises(RuntimeError):
        _publish_then_fail()
    jobs.publish_flush()

    assert recorder.calls == []


def test_a_failed_publish_is_logged_and_the_publisher_keeps_going(
    monkeypatch, broker_mode, django_capture_on_commit_callbacks, caplog
):
    recorder = Recorder(fail_first=1)
    monkeypatch.setitem(jobs._subscribers, jobs.EVENTS_RECEIVED, [recorder])

    with django_capture_on_commit_callbacks(execute=True):
        jobs.publish_ids_on_commit(jobs.EVENTS_RECEIVED, "event_ids", [7])
    jobs.publish_flush()
    assert recorder.calls == []  # lost, as a broker outage loses it: the sweeper re-kicks
    assert "publish_failed" in caplog.text

    with django_capture_on_commit_callbacks(execute=True):
        jobs.publish_ids_on_commit(jobs.EVENTS_RECEIVED, "event_ids", [8])
    assert wait_until(lambda: recorder.ids() == [8], timeout=5)
