"""Benchmark: campaign sends per second through the outbox — to a local webhook receiver and
to Django's email backend — and trigger latency from a tracked event to its queued send
(p50/p95) with a real Celery worker on Redis.

    .venv/bin/python bench/campaigns.py --sends 20000 --emails 5000 --events 200 --threads 4

Needs PostgreSQL (DATABASE_URL's server; a scratch database `cdp_bench_campaigns` is created
and dropped) and Redis (REDIS_URL, db 13 by default). Sends go through the real dispatcher:
claim with SKIP LOCKED, consent and suppression and caps checked per row, templates rendered,
HMAC-signed POSTs over keep-alive connections on a thread pool; the receiver runs in its own
process. Prints progress, then one JSON object as its last line. Wall-clock figures depend on
what else the machine runs: compare "per_cpu_second" (the dispatcher's own CPU) across runs.
BENCH_PROFILE=1 prints a cProfile of the dispatcher's main thread (BENCH_PROFILE_SORT).
"""

# Django is set up against the scratch database first, so models are imported inside functions.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from multiprocessing import Process, Queue, get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CELERY = str(ROOT / ".venv" / "bin" / "celery")
SCRATCH = "cdp_bench_campaigns"


def log(message: str) -> None:
    print(f"[campaigns-bench] {message}", file=sys.stderr, flush=True)


def psql(server_url: str, sql: str) -> None:
    parsed = urlparse(server_url)
    subprocess.run(
        ["psql", "-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432),
         "-U", parsed.username or "postgres", "-d", "postgres", "-qtAc", sql],
        check=True, capture_output=True,
    )  # fmt: skip


# --- the webhook receiver (its own process) -------------------------------------------------


