"""Benchmark: time an access export and an erasure of one person in a large base (PostgreSQL).

Targets (issue 7): access export under 2 s, erasure under 10 s, for one person in a base of
1,000,000 profiles and 20,000,000 events. Load the base first with the shared COPY loader:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdp_bench \\
        .venv/bin/python bench/load_scale_data.py --profiles 1000000 --events-per-profile 20 --reset
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdp_bench \\
        .venv/bin/python bench/privacy.py --people 5

Each sampled person (a profile holding an email) gets a verified access request and then a
verified erasure request, run through the same services and job as in production
(consent.services.execution.dsr_run, every app's privacy handler); the job is timed from its
claim to its completion (with --rollback, to the end of the foreign-key checks its commit would
run; everything is then rolled back). Without --rollback the sampled people are really erased:
use a benchmark database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings.base")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="cdp-bench-privacy-"))
os.environ.pop("REDIS_URL", None)  # tasks run in-process; the job itself is what is timed

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from cdp.core import jobs  # noqa: E402
from cdp.core.actor import Actor  # noqa: E402
from consent.models import DataSubjectRequest  # noqa: E402
from consent.services.execution import dsr_run  # noqa: E402
from consent.services.requests import dsr_create, dsr_execute, dsr_verify_manually  # noqa: E402
from profiles.models import Event, Identifier, Profile  # noqa: E402

ACTOR = Actor(user_id=None, label="bench")
TARGETS = {"access_export": 2.0, "erasure": 10.0}


def _estimate(table: str) -> int:
    """Row count from the planner's statistics (an exact count of 20M rows takes seconds)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _has_origin_index() -> bool:
    """Whether profiles_event.origin_profile_id is indexed (deleting a profile makes
    PostgreSQL check that no event still names it as its origin)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = 'profiles_event'::regclass AND a.attname = 'origin_profile_id'
            )
            """
        )
        return bool(cursor.fetchone()[0])


def _sample(people: int, seed: int) -> list[tuple[int, str]]:
    """(profile id, email) of `people` active profiles holding an email, chosen at random."""
    rng = random.Random(seed)
    top = Profile.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    chosen: dict[int, str] = {}
    for _ in range(people * 200):
        if len(chosen) == people or not top:
            break
        pid = rng.randint(1, top)
        email = (
            Identifier.objects.filter(
                profile_id=pid, type="email", profile__merged_into__isnull=True
            )
            .values_list("value", flat=True)
            .first()
        )
        if email:
            chosen[pid] = email
    return list(chosen.items())


def _timed_request(kind: str, email: str) -> tuple[float, DataSubjectRequest]:
    request = dsr_create(kind=kind, identifiers=[("email", email)], actor=ACTOR, received_via="api")
    dsr_verify_manually(request_id=request.pk, note="benchmark", actor=ACTOR)
    dsr_execute(request_id=request.pk, actor=ACTOR)  # queued: no subscriber runs it
    started = time.perf_counter()
    state = dsr_run(request_id=request.pk)
    if transaction.get_connection().in_atomic_block:
        # --rollback: run the foreign-key checks a commit would run, inside the timing.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    elapsed = time.perf_counter() - started
    request.refresh_from_db()
    if state != "succeeded":
        raise SystemExit(f"request #{request.pk} ended {state}: {request.job_error}")
    return elapsed, request


def _one(profile_id: int, email: str) -> dict[str, Any]:
    events = Event.objects.filter(profile_id=profile_id).count()
    access_s, access = _timed_request("access", email)
    archive_bytes = access.archive.size if access.archive else 0
    erase_s, erasure = _timed_request("erasure", email)
    if Profile.objects.filter(pk=profile_id).exists():
        raise SystemExit(f"profile {profile_id} still exists after erasure #{erasure.pk}")
    return {
        "profile_id": profile_id,
        "events": events,
        "access_export_s": round(access_s, 3),
        "archive_bytes": archive_bytes,
        "erasure_s": round(erase_s, 3),
        "erased_rows": sum(sum(app["deleted"].values()) for app in erasure.report["apps"].values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5, help="people to export and erase")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--origin-index",
        action="store_true",
        help="first index profiles_event.origin_profile_id (the migration docs/privacy.md asks)",
    )
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="undo each person's requests and erasure afterwards (leaves the base unchanged)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/privacy.py measures PostgreSQL: set DATABASE_URL")
    # The job is timed on its own: nothing may run it on commit.
    jobs._subscribers[jobs.DSR_EXECUTION_REQUESTED].clear()
    if args.origin_index:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS bench_event_origin_profile "
                "ON profiles_event (origin_profile_id)"
            )
    base = {
        "profiles": _estimate("profiles_profile"),
        "events": _estimate("profiles_event"),
        "identifiers": Identifier.objects.filter(type="email").count(),
    }
    people = []
    for pid, email in _sample(args.people, args.seed):
        if not args.rollback:
            people.append(_one(pid, email))
            continue
        with transaction.atomic():
            people.append(_one(pid, email))
            transaction.set_rollback(True)
    figures: dict[str, Any] = {"base": base, "origin_index": _has_origin_index(), "people": people}
    for key, target in TARGETS.items():
        values = [person[f"{key}_s"] for person in people]
        figures[key] = {
            "median_s": round(statistics.median(values), 3),
            "max_s": round(max(values), 3),
            "target_s": target,
            "met": max(values) < target,
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
