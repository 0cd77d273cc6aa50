"""Benchmark: identity resolution end to end on PostgreSQL — demo CRM records with planted
duplicates and look-alikes, loaded in bulk as one profile per record, then the resolution job
(`manage.py resolve_identities --all`), scored against the generator's ground truth.

Run from the repository root (PostgreSQL running; the database is created if missing and its
profiles are replaced):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdp_identity_bench \\
        .venv/bin/python -m bench.identity --people 100000 --seed 1

Loading normalises every CRM row as the file import does (crm_row_to_message) and writes
Profile, Identifier, TraitValue and ProfileTrait rows with COPY; the import's per-row
processing is not what is measured. An email, phone or loyalty id shared by two records is
attached to the first only (the import would have merged them deterministically; here the
linker has to find them). Prints progress, then one JSON object as the last line.
"""

# Django and the app modules are imported inside functions: the database URL comes from the
# command line and must be in the environment before Django is set up.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cdp_identity_bench"
BROKER = "redis://127.0.0.1:6379/10"
AS_OF = datetime.date(2025, 6, 1)
NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
IDENTIFIER_TRAITS = ("email", "phone", "loyalty_id")


def _normalise_rows(rows: list[dict[str, Any]]) -> list[tuple[str, dict, dict] | None]:
    from profiles.compute.records import (
        RowContext,
        RowRejection,
        apply_mapping,
        crm_row_to_message,
    )

    context = RowContext(
        now=NOW,
        today=AS_OF,
        default_region="US",
        base_currency="EUR",
        currency_rates={"EUR": Decimal(1)},
    )
    out: list[tuple[str, dict, dict] | None] = []
    for position, row in enumerate(rows):
        message = crm_row_to_message(apply_mapping(row, {}), position=position, context=context)
        if isinstance(message, RowRejection):
            out.append(None)
            continue
        traits = dict(message["traits"])
        crm_id = traits.pop("crm_id")
        consent = message["context"].get("consent", {}).get("categoryPreferences", {})
        out.append((crm_id, traits, consent))
    return out


def _generate(people: int, seed: int, workers: int) -> dict[str, Any]:
    import pandas as pd

    from profiles.demo_data import GeneratorConfig, generate_chunks

    config = GeneratorConfig(people=people, seed=seed, as_of=AS_OF, events=False)
    records: list[tuple[str, dict, dict]] = []
    truth: dict[str, str] = {}
    lookalikes: list[tuple[str, str]] = []
    rejected = 0
    with Pool(workers) as pool:
        for chunk in generate_chunks(config, chunk_people=50_000):
            rows = chunk.crm.to_dict("records")
            parts = [rows[i : i + 2_000] for i in range(0, len(rows), 2_000)]
            for part in pool.imap(_normalise_rows, parts):
                for item in part:
                    if item is None:
                        rejected += 1
                    else:
                        records.append(item)
            crm_truth = chunk.truth[chunk.truth["record_kind"] == "crm"]
            truth.update(zip(crm_truth["record_id"], crm_truth["person_id"], strict=True))
            marked = chunk.people[chunk.people["lookalike_of"] != ""]
            lookalikes += list(zip(marked["person_id"], marked["lookalike_of"], strict=True))
            print(f"  generated {len(records):,} records", flush=True)
    return {
        "records": records,
        "truth": pd.Series(truth),
        "lookalikes": lookalikes,
        "rejected": rejected,
    }


def _ensure_database(url: str) -> None:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    from django.db import connection

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    buffer.seek(0)
    column_list = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f'COPY "{table}" ({column_list}) FROM STDIN WITH (FORMAT csv)', buffer
        )
    return count


def _reset() -> None:
    from django.db import connection

    tables = [
        "profiles_matchkey",
        "profiles_matchcandidate",
        "profiles_resolutionrun",
        "profiles_profiletrait",
        "profiles_traitvalue",
        "profiles_identifier",
        "profiles_profilemerge",
        "profiles_order",
        "profiles_event",
        "profiles_profile",
        "profiles_source",
        "consent_consentstate",
        "consent_consentevent",
        "core_auditevent",
    ]
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        wanted = [table for table in tables if table in present]
        cursor.execute(f"TRUNCATE {', '.join(wanted)} RESTART IDENTITY CASCADE")


