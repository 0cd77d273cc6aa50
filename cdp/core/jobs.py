"""Core kernel: publish-on-commit topics, so lower apps can kick tasks of higher apps.

A topic is a name; apps subscribe Celery tasks to it in `AppConfig.ready()`. Publishing inside a
transaction enqueues only after commit, so a task never looks for rows that are not there yet,
and a rolled-back change enqueues nothing. Every message only kicks work whose state is in the
database; sweepers re-kick what a lost message left behind.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

# Topics (<APP>_<PAST_EVENT>). Payloads are keyword arguments of ints, strings, lists of ints.
EVENTS_RECEIVED = "EVENTS_RECEIVED"  # event_ids: new rows to process
PROFILES_CHANGED = "PROFILES_CHANGED"  # profile_ids, event_ids: processed events touched these
PROFILES_MERGED = "PROFILES_MERGED"  # survivor_id, absorbed_id, merge_id
PROFILES_UNMERGED = "PROFILES_UNMERGED"  # survivor_id, restored_id, merge_id
IMPORT_REQUESTED = "IMPORT_REQUESTED"  # import_run_id
SEGMENT_MEMBERSHIP_CHANGED = "SEGMENT_MEMBERSHIP_CHANGED"  # segment_id, entered_ids, exited_ids
CONSENT_CHANGED = "CONSENT_CHANGED"  # profile_ids
CAMPAIGN_SENDS_DUE = "CAMPAIGN_SENDS_DUE"  # campaign_ids: outbox rows became due now
DSR_EXECUTION_REQUESTED = "DSR_EXECUTION_REQUESTED"  # request_id: a privacy request to run
SEGMENT_REFRESH_REQUESTED = "SEGMENT_REFRESH_REQUESTED"  # segment_id: (re)compute its members
COMPUTED_TRAITS_REQUESTED = "COMPUTED_TRAITS_REQUESTED"  # trait_keys: custom traits to compute
MODEL_RUN_REQUESTED = "MODEL_RUN_REQUESTED"  # model_run_id: a clustering/training run to execute
RESOLUTION_REQUESTED = "RESOLUTION_REQUESTED"  # run_id: an identity-resolution run to execute

TOPICS = (
    EVENTS_RECEIVED,
    PROFILES_CHANGED,
    PROFILES_MERGED,
    PROFILES_UNMERGED,
    IMPORT_REQUESTED,
    SEGMENT_MEMBERSHIP_CHANGED,
    CONSENT_CHANGED,
    CAMPAIGN_SENDS_DUE,
    DSR_EXECUTION_REQUESTED,
    SEGMENT_REFRESH_REQUESTED,
    COMPUTED_TRAITS_REQUESTED,
    MODEL_RUN_REQUESTED,
    RESOLUTION_REQUESTED,
)


class Subscriber(Protocol):
    name: str

    def apply_async(self, *args: Any, **kwargs: Any) -> Any: ...


_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(topic: str, task: Subscriber) -> None:
    """Register `task` (a Celery task) to run on every publication of `topic`. Idempotent."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    if not callable(getattr(task, "apply_async", None)) or not getattr(task, "name", ""):
        raise TypeError(f"subscriber of {topic} must be a named Celery task, got {task!r}")
    if all(existing.name != task.name for existing in _subscribers[topic]):
        _subscribers[topic].append(task)


def subscribers(topic: str) -> list[Subscriber]:
    """The tasks subscribed to `topic` (a copy)."""
    return list(_subscribers[topic])


def publish_on_commit(topic: str, **payload: Any) -> None:
    """Enqueue every subscriber of `topic` with `payload` once the current transaction commits.

    Outside a transaction it enqueues at once. A failing enqueue (broker down) is logged and
    swallowed (CDP_ROBUST_ON_COMMIT, on except in tests): the rows it would have kicked stay
    pending for the sweepers, and the caller's committed work stands.
    """
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    robust = settings.CDP_ROBUST_ON_COMMIT
    for task in subscribers(topic):
        transaction.on_commit(_enqueuer(task, payload), robust=robust)


def _enqueuer(task: Subscriber, payload: dict[str, Any]) -> Any:
    # A short repr for logs and monitoring: Celery would otherwise build a full repr of every
    # id list on the ingestion hot path.
    short = {
        key: f"<{len(value)} ids>" if isinstance(value, list) else value
        for key, value in payload.items()
    }

    def enqueue() -> None:
        task.apply_async(kwargs=payload, kwargsrepr=repr(short))

    return enqueue
