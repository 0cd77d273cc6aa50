"""Benchmark: events/s through POST /v1/batch (gunicorn, PostgreSQL, real indexes and dedup),
p50/p99 of single /v1/track calls, and rows/s through the events file import — beside a bare
Django baseline (parse JSON + one INSERT … ON CONFLICT DO NOTHING per request) measured in the
same run, so the ratio holds on a noisy machine.

    .venv/bin/python bench/ingest.py --seconds 20 --clients 8 --file-rows 200000

Needs PostgreSQL (DATABASE_URL's server; a scratch database `cdp_bench_ingest` is created and
dropped) and Redis (REDIS_URL, db 15 by default: tasks are queued there, not processed, so the
ingestion figures are ingestion alone). Then `process_events_per_s`: how fast one process works
through the stored events (identity, consent, traits) — what one Celery worker keeps up with.
Prints progress, then one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from multiprocessing import Process, Queue
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


def log(message: str) -> None:
    print(f"[ingest-bench] {message}", file=sys.stderr, flush=True)


def psql(server_url: str, sql: str, database: str = "postgres") -> str:
    parsed = urlparse(server_url)
    return subprocess.run(
        [
            "psql",
            "-h",
            parsed.hostname or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            "-d",
            database,
            "-tAc",
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_database(server_url: str, name: str) -> str:
    psql(server_url, f'DROP DATABASE IF EXISTS "{name}"')
    psql(server_url, f'CREATE DATABASE "{name}"')
    parsed = urlparse(server_url)
    return parsed._replace(path=f"/{name}").geturl()


def cdp_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "cdp.settings.base",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "CDP_MODE": "embedded",
    }


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def start_server(env: dict[str, str], app: str, port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            GUNICORN,
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def batch_body(events: int, prefix: str) -> bytes:
    now = "2026-11-22T12:00:00Z"
    return json.dumps(
        {
            "batch": [
                {
                    "type": "track",
                    "event": "Product Viewed",
                    "userId": f"user-{i % 997}",
                    "anonymousId": f"anon-{i % 1999}",
                    "messageId": f"{prefix}-{i}",
                    "timestamp": now,
                    "properties": {
                        "product_id": f"p{i % 500}",
                        "price": 19.99,
                        "category": "shoes",
                        "currency": "EUR",
                    },
                    "context": {
                        "ip": "203.0.113.9",
                        "userAgent": "bench/1.0",
                        "library": {"name": "bench", "version": "1"},
                    },
                }
                for i in range(events)
            ],
            "sentAt": now,
        }
    ).encode()


def batch_client(port: int, auth: str, seconds: float, events: int, out: Queue) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": auth}
    sent = failures = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = batch_body(events, uuid.uuid4().hex)
        connection.request("POST", "/v1/batch", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            sent += events
        else:
            failures += 1
    out.put((sent, failures))


def track_client(port: int, auth: str, seconds: float, out: Queue) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": auth}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = json.dumps(
            {
                "event": "Clicked",
                "userId": f"u{len(latencies) % 50}",
                "messageId": uuid.uuid4().hex,
                "properties": {"button": "buy"},
            }
        ).encode()
        started = time.perf_counter()
        connection.request("POST", "/v1/track", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
    out.put(latencies)


def run_clients(target, clients: int, *args) -> list:
    out: Queue = Queue()
    processes = [Process(target=target, args=(*args, out)) for _ in range(clients)]
    for process in processes:
        process.start()
    results = [out.get() for _ in processes]
    for process in processes:
        process.join()
    return results


def measure_batches(port: int, auth: str, args: argparse.Namespace) -> dict[str, float]:
    run_clients(batch_client, args.clients, port, auth, 2.0, args.events_per_request)  # warm
    started = time.monotonic()
    results = run_clients(
        batch_client, args.clients, port, auth, args.seconds, args.events_per_request
    )
    elapsed = time.monotonic() - started
    sent = sum(result[0] for result in results)
    failures = sum(result[1] for result in results)
    return {"events_per_s": round(sent / elapsed), "failed_requests": failures}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--events-per-request", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--file-rows", type=int, default=200_000)
    parser.add_argument(
        "--process-events",
        type=int,
        default=50_000,
        help="then process this many stored events in one process (0: skip)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    database_url = make_database(args.postgres, "cdp_bench_ingest")
    env = cdp_env(database_url, args.redis)
    log("migrating the scratch database")
    manage(env, "migrate", "--no-input")
    key = manage(env, "create_source", "bench-web").strip().splitlines()[-1]
    manage(env, "create_source", "bench-files")
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    figures: dict[str, object] = {
        "clients": args.clients,
        "gunicorn_workers": args.workers,
        "events_per_request": args.events_per_request,
    }

    psql(
        args.postgres,
        "CREATE TABLE bench_baseline (id bigserial primary key, "
        "message_id varchar(128) unique not null, payload jsonb not null)",
        "cdp_bench_ingest",
    )
    log("baseline: bare Django view, parse + one INSERT ... ON CONFLICT DO NOTHING")
    baseline = start_server(
        {**env, "DJANGO_SETTINGS_MODULE": "bench.baseline.settings"},
        "bench.baseline.wsgi:application",
        args.port + 1,
        args.workers,
    )
    try:
        figures["baseline_events_per_s"] = measure_batches(args.port + 1, auth, args)[
            "events_per_s"
        ]
    finally:
        baseline.terminate()
        baseline.wait()
    log(f"baseline: {figures['baseline_events_per_s']} events/s")

    server = start_server(env, "cdp.wsgi:application", args.port, args.workers)
    try:
        log("CDP /v1/batch")
        batch = measure_batches(args.port, auth, args)
        figures["batch_events_per_s"] = batch["events_per_s"]
        figures["batch_failed_requests"] = batch["failed_requests"]
        log(f"CDP: {batch['events_per_s']} events/s")
        log("CDP /v1/track latency, 8 concurrent clients")
        latencies = [
            value
            for result in run_clients(track_client, 8, args.port, auth, min(args.seconds, 10.0))
            for value in result
        ]
        figures["track_p50_ms"] = percentile(latencies, 0.50)
        figures["track_p99_ms"] = percentile(latencies, 0.99)
        figures["track_mean_ms"] = round(statistics.fmean(latencies), 2)
        figures["track_requests"] = len(latencies)
    finally:
        server.terminate()
        server.wait()
    figures["batch_vs_baseline"] = round(
        figures["batch_events_per_s"] / max(1, figures["baseline_events_per_s"]), 3
    )

    if args.file_rows:
        log(f"events file import, {args.file_rows} rows")
        path = Path("/tmp/cdp-bench-events.ndjson")
        with path.open("wb") as handle:
            body = json.loads(batch_body(1000, "x"))["batch"]
            for start in range(0, args.file_rows, 1000):
                for offset, message in enumerate(body[: min(1000, args.file_rows - start)]):
                    message["messageId"] = f"file-{start + offset}"
                    handle.write(json.dumps(message).encode() + b"\n")
        manage(
            env,
            "import_file",
            str(path),
            "--source",
            "bench-files",
            "--kind",
            "events",
            "--no-progress",
        )
        # The import's own clock (ImportRun.started_at → finished_at): no interpreter start-up.
        elapsed = float(
            psql(
                args.postgres,
                "SELECT extract(epoch FROM finished_at - started_at)"
                " FROM profiles_importrun ORDER BY id DESC LIMIT 1",
                "cdp_bench_ingest",
            )
        )
        figures["file_import_rows_per_s"] = round(args.file_rows / elapsed)
        figures["file_rows"] = args.file_rows
        path.unlink()
        log(f"file import: {figures['file_import_rows_per_s']} rows/s")
    if args.process_events:
        log(f"processing {args.process_events} stored events (one process, as one worker does)")
        output = manage(
            env, "process_events", "--limit", str(args.process_events), "--no-progress"
        ).strip()
        # "Processed N events, F failed attempts in S s (R events/s)."
        words = output.split()
        figures["process_events"] = int(words[1])
        figures["process_events_per_s"] = round(int(words[1]) / float(words[-4]))
        log(output)
    stored = int(psql(args.postgres, "SELECT count(*) FROM profiles_event", "cdp_bench_ingest"))
    figures["events_stored"] = stored
    subprocess.run(["redis-cli", "-u", args.redis, "FLUSHDB"], check=False, capture_output=True)
    psql(args.postgres, 'DROP DATABASE IF EXISTS "cdp_bench_ingest"')
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