def _identifier_rows(records: list, source_id: int, stamp: str) -> Iterable[tuple]:
    from cdp.core.hashing import identifier_hash

    taken: set[tuple[str, str]] = set()
    for profile_id, (crm_id, traits, _) in enumerate(records, start=1):
        pairs = [("crm_id", crm_id)]
        pairs += [
            (kind, str(traits[kind]).strip()) for kind in IDENTIFIER_TRAITS if traits.get(kind)
        ]
        for kind, value in pairs:
            if (kind, value) in taken:
                continue
            taken.add((kind, value))
            yield (
                kind,
                value,
                identifier_hash(kind, value),
                profile_id,
                profile_id,
                source_id,
                False,
                stamp,
            )


def _load(records: list, with_consent: bool) -> dict[str, int]:
    from django.db import connection, transaction

    from profiles.models import Source

    stamp = NOW.isoformat()
    _reset()
    source = Source.objects.create(name="crm", kind="crm", trust=60)
    counts: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The rows are consistent by construction; skipping the deferred foreign-key
            # triggers for this load saves most of its time (bench only; needs a superuser).
            cursor.execute("SET LOCAL session_replication_role = replica")
        counts["profiles"] = _copy(
            "profiles_profile",
            ("id", "created_at", "updated_at", "traits", "last_seen_at"),
            (
                (pid, stamp, stamp, json.dumps(traits), stamp)
                for pid, (_, traits, _) in enumerate(records, start=1)
            ),
        )
        counts["identifiers"] = _copy(
            "profiles_identifier",
            (
                "type",
                "value",
                "value_hash",
                "profile_id",
                "origin_profile_id",
                "source_id",
                "is_verified",
                "first_seen_at",
            ),
            _identifier_rows(records, source.pk, stamp),
        )
        trait_rows, golden_rows = [], []
        for pid, (crm_id, traits, _) in enumerate(records, start=1):
            for name, value in traits.items():
                trait_id = len(trait_rows) + 1
                value_json = json.dumps(value)
                trait_rows.append(
                    (trait_id, pid, pid, source.pk, name, value_json, stamp, f"crm:{crm_id}", 1)
                )
                golden_rows.append((pid, name, value_json, trait_id, "most_trusted", stamp))
        counts["trait_values"] = _copy(
            "profiles_traitvalue",
            (
                "id",
                "profile_id",
                "origin_profile_id",
                "source_id",
                "name",
                "value",
                "observed_at",
                "record_ref",
                "seen_count",
            ),
            trait_rows,
        )
        counts["golden_traits"] = _copy(
            "profiles_profiletrait",
            ("profile_id", "name", "value", "chosen_id", "rule", "updated_at"),
            golden_rows,
        )
        if with_consent:
            counts.update(_load_consent(records, stamp))
        with connection.cursor() as cursor:
            for table in ("profiles_profile", "profiles_traitvalue"):
                statement = (
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table}))"
                )
                cursor.execute(statement)  # our own table names, no input
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


def _load_consent(records: list, stamp: str) -> dict[str, int]:
    from consent.models import ConsentEvent, Purpose

    purposes: dict[str, int] = {}
    for purpose in Purpose.objects.all():
        for alias in [purpose.key, *purpose.category_aliases]:
            purposes[alias.lower()] = purpose.pk
    rows = []
    for pid, (_, _, preferences) in enumerate(records, start=1):
        for category, granted in preferences.items():
            if category.lower() in purposes:
                rows.append(
                    (pid, pid, purposes[category.lower()], granted, stamp, "crm", "{}", stamp)
                )
    events = _copy(
        ConsentEvent._meta.db_table,
        (
            "profile_id",
            "origin_profile_id",
            "purpose_id",
            "is_granted",
            "recorded_at",
            "source",
            "evidence",
            "created_at",
        ),
        rows,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO consent_consentstate (profile_id, purpose_id, is_granted, entry_id, "
            "updated_at) SELECT profile_id, purpose_id, is_granted, id, recorded_at "
            "FROM consent_consentevent"
        )
    return {"consent_events": events}


def _run_job(url: str) -> dict[str, Any]:
    # Topics the merges publish go to a broker nobody consumes here (as workers would consume
    # them after the job in production), not run eagerly inside the measured job.
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "cdp.settings.base",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", BROKER),
    }
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "manage.py", "resolve_identities", "--all", "--json", "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        print(completed.stdout[-3000:], completed.stderr[-6000:])
        raise SystemExit("resolve_identities failed")
    body = json.loads(completed.stdout.strip().splitlines()[-1])
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # drop the unconsumed topic messages
    body["process_seconds"] = round(time.perf_counter() - started, 2)
    return body


