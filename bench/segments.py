"""Benchmark of segments on PostgreSQL: preview of a five-condition segment, full refresh of a
dynamic segment's membership, and the real-time path from /v1/track to the membership change
with a Celery worker running.

Load the data first (1,000,000 profiles and about 20,000,000 events):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdp_bench \\
        .venv/bin/python bench/load_scale_data.py --profiles 1000000 --events-per-profile 20 --reset

then:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdp_bench REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/segments.py [--runs 7] [--realtime-trials 40] [--explain]

The real-time part starts its own worker (celery -A cdp worker --pool=threads) unless
--no-worker is given (then one must be running on REDIS_URL). Targets: preview < 1 s, full
refresh < 15 s, real-time p95 < 1 s.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from cdp.celery import app as celery_app  # noqa: E402
from cdp.core.actor import Actor  # noqa: E402
from profiles.models import Identifier, Source  # noqa: E402
from profiles.services.sources import write_key_rotate  # noqa: E402
from segments.models import Segment, SegmentMembership  # noqa: E402
from segments.selectors.membership import segment_preview  # noqa: E402
from segments.selectors.rules import rule_tree_profiles_qs  # noqa: E402
from segments.services.refresh import segment_refresh  # noqa: E402

LAPSED = {"all": [{"type": "computed", "trait": "lifecycle_stage", "op": "eq", "value": "lapsed"}]}
ACTOR = Actor(user_id=None, label="bench")


def five_conditions(lapsed_id: int) -> dict[str, Any]:
    """German customers with 3+ orders in 90 days who opened an email in the last 30 days and
    gave email consent, but are not in Lapsed."""
    return {
        "all": [
            {"type": "trait", "trait": "country", "op": "eq", "value": "DE"},
            {
                "type": "event",
                "event": "Order Completed",
                "count": {"op": "gte", "value": 3},
                "within_days": 90,
            },
            {"type": "event", "event": "Email Opened", "within_days": 30},
            {"type": "consent", "purpose": "email_marketing"},
            {"type": "segment", "segment_id": lapsed_id, "member": False},
        ]
    }


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def describe(label: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{label}: median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"min {ordered[0] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms (n={len(ordered)})"
    )


def segment(name: str, tree: dict[str, Any], *, realtime: bool = False) -> Segment:
    found, _ = Segment.objects.update_or_create(
        name=name,
        defaults={"rule_tree": tree, "is_realtime": realtime, "kind": "dynamic"},
    )
    return found


def bench_preview(lapsed: Segment, runs: int, explain: bool) -> None:
    tree = five_conditions(lapsed.pk)
    seconds = []
    count = 0
    for _ in range(runs):
        elapsed, (count, _sample) = timed(lambda: segment_preview(tree=tree, sample_size=10))
        seconds.append(elapsed)
    print(f"five-condition preview: {count:,} profiles match")
    describe("preview (count + sample of 10)", seconds)
    if explain:
        queryset = rule_tree_profiles_qs(tree).values("pk")
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            explained = f"EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM ({sql}) q"  # noqa: S608
            cursor.execute(explained, params)
            print("\n".join(row[0] for row in cursor.fetchall()))


def bench_refresh(lapsed: Segment) -> Segment:
    target = segment("Bench: five conditions", five_conditions(lapsed.pk))
    SegmentMembership.objects.filter(segment=target).delete()
    first, _ = timed(lambda: segment_refresh(segment_id=target.pk, force=True))
    target.refresh_from_db()
    print(f"full refresh, first population: {first:.2f} s ({target.size:,} members entered)")
    again, _ = timed(lambda: segment_refresh(segment_id=target.pk, force=True))
    print(f"full refresh, steady state (diff only): {again:.2f} s")
    big, _ = timed(lambda: segment_refresh(segment_id=lapsed.pk, force=True))
    lapsed.refresh_from_db()
    print(f"full refresh of Lapsed (large segment): {big:.2f} s ({lapsed.size:,} members)")
    return target


def start_worker() -> subprocess.Popen[bytes]:
    celery_app.control.purge()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "cdp",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "-Q",
            "cdp",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-n",
            f"bench-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not celery_app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the Celery worker did not start")
    return process


def _candidates(limit: int) -> list[str]:
    """user ids of German profiles (not yet in the real-time segment's audience)."""
    germans = rule_tree_profiles_qs(
        {"all": [{"type": "trait", "trait": "country", "op": "eq", "value": "DE"}]}
    ).values("pk")
    return list(
        Identifier.objects.filter(type="user_id", profile_id__in=germans)
        .order_by("?")
        .values_list("value", flat=True)[:limit]
    )


def bench_realtime(trials: int) -> None:
    source = Source.objects.get(name="bench")
    key = write_key_rotate(source_id=source.pk, actor=ACTOR).plain
    client = Client(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode())
    tree = {
        "all": [
            {"type": "trait", "trait": "country", "op": "eq", "value": "DE"},
            {
                "type": "event",
                "event": "Order Completed",
                "where": [{"property": "revenue", "op": "gte", "value": 5000}],
                "within_days": 1,
            },
        ]
    }
    realtime = segment("Bench: real-time big spenders", tree, realtime=True)
    SegmentMembership.objects.filter(segment=realtime).delete()
    latencies: list[float] = []
    for user_id in _candidates(trials):
        arrived = timezone.now()
        response = client.post(
            "/v1/track",
            {
                "userId": user_id,
                "event": "Order Completed",
                "messageId": str(uuid.uuid4()),
                "properties": {
                    "order_id": f"bench-{uuid.uuid4()}",
                    "revenue": 6000,
                    "currency": "EUR",
                },
            },
            content_type="application/json",
        )
        if response.status_code != 200:
            raise SystemExit(f"/v1/track answered {response.status_code}: {response.content!r}")
        deadline = time.monotonic() + 30
        stay = None
        while stay is None and time.monotonic() < deadline:
            stay = (
                SegmentMembership.objects.filter(
                    segment=realtime, profile__identifiers__value=user_id
                )
                .values_list("entered_at", flat=True)
                .first()
            )
            if stay is None:
                time.sleep(0.005)
        if stay is None:
            print(f"  no membership change for {user_id} within 30 s")
            continue
        latencies.append((stay - arrived).total_seconds())
    describe("real-time: /v1/track arrival → membership row (entered_at)", latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--realtime-trials", type=int, default=40)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the preview")
    parser.add_argument("--no-worker", action="store_true", help="a worker is already running")
    parser.add_argument("--skip-realtime", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/segments.py needs PostgreSQL (DATABASE_URL)", file=sys.stderr)
        return 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM profiles_profile")
        profiles = cursor.fetchone()[0]
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'profiles_event'")
        events = cursor.fetchone()[0]
    print(f"data: {profiles:,} profiles, ~{events:,} events")
    lapsed = segment("Lapsed", LAPSED)
    if lapsed.size == 0:
        segment_refresh(segment_id=lapsed.pk, force=True)
    bench_preview(lapsed, args.runs, args.explain)
    bench_refresh(lapsed)
    if args.skip_realtime:
        return 0
    worker = None if args.no_worker else start_worker()
    try:
        bench_realtime(args.realtime_trials)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