async def _serve(port_queue: Queue) -> None:
    received = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /count"):
                    body = str(received).encode()
                else:
                    received += 1
                    body = b"ok"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except (asyncio.IncompleteReadError, ConnectionResetError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port_queue.put(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def _receiver(port_queue: Queue) -> None:
    asyncio.run(_serve(port_queue))


# --- Django side ----------------------------------------------------------------------------


def django_setup(database_url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "cdp.settings.base",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    os.environ.pop("REDIS_URL", None)  # this process enqueues nothing until the latency stage
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def people_create(count: int) -> list[int]:
    """Profiles with an email and email-marketing consent, written in bulk (setup only)."""
    from django.utils import timezone

    from consent.models import ConsentEvent, ConsentState, Purpose
    from profiles.models import Profile

    purpose = Purpose.objects.get(key="email_marketing")
    profiles = Profile.objects.bulk_create(
        [
            Profile(traits={"email": f"p{index}@bench.example", "first_name": f"P{index}"})
            for index in range(count)
        ],
        batch_size=5_000,
    )
    ids = [profile.pk for profile in profiles]
    now = timezone.now()
    entries = ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(profile_id=pid, origin_profile_id=pid, purpose=purpose, is_granted=True,
                         recorded_at=now, source="bench")
            for pid in ids
        ],
        batch_size=5_000,
    )  # fmt: skip
    ConsentState.objects.bulk_create(
        [
            ConsentState(profile_id=entry.profile_id, purpose=purpose, is_granted=True, entry=entry)
            for entry in entries
        ],
        batch_size=5_000,
    )
    return ids


def campaign_make(name: str, **fields: Any) -> Any:
    from campaigns.models import Campaign
    from campaigns.services.definitions import VariantSpec, campaign_create
    from campaigns.services.lifecycle import campaign_launch
    from cdp.core.actor import Actor

    actor = Actor(user_id=None, label="bench")
    variant = VariantSpec(
        key="a",
        subject="Hello {{ profile.first_name }}",
        body_text="Your cart is waiting, {{ profile.first_name }}.",
    )
    defaults = {"name": name, "trigger": "event", "trigger_event": name}
    campaign = campaign_create(
        actor=actor,
        fields={"purpose_key": "email_marketing", **defaults, **fields},
        variants=[variant],
    )
    campaign_launch(campaign_id=campaign.pk, actor=actor)
    return Campaign.objects.get(pk=campaign.pk)


def sends_throughput(
    campaign: Any, ids: list[int], count: int, threads: int, dispatchers: int = 1
) -> dict[str, Any]:
    """Queue `count` sends (due later), make them due at once, time the dispatcher."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from campaigns.models import Send
    from campaigns.services.dispatch import sends_dispatch
    from campaigns.services.outbox import Occurrence, sends_enqueue

    later = timezone.now() + timedelta(hours=1)
    for start in range(0, count, 5_000):
        chunk = [ids[index % len(ids)] for index in range(start, min(count, start + 5_000))]
        occurrences = [
            Occurrence(profile_id=pid, key=f"bench:{start + offset // len(ids)}",
                       triggered_at=later, due_at=later)
            for offset, pid in enumerate(chunk)
        ]  # fmt: skip
        sends_enqueue(campaign=campaign, occurrences=occurrences)
    Send.objects.filter(campaign=campaign).update(due_at=timezone.now())
    settings.CDP_WEBHOOK_THREADS = threads
    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    if dispatchers > 1:
        outcome = _dispatch_in_processes(dispatchers, threads)
    elif os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        outcome = profiler.runcall(sends_dispatch, time_budget=3_600).__dict__
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(
            os.environ.get("BENCH_PROFILE_SORT", "cumulative")
        ).print_stats(45)
    else:
        outcome = sends_dispatch(time_budget=3_600).__dict__
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    sent = Send.objects.filter(campaign=campaign, status="sent").count()
    return {
        "sent": sent,
        "seconds": round(seconds, 2),
        "per_second": round(sent / seconds),
        # CPU of the dispatcher process (all its threads; children included): what one core
        # would do if nothing else ran on the machine.
        "cpu_us_per_send": round(1e6 * cpu / max(sent, 1)),
        "per_cpu_second": round(sent / cpu) if cpu else None,
        "dispatchers": dispatchers,
        "outcome": outcome,
    }


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _dispatch_process(database_url: str, threads: int, results: Queue) -> None:
    django_setup(database_url)
    from django.conf import settings

    from campaigns.services.dispatch import sends_dispatch

    settings.CDP_WEBHOOK_THREADS = threads
    results.put(sends_dispatch(time_budget=3_600).__dict__)


def _dispatch_in_processes(count: int, threads: int) -> dict[str, int]:
    """Several dispatchers at once (as several Celery workers would): claims skip locked
    rows, so each row goes to exactly one of them."""
    from django.db import connection

    context = get_context("spawn")
    results: Queue = context.Queue()
    database_url = os.environ["DATABASE_URL"]
    connection.close()
    processes = [
        context.Process(target=_dispatch_process, args=(database_url, threads, results))
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    totals: dict[str, int] = {}
    for _ in processes:
        for key, value in results.get(timeout=3_600).items():
            totals[key] = totals.get(key, 0) + value
    for process in processes:
        process.join()
    return totals


def trigger_latency(
    events: int, rate: float, batch: int, redis_url: str, database_url: str
) -> dict[str, Any]:
    """Track `events` "Checkout Started" events at `rate`/s, `batch` per request, through
    ingestion; a real worker processes them and fires the trigger. Latency = send created -
    event received (both stamped by this machine's clock)."""
    from campaigns.models import Send
    from cdp.celery import app as celery_app
    from cdp.core.actor import Actor
    from profiles.models import Event
    from profiles.services.ingest import events_ingest
    from profiles.services.sources import source_create

    campaign_make("Checkout Started", delay_seconds=900, exit_event="Order Completed")
    source, _ = source_create(name="bench-web", actor=Actor(user_id=None, label="bench"))
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url}
    celery_app.conf.broker_url = redis_url
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    worker = subprocess.Popen(
        [CELERY, "-A", "cdp", "worker", "--pool=threads", "--concurrency=4", "-Q", "cdp",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not celery_app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            time.sleep(0.2)
        for start in range(0, events, batch):
            events_ingest(
                source_id=source.pk,
                messages=[
                    {"type": "track", "userId": f"lat-{index}", "event": "Checkout Started",
                     "messageId": f"lat-{index}"}
                    for index in range(start, min(events, start + batch))
                ],
            )  # fmt: skip
            time.sleep(batch / rate)
        deadline = time.monotonic() + 60
        while Send.objects.filter(occurrence_key__startswith="event:").count() < events:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    received = dict(Event.objects.filter(event="Checkout Started").values_list("pk", "received_at"))
    latencies = sorted(
        (created - received[event_id]).total_seconds()
        for event_id, created in Send.objects.filter(trigger_event_id__in=received).values_list(
            "trigger_event_id", "created_at"
        )
    )
    if not latencies:
        return {"events": events, "queued": 0}
    return {
        "events": events,
        "queued": len(latencies),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
        "max_s": round(latencies[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sends", type=int, default=20_000)
    parser.add_argument("--emails", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="tracked events per second")
    parser.add_argument("--batch", type=int, default=5, help="events per /v1/batch request")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16, help="webhook threads per dispatcher")
    parser.add_argument(
        "--dispatchers", type=int, default=1, help="dispatcher processes (as Celery workers)"
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument(
        "--sqlite", action="store_true", help="a scratch SQLite file instead of PostgreSQL"
    )
    args = parser.parse_args()

    if args.sqlite:
        path = Path(f"/tmp/{SCRATCH}.sqlite3")
        path.unlink(missing_ok=True)
        database_url = f"sqlite:///{path}"
    else:
        psql(args.database, f'DROP DATABASE IF EXISTS "{SCRATCH}"')
        psql(args.database, f'CREATE DATABASE "{SCRATCH}"')
        database_url = urlparse(args.database)._replace(path=f"/{SCRATCH}").geturl()
    engine = "sqlite" if args.sqlite else "postgresql"
    figures: dict[str, Any] = {"database": engine, "threads": args.threads}
    ports: Queue = Queue()
    receiver = Process(target=_receiver, args=(ports,), daemon=True)
    receiver.start()
    try:
        log("migrating the scratch database")
        env = {**os.environ, "DATABASE_URL": database_url}
        env["DJANGO_SETTINGS_MODULE"] = "cdp.settings.base"
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True, env=env
        )
        django_setup(database_url)
        ids = people_create(args.people)
        url = f"http://127.0.0.1:{ports.get(timeout=10)}/hook"
        log(f"{args.sends} webhook sends to {url}")
        figures["webhook"] = sends_throughput(
            campaign_make("bench webhook", channel="webhook", webhook_url=url),
            ids,
            args.sends,
            args.threads,
            args.dispatchers,
        )
        log(f"webhook: {figures['webhook']['per_second']} sends/s")
        log(f"{args.emails} email sends (locmem backend)")
        figures["email"] = sends_throughput(
            campaign_make("bench email"), ids, args.emails, args.threads, args.dispatchers
        )
        log(f"email: {figures['email']['per_second']} sends/s")
        log(f"trigger latency over {args.events} events at {args.rate}/s (worker on Redis)")
        figures["trigger_latency"] = trigger_latency(
            args.events, args.rate, args.batch, args.redis, database_url
        )
        log(f"trigger latency: {figures['trigger_latency']}")
    finally:
        receiver.terminate()
        from django.db import connections

        connections.close_all()
        if not args.sqlite:
            psql(args.database, f'DROP DATABASE IF EXISTS "{SCRATCH}"')
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
