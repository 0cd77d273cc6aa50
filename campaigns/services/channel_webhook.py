"""Campaigns services: the webhook channel — signed JSON POSTs over persistent keep-alive
connections (campaigns.services.webhook_http), several at a time on a small thread pool
(network I/O only; no database access in threads)."""

from __future__ import annotations

import functools
import http.client
import itertools
import json
import ssl
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

import orjson

from campaigns.compute.decisions import is_retryable_status
from campaigns.compute.signing import DELIVERY_HEADER, SIGNATURE_HEADER, webhook_signature

from .webhook_http import InvalidTargetError, PostConnection, Target, request_head, target_of

USER_AGENT = "CDP-Webhooks/1"
_DJANGO_JSON = DjangoJSONEncoder()
# Datetimes go through Django's encoder (the format receivers already parse); str keys only
# in payloads, but a non-str key is written as json.dumps would, not refused.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


@dataclass(frozen=True, kw_only=True)
class WebhookRequest:
    url: str
    secret: str
    delivery_id: str
    attempt: int
    payload: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class WebhookResult:
    is_ok: bool
    is_retryable: bool = False
    error: str = ""


def _json_default(value: Any) -> Any:
    return _DJANGO_JSON.default(value)


def webhook_body(payload: dict[str, Any]) -> bytes:
    """Compact JSON (UTF-8) of a payload; datetimes, dates, decimals and UUIDs as Django's
    JSON encoder writes them (ISO 8601, milliseconds, "Z" for UTC)."""
    try:
        return orjson.dumps(payload, default=_json_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # integers over 64 bits: the standard library copes
        return json.dumps(
            payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
        ).encode()


class _Connections(threading.local):
    """Each webhook thread's keep-alive connections, one per (scheme, host, port)."""

    def __init__(self) -> None:
        self.by_origin: dict[tuple[str, str, int], PostConnection] = {}


@functools.lru_cache(maxsize=256)
def _target(url: str) -> Target:
    return target_of(urlsplit(url))


class WebhookClient:
    """A thread pool whose threads keep one persistent HTTP(S) connection per receiver.

    A chunk of requests is one job for the pool: a future per thread (each thread takes the
    chunk's next request until none is left), not a future per request.
    """

    def __init__(self, *, threads: int, timeout: float) -> None:
        self._threads = threads
        self._timeout = timeout
        self._connections = _Connections()
        self._tls = ssl.create_default_context()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")

    def _connection(self, origin: tuple[str, str, int]) -> PostConnection:
        connection = self._connections.by_origin.get(origin)
        if connection is None:
            connection = PostConnection(origin, timeout=self._timeout, tls=self._tls)
            self._connections.by_origin[origin] = connection
        return connection

    def post(self, request: WebhookRequest) -> WebhookResult:
        """POST one signed delivery; network errors and 408/425/429/5xx are retryable."""
        try:
            target = _target(request.url)
        except InvalidTargetError:
            return WebhookResult(is_ok=False, error="InvalidURL")
        body = webhook_body(request.payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: request.delivery_id,
            "X-CDP-Attempt": str(request.attempt),
            SIGNATURE_HEADER: webhook_signature(
                request.secret, timestamp=int(time.time()), body=body
            ),
        }
        try:
            head = request_head(target, length=len(body), headers=headers)
        except ValueError:
            return WebhookResult(is_ok=False, error="InvalidHeader")
        try:
            status = self._connection(target.origin).post(head, body)
        except (OSError, http.client.HTTPException) as exc:
            return WebhookResult(is_ok=False, is_retryable=True, error=type(exc).__name__)
        if 200 <= status < 300:
            return WebhookResult(is_ok=True)
        return WebhookResult(
            is_ok=False, is_retryable=is_retryable_status(status), error=f"HTTP {status}"
        )

    def submit(self, requests_: Sequence[WebhookRequest]) -> WebhookJob:
        """Start POSTing `requests_`, up to `threads` at a time; `results` waits for them."""
        job = WebhookJob(requests_)
        if requests_:
            job.futures = [
                self._executor.submit(self._work, job)
                for _ in range(min(self._threads, len(requests_)))
            ]
        return job

    def post_many(self, requests_: Sequence[WebhookRequest]) -> list[WebhookResult]:
        """POST every request, up to `threads` at a time; results in input order."""
        return self.results(self.submit(requests_))

    def _work(self, job: WebhookJob) -> None:
        """Take the job's next request until none is left (next() on a count is atomic)."""
        size = len(job.requests)
        while (index := next(job.taken)) < size:
            job.results[index] = self.post(job.requests[index])

    @staticmethod
    def results(job: WebhookJob) -> list[WebhookResult]:
        """The job's results in input order, once every request has been answered."""
        for future in job.futures:
            future.result()
        return cast(list[WebhookResult], job.results)


class WebhookJob:
    """Requests shared by the pool's threads (each takes the next one until none is left)."""

    def __init__(self, requests_: Sequence[WebhookRequest]) -> None:
        self.requests = requests_
        self.results: list[WebhookResult | None] = [None] * len(requests_)
        self.taken = itertools.count()
        self.futures: list[Future[None]] = []


@functools.cache
def webhook_client() -> WebhookClient:
    """The process's client: its threads and keep-alive connections outlive one batch."""
    return WebhookClient(threads=settings.CDP_WEBHOOK_THREADS, timeout=settings.CDP_WEBHOOK_TIMEOUT)