def _evaluate(data: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from profiles.compute.linkage import blocking_recall, candidate_pairs, pairwise_scores
    from profiles.models import Profile

    records = data["records"]
    crm_ids = np.array([crm_id for crm_id, _, _ in records], dtype=object)
    truth = pd.Series(
        data["truth"].reindex(crm_ids).to_numpy(), index=np.arange(1, len(records) + 1)
    )
    merged = dict(
        Profile.objects.filter(merged_into__isnull=False).values_list("pk", "merged_into_id")
    )
    cluster = np.arange(1, len(records) + 1)
    for absorbed, survivor in merged.items():
        while survivor in merged:
            survivor = merged[survivor]
        cluster[absorbed - 1] = survivor
    predicted = pd.DataFrame({"record_id": truth.index, "cluster_id": cluster})
    scores = pairwise_scores(predicted, truth)
    person_of = pd.Series(truth.to_numpy(), index=truth.index)
    cluster_by_person: dict[str, set[int]] = {}
    for record_id, person in person_of.items():
        cluster_by_person.setdefault(person, set()).add(int(cluster[record_id - 1]))
    wrong = sum(
        1
        for a, b in data["lookalikes"]
        if cluster_by_person.get(a, set()) & cluster_by_person.get(b, set())
    )
    frame = _records_frame(records)
    pairs, _ = candidate_pairs(frame)
    return {
        "precision": round(scores.precision, 5),
        "recall": round(scores.recall, 5),
        "f1": round(scores.f1, 5),
        "true_pairs": scores.true_pairs,
        "predicted_pairs": scores.predicted_pairs,
        "lookalike_people_pairs": len(data["lookalikes"]),
        "lookalike_pairs_merged": wrong,
        "blocking_recall": round(blocking_recall(pairs, truth), 5),
    }


def _records_frame(records: list) -> Any:
    import pandas as pd

    from profiles.compute.linkage import RECORD_COLUMNS

    columns = {column: [] for column in RECORD_COLUMNS}
    for record_id, (_, traits, _) in enumerate(records, start=1):
        columns["record_id"].append(record_id)
        for column in RECORD_COLUMNS[1:]:
            columns[column].append(traits.get(column))
    return pd.DataFrame(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--consent", action="store_true", help="load CRM consent into the ledger")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("bench/identity.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings.base")
    _ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    data = _generate(args.people, args.seed, args.workers)
    generated = time.perf_counter()
    print(
        f"generated and normalised {len(data['records']):,} records "
        f"({data['rejected']:,} rejected as the import would) in {generated - started:.0f}s"
    )
    loaded_counts = _load(data["records"], args.consent)
    loaded = time.perf_counter()
    print(f"loaded {loaded_counts} in {loaded - generated:.0f}s", flush=True)
    job = _run_job(url)
    print(f"resolution job: {job['timings']}", flush=True)
    quality = _evaluate(data)
    timings = job["timings"]
    matching = sum(
        timings.get(stage, 0.0)
        for stage in ("preparing", "blocking", "comparing", "training", "scoring", "clustering",
                      "guarding")
    )  # fmt: skip
    figures = {
        "people": args.people,
        "seed": args.seed,
        "records": len(data["records"]),
        "rejected_rows": data["rejected"],
        "consent_loaded": args.consent,
        **quality,
        "candidate_pairs": job["counts"].get("candidate_pairs"),
        "pairs_per_rule": {row["rule"]: row["pairs"] for row in job["blocking_stats"]},
        "new_pairs_per_rule": {row["rule"]: row["new_pairs"] for row in job["blocking_stats"]},
        "merges": job["counts"].get("merges"),
        "review_pairs": job["counts"].get("review_pairs"),
        "matching_seconds": round(matching, 2),
        "reading_seconds": round(timings.get("reading", 0) + timings.get("reading_guards", 0), 2),
        "job_seconds": timings.get("total"),
        "job_process_seconds": job["process_seconds"],
        "job_peak_rss_mb": job["peak_rss_mb"],
        "stage_seconds": timings,
        "bench_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
