"""Bulk loader for benchmarks: the seeded demo retailer (profiles.demo_data) written straight
into PostgreSQL with COPY — profiles with golden traits, identifiers (keyed hashes), processed
events, orders in the base currency, consent ledger and state — then the catalogue, computed
traits and RFM/lifecycle scores, so segments, campaigns and privacy benchmarks start from a
realistic, fully processed base.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdp_bench \\
        .venv/bin/python bench/load_scale_data.py --profiles 1000000 --events-per-profile 20 \\
        --seed 42 --reset

Indexes and foreign keys of the loaded tables are dropped during COPY and rebuilt afterwards
(much faster than maintaining them row by row); their definitions are printed first, so an
interrupted load can be repaired by hand. PostgreSQL only. Needs a migrated database (it runs
`migrate` itself).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cdp.core.actor import Actor  # noqa: E402
from cdp.core.hashing import identifier_hash  # noqa: E402
from profiles.compute.normalise import NormalisationError, parse_amount  # noqa: E402
from profiles.demo_data.generator import GeneratorConfig, generate_chunks  # noqa: E402
from profiles.models import Source  # noqa: E402
from profiles.services.sources import source_create  # noqa: E402

TABLES = (
    "profiles_profile",
    "profiles_identifier",
    "profiles_event",
    "profiles_order",
    "consent_consentevent",
    "consent_consentstate",
)
RESET_TABLES = (
    *TABLES,
    "profiles_traitvalue",
    "profiles_profiletrait",
    "profiles_profilemerge",
    "profiles_computedtraits",
    "profiles_catalogueentry",
    "segments_segmentmembership",
    "segments_segmentsizepoint",
)
COLUMNS = {
    "profiles_profile": (
        "id", "created_at", "updated_at", "merged_into_id", "traits", "last_seen_at",
    ),
    "profiles_identifier": (
        "type", "value", "value_hash", "profile_id", "origin_profile_id", "source_id",
        "is_verified", "first_seen_at",
    ),
    "profiles_event": (
        "id", "source_id", "message_id", "type", "event", "user_id", "anonymous_id", "timestamp",
        "received_at", "payload", "status", "attempts", "error", "processed_at", "profile_id",
        "origin_profile_id",
    ),
    "profiles_order": (
        "order_id", "profile_id", "origin_profile_id", "source_id", "placed_at", "status",
        "currency", "total", "total_base", "items", "category",
    ),
    "consent_consentevent": (
        "id", "profile_id", "origin_profile_id", "purpose_id", "is_granted", "recorded_at",
        "source", "evidence", "created_at",
    ),
    "consent_consentstate": ("profile_id", "purpose_id", "is_granted", "entry_id", "updated_at"),
}  # fmt: skip
GOLDEN = ("email", "first_name", "last_name", "gender", "birth_date", "phone", "country",
          "state", "city", "postal_code", "loyalty_id", "signup_date", "user_id")  # fmt: skip
CONSENT_PURPOSES = {
    "consent_email": "email_marketing",
    "consent_sms": "sms_marketing",
    "consent_analytics": "analytics",
    "consent_ads": "advertising",
}
CURRENCY = {"eur": "EUR", "€": "EUR", "euro": "EUR", "usd": "USD", "$": "USD", "us$": "USD",
            "gbp": "GBP", "£": "GBP"}  # fmt: skip
NULL = r"\N"


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:8.1f}s] {message}", flush=True)


class Copier:
    """COPY … FROM STDIN (CSV) on a second connection in a background thread, so PostgreSQL
    ingests one chunk while Python generates the next."""

    def __init__(self, dsn: dict[str, Any]) -> None:
        import psycopg2  # noqa: PLC0415 (PostgreSQL only, at run time)

        self.connection = psycopg2.connect(**dsn)
        self.queue: queue.Queue[tuple[str, io.StringIO] | None] = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                while (item := self.queue.get()) is not None:
                    table, buffer = item
                    buffer.seek(0)
                    columns = ", ".join(COLUMNS[table])
                    cursor.copy_expert(
                        f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')",
                        buffer,
                    )
                    self.connection.commit()
        except BaseException as exc:  # reported by close()
            self.error = exc
            while self.queue.get() is not None:
                pass

    def put(self, table: str, rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]) -> None:
        if self.error is not None:
            raise RuntimeError("COPY failed") from self.error
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
        self.rows[table] += count
        self.queue.put((table, buffer))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.connection.close()
        if self.error is not None:
            raise RuntimeError("COPY failed") from self.error


def _value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return NULL
    return value


def _iso(stamp: Any) -> str:
    return stamp.isoformat() if stamp is not None and not pd.isna(stamp) else NULL


class Loader:
    def __init__(self, args: argparse.Namespace, started: float) -> None:
        self.args = args
        self.started = started
        self.source = (
            Source.objects.filter(name="bench").first()
            or source_create(name="bench", kind="http", actor=Actor(user_id=None, label="bench"))[0]
        )
        self.purposes = self._purposes()
        self.next_profile = self._next_id("profiles_profile")
        self.next_event = self._next_id("profiles_event")
        self.next_consent = self._next_id("consent_consentevent")
        self.as_of = datetime.date.fromisoformat(args.as_of)
        self.now = datetime.datetime.combine(self.as_of, datetime.time(), tzinfo=datetime.UTC)

    def _purposes(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, id FROM consent_purpose")
            return dict(cursor.fetchall())

    def _next_id(self, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
            return int(cursor.fetchone()[0])

    def chunk(self, copier: Copier, chunk: Any) -> None:
        people = chunk.people.reset_index(drop=True)
        ids = np.arange(self.next_profile, self.next_profile + len(people))
        self.next_profile += len(people)
        person_to_profile = dict(zip(people["person_id"], ids.tolist(), strict=True))
        truth = chunk.truth
        owner = dict(
            zip(truth["record_id"], truth["person_id"].map(person_to_profile), strict=True)
        )
        last_seen = self._events(copier, chunk.events, owner)
        copier.put("profiles_profile", self._profiles(people, ids, last_seen))
        copier.put("profiles_identifier", self._identifiers(people, ids, chunk.events, owner))
        copier.put("profiles_order", self._orders(chunk.orders, owner))
        events, states = self._consent(people, ids)
        copier.put("consent_consentevent", events)
        copier.put("consent_consentstate", states)

    def _profiles(
        self, people: pd.DataFrame, ids: np.ndarray, last_seen: dict[int, str]
    ) -> list[tuple[Any, ...]]:
        now = self.now.isoformat()
        records = people[list(GOLDEN)].to_dict("records")
        rows = []
        for profile_id, record in zip(ids.tolist(), records, strict=True):
            traits = {
                key: value
                for key, value in record.items()
                if value not in ("", None) and value == value
            }
            rows.append(
                (
                    profile_id,
                    now,
                    now,
                    NULL,
                    json.dumps(traits, ensure_ascii=False),
                    last_seen.get(profile_id, NULL),
                )
            )
        return rows

    def _identifiers(
        self, people: pd.DataFrame, ids: np.ndarray, events: pd.DataFrame, owner: dict[str, int]
    ) -> list[tuple[Any, ...]]:
        now = self.now.isoformat()
        seen: set[tuple[str, str]] = set()
        rows = []

        def add(kind: str, value: Any, profile_id: int) -> None:
            if not value or value != value or (kind, value) in seen:
                return
            seen.add((kind, value))
            rows.append(
                (
                    kind,
                    value,
                    identifier_hash(kind, value),
                    profile_id,
                    profile_id,
                    self.source.pk,
                    "f",
                    now,
                )
            )

        for profile_id, user, email, phone in zip(
            ids.tolist(), people["user_id"], people["email"], people["phone"], strict=True
        ):
            add("user_id", user, profile_id)
            add("email", email, profile_id)
            add("phone", phone, profile_id)
        anonymous = events[["message_id", "anonymous_id"]].dropna()
        for message_id, anonymous_id in zip(
            anonymous["message_id"], anonymous["anonymous_id"], strict=True
        ):
            profile_id = owner.get(message_id)
            if profile_id is not None:
                add("anonymous_id", anonymous_id, profile_id)
        return rows

    def _events(
        self, copier: Copier, events: pd.DataFrame, owner: dict[str, int]
    ) -> dict[int, str]:
        if events.empty:
            return {}
        stamps = events["timestamp"].dt.tz_convert("UTC")
        texts = [stamp.isoformat() for stamp in stamps]
        last_seen: dict[int, str] = {}
        dumps = json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), check_circular=False
        ).encode
        rows = []
        columns = zip(
            events["message_id"], events["type"], events["event"], events["name"],
            events["user_id"], events["anonymous_id"], texts, events["properties"],
            events["context"], events["traits"], strict=True,
        )  # fmt: skip
        for (
            message_id,
            kind,
            name,
            page,
            user,
            anonymous,
            stamp,
            properties,
            context,
            traits,
        ) in columns:
            profile_id = owner.get(message_id)
            if profile_id is None:
                continue
            payload: dict[str, Any] = {"type": kind, "properties": properties or {}}
            if name:
                payload["event"] = name
            if page:
                payload["name"] = page
            if isinstance(context, dict) and context.get("sessionId"):
                payload["context"] = {"sessionId": context["sessionId"]}
            if traits:
                payload["traits"] = traits
            rows.append((
                self.next_event, self.source.pk, message_id, kind, name or "", user or "",
                anonymous or "", stamp, stamp, dumps(payload), "processed", 0, "", stamp,
                profile_id, profile_id,
            ))  # fmt: skip
            self.next_event += 1
            if stamp > last_seen.get(profile_id, ""):
                last_seen[profile_id] = stamp
        copier.put("profiles_event", rows)
        return last_seen

    def _orders(self, orders: pd.DataFrame, owner: dict[str, int]) -> list[tuple[Any, ...]]:
        placed = pd.to_datetime(orders["placed_at"], utc=True, format="mixed", errors="coerce")
        currency = (
            orders["currency"]
            .fillna("")
            .str.strip()
            .str.lower()
            .map(lambda text: CURRENCY.get(text, text.upper() if len(text) == 3 else ""))
        )
        rates = settings.CDP_CURRENCY_RATES
        rows = []
        columns = zip(
            orders["order_id"], placed, currency, orders["total"], orders["items"],
            orders["category"], orders["status"], strict=True,
        )  # fmt: skip
        for order_id, at, code, total, items, category, status in columns:
            profile_id = owner.get(order_id)
            if profile_id is None or pd.isna(at) or code not in rates or at > self.now:
                continue
            try:
                amount = parse_amount(total)
            except NormalisationError:
                continue
            if amount is None or amount < 0:
                continue
            base = (amount * rates[code]).quantize(amount.__class__("0.01"))
            state = str(status or "completed").strip().lower()
            state = state if state in ("completed", "cancelled", "refunded") else "completed"
            quantity = int(items) if str(items).isdigit() else 0
            rows.append((order_id, profile_id, profile_id, self.source.pk, at.isoformat(), state,
                         code, amount, base, quantity, str(category or "")[:100]))  # fmt: skip
        return rows

    def _consent(self, people: pd.DataFrame, ids: np.ndarray) -> tuple[list[Any], list[Any]]:
        now = self.now.isoformat()
        events, states = [], []
        for column, key in CONSENT_PURPOSES.items():
            purpose = self.purposes.get(key)
            if purpose is None:
                continue
            for profile_id, value in zip(ids.tolist(), people[column], strict=True):
                if value in ("", None) or value != value:
                    continue
                granted = "t" if str(value).lower() in ("true", "1", "yes") else "f"
                events.append(
                    (
                        self.next_consent,
                        profile_id,
                        profile_id,
                        purpose,
                        granted,
                        now,
                        "bench",
                        "{}",
                        now,
                    )
                )
                states.append((profile_id, purpose, granted, self.next_consent, now))
                self.next_consent += 1
        return events, states


def _constraints_and_indexes(
    cursor: Any,
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(table, name, definition) of foreign-key/unique constraints, and (name, CREATE INDEX …)
    of the other non-primary-key indexes, of the loaded tables."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u') ORDER BY 1, 2",
        [list(TABLES)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
        "ORDER BY 1",
        [list(TABLES)],
    )
    return constraints, cursor.fetchall()


def _timed(label: str, started: float, work: Callable[[], Any]) -> Any:
    begin = time.monotonic()
    result = work()
    log(f"{label}: {time.monotonic() - begin:.1f}s", started)
    return result


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    today = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--events-per-profile", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default=today, help="the data's today (default: today)")
    parser.add_argument("--chunk-people", type=int, default=20_000)
    parser.add_argument("--reset", action="store_true", help="empty the loaded tables first")
    parser.add_argument("--skip-derived", action="store_true", help="no computed traits/scores")
    return parser.parse_args()


def _drop(cursor: Any, reset: bool, started: float) -> tuple[list[Any], list[Any]]:
    if reset:
        cursor.execute(f"TRUNCATE {', '.join(RESET_TABLES)} RESTART IDENTITY CASCADE")
        log("tables emptied", started)
    constraints, indexes = _constraints_and_indexes(cursor)
    print("-- definitions to restore if this load is interrupted:")
    for table, name, definition in constraints:
        print(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition};")
    for _, definition in indexes:
        print(f"{definition};")
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return constraints, indexes


def _restore(constraints: list[Any], indexes: list[Any], started: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(
            "DELETE FROM profiles_identifier a USING profiles_identifier b WHERE "
            "a.type = b.type AND a.value = b.value AND a.id > b.id"
        )  # an identifier shared by two generated people stays with the first
        for name, definition in indexes:
            _timed(f"index {name}", started, lambda d=definition: cursor.execute(d))
        for table, name, definition in constraints:
            sql = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            _timed(f"constraint {name}", started, lambda q=sql: cursor.execute(q))
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        for table in TABLES:
            _timed(
                f"vacuum analyze {table}",
                started,
                lambda t=table: cursor.execute(f"VACUUM ANALYZE {t}"),
            )


def _load(args: argparse.Namespace, started: float) -> None:
    loader = Loader(args, started)
    config = GeneratorConfig(
        people=args.profiles, seed=args.seed, as_of=loader.as_of,
        events_per_person=args.events_per_profile,
    )  # fmt: skip
    copier = Copier(connection.get_connection_params())
    try:
        for index, chunk in enumerate(generate_chunks(config, chunk_people=args.chunk_people)):
            loader.chunk(copier, chunk)
            if index % 5 == 0:
                log(f"generated {loader.next_profile - 1:,} profiles; rows {copier.rows}", started)
    finally:
        copier.close()
        log(f"COPY done: {copier.rows}", started)


def main() -> int:
    args = _arguments()
    started = time.monotonic()
    if connection.vendor != "postgresql":
        print("load_scale_data needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        constraints, indexes = _drop(cursor, args.reset, started)
    try:
        _load(args, started)
    finally:
        _restore(constraints, indexes, started)
    if not args.skip_derived:
        derive(started)
    log("done", started)
    return 0


def derive(started: float) -> None:
    """Catalogue, computed traits of every profile, RFM scores and lifecycle stages."""
    from profiles.services.catalogue import catalogue_rebuild  # noqa: PLC0415
    from segments.services.scoring import computed_traits_recompute_job, rfm_rescore_job  # noqa: PLC0415

    _timed("catalogue rebuild", started, catalogue_rebuild)
    _timed("computed traits (all profiles)", started, computed_traits_recompute_job)
    _timed("RFM and lifecycle scores", started, rfm_rescore_job)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE profiles_computedtraits")


if __name__ == "__main__":
    sys.exit(main())
