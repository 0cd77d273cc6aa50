"""Profiles services: accept a batch of messages durably — validate, drop suppressed, quarantine
the bad, insert the good once (dedup on source + messageId), then kick processing after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

import orjson

from cdp.core import jobs
from cdp.core.hashing import identifier_hash
from consent import public as consent_public
from profiles.compute.messages import (
    MessageError,
    ValidMessage,
    message_identifiers,
    parse_timestamp,
    validate_message,
)
from profiles.models import Event, QuarantinedRecord

from .tracking_plans import PLAN_UNKNOWN, tracking_plan_screen, tracking_violations_record

logger = logging.getLogger(__name__)

_INSERT_COLUMNS = (
    "source_id",
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "timestamp",
    "received_at",
    "payload",
    "status",
    "attempts",
    "error",
)
_ROWS_PER_STATEMENT = 500


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    """What happened to a batch. `errors` are per-message; the batch itself was accepted."""

    received: int
    accepted: int
    duplicates: int
    suppressed: int
    assigned_message_ids: int
    errors: list[MessageError] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class IngestOptions:
    """Where a batch came from and how to treat it (API defaults)."""

    origin: str = QuarantinedRecord.Origin.API
    type_hint: str | None = None
    batch_context: Mapping[str, Any] | None = None
    batch_integrations: Mapping[str, Any] | None = None
    sent_at: str | None = None
    import_run_id: int | None = None
    position_offset: int = 0
    positions: Sequence[int] | None = None  # file row number of each message, for quarantine
    trait_identity: bool = False
    correct_skew: bool = True
    default_region: str | None = None


@dataclass(frozen=True, kw_only=True)
class PreparedBatch:
    """A batch after validation (pure work, no database): what `events_store` writes."""

    messages: Sequence[Any]
    options: IngestOptions
    received_at: datetime
    valid: list[ValidMessage]
    errors: list[MessageError]


def events_ingest(
    *,
    source_id: int,
    messages: Sequence[Any],
    options: IngestOptions | None = None,
    received_at: datetime | None = None,
    plan_stamp: Any = PLAN_UNKNOWN,
) -> IngestResult:
    """Store a batch: one transaction, deduplicated, acknowledged only after commit.

    Bad messages go to quarantine with their reason; suppressed people's messages are dropped
    and counted; good ones are inserted with ON CONFLICT DO NOTHING. Idempotent: replaying the
    same batch stores nothing new and reports the messages as duplicates. `plan_stamp` is the
    source's tracking-plan stamp when the caller already read it (the write-key lookup does).
    """
    prepared = events_prepare(messages=messages, options=options, received_at=received_at)
    return events_store(source_id=source_id, prepared=prepared, plan_stamp=plan_stamp)


def events_prepare(
    *,
    messages: Sequence[Any],
    options: IngestOptions | None = None,
    received_at: datetime | None = None,
) -> PreparedBatch:
    """Validate a batch without touching the database, so a file import can prepare the next
    chunk in one thread while the database stores the previous one."""
    options = options or IngestOptions()
    received_at = received_at or timezone.now()
    batch_sent_at = parse_timestamp(options.sent_at) if options.sent_at else None
    valid, errors = _validate_all(messages, options, received_at, batch_sent_at)
    return PreparedBatch(
        messages=messages, options=options, received_at=received_at, valid=valid, errors=errors
    )


def events_store(
    *, source_id: int, prepared: PreparedBatch, plan_stamp: Any = PLAN_UNKNOWN
) -> IngestResult:
    """The database half of `events_ingest`: suppression, tracking plan, quarantine, insert,
    and the processing kick after commit."""
    messages, options = prepared.messages, prepared.options
    valid, errors, suppressed = _drop_suppressed(prepared.valid, prepared.errors, messages, options)
    screening = tracking_plan_screen(source_id=source_id, messages=valid, plan_stamp=plan_stamp)
    valid, quarantined = screening.kept, errors + screening.quarantined
    with transaction.atomic():
        if quarantined:
            _quarantine(source_id, messages, quarantined, options)
        tracking_violations_record(source_id=source_id, screening=screening)
        inserted = _insert_events(source_id, valid, prepared.received_at)
        event_ids = [event_id for event_id, _ in inserted]
        jobs.publish_ids_on_commit(jobs.EVENTS_RECEIVED, "event_ids", event_ids)
    return IngestResult(
        received=len(messages),
        accepted=len(inserted),
        duplicates=len(valid) - len(inserted),
        suppressed=suppressed,
        assigned_message_ids=sum(1 for message in valid if message.message_id_assigned),
        errors=sorted(errors + screening.errors, key=lambda error: error.index),
        event_ids=event_ids,
    )


def _validate_all(
    messages: Sequence[Any],
    options: IngestOptions,
    received_at: datetime,
    batch_sent_at: datetime | None,
) -> tuple[list[ValidMessage], list[MessageError]]:
    valid: list[ValidMessage] = []
    errors: list[MessageError] = []
    max_bytes = settings.CDP_INGEST_MAX_MESSAGE_BYTES
    for index, raw in enumerate(messages):
        outcome = validate_message(
            raw,
            index=index + options.position_offset,
            type_hint=options.type_hint,
            received_at=received_at,
            batch_sent_at=batch_sent_at,
            batch_context=options.batch_context,
            batch_integrations=options.batch_integrations,
            max_bytes=max_bytes,
            correct_skew=options.correct_skew,
            trait_identity=options.trait_identity,
        )
        if isinstance(outcome, MessageError):
            errors.append(outcome)
        else:
            valid.append(outcome)
    return valid, errors


def _drop_suppressed(
    valid: list[ValidMessage],
    errors: list[MessageError],
    messages: Sequence[Any],
    options: IngestOptions,
) -> tuple[list[ValidMessage], list[MessageError], int]:
    """Drop messages carrying any suppressed identifier — valid ones and invalid ones alike, so
    an erased person's data is not kept in quarantine either. At most two queries per batch."""
    if not (valid or errors) or consent_public.suppression_is_empty():
        return valid, errors, 0
    raw = [messages[error.index - options.position_offset] for error in errors]
    flags = suppressed_flags(
        [message.payload for message in valid] + raw, default_region=options.default_region
    )
    kept = [message for message, flag in zip(valid, flags, strict=False) if not flag]
    kept_errors = [
        error for error, flag in zip(errors, flags[len(valid) :], strict=True) if not flag
    ]
    return kept, kept_errors, sum(flags)


def suppressed_flags(payloads: Sequence[Any], *, default_region: str | None) -> list[bool]:
    """For each payload (a message or a file row as a mapping), whether it names a suppressed
    person. Non-mappings are never suppressed. One query for all of them."""
    hashes_per_payload = [
        [
            identifier_hash(kind, value)
            for kind, value in message_identifiers(payload, default_region=default_region)
        ]
        if isinstance(payload, Mapping)
        else []
        for payload in payloads
    ]
    suppressed = consent_public.suppressed_hashes(h for hs in hashes_per_payload for h in hs)
    return [not suppressed.isdisjoint(hashes) for hashes in hashes_per_payload]


def _quarantine(
    source_id: int,
    messages: Sequence[Any],
    errors: Iterable[MessageError],
    options: IngestOptions,
) -> None:
    rows = []
    for error in errors:
        index = error.index - options.position_offset
        raw = messages[index]
        payload = raw if isinstance(raw, dict) else {"_raw": raw}
        if error.code == "message_too_large":
            # Too big to keep whole; the reason and the id are what a fixer needs.
            payload = {
                "_truncated": True,
                "messageId": error.message_id,
                "type": payload.get("type"),
            }
        position = options.positions[index] if options.positions is not None else error.index
        rows.append(
            QuarantinedRecord(
                source_id=source_id,
                import_run_id=options.import_run_id,
                origin=options.origin,
                position=position,
                message_id=error.message_id[:128],
                reason=error.code,
                detail=error.message[:500],
                payload=_json_safe(payload),
            )
        )
    QuarantinedRecord.objects.bulk_create(rows)


def _json_safe(value: Any) -> Any:
    """Quarantine keeps what arrived, minus NULs and values JSON cannot hold."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {str(_json_safe(key)): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _insert_events(
    source_id: int, valid: list[ValidMessage], received_at: datetime
) -> list[tuple[int, str]]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, message_id."""
    if not valid:
        return []
    if connection.vendor == "postgresql":
        return _insert_events_postgresql(source_id, valid, received_at)
    adapt = connection.ops.adapt_datetimefield_value
    received = adapt(received_at)
    inserted: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(valid), _ROWS_PER_STATEMENT):
            chunk = valid[start : start + _ROWS_PER_STATEMENT]
            params: list[Any] = []
            for message in chunk:
                params.extend(
                    (
                        source_id,
                        message.message_id,
                        message.type,
                        message.event[:200],
                        message.user_id,
                        message.anonymous_id,
                        adapt(message.timestamp),
                        received,
                        message.payload_json,
                        Event.Status.PENDING,
                        0,
                        "",
                    )
                )
            cursor.execute(_insert_sql(len(chunk)), params)
            inserted.extend(cursor.fetchall())
    return inserted


def _insert_events_postgresql(
    source_id: int, valid: list[ValidMessage], received_at: datetime
) -> list[tuple[int, str]]:
    """The rows travel as ONE JSON document expanded by jsonb_to_recordset: a statement of four
    parameters instead of twelve per row, so PostgreSQL parses and plans it in microseconds
    (a 100-row VALUES list spent ~4 ms in client interpolation, parsing and planning; measured
    9.4 → 3.8 ms per 100 events). Payloads are embedded as they were serialised, not re-encoded.
    """
    rows = orjson.dumps(
        [
            {
                "m": message.message_id,
                "t": message.type,
                "e": message.event[:200],
                "u": message.user_id,
                "a": message.anonymous_id,
                "ts": message.timestamp,
                "p": orjson.Fragment(message.payload_json),
            }
            for message in valid
        ]
    ).decode()
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_recordset_sql(), [source_id, received_at, Event.Status.PENDING, rows]
        )
        return cursor.fetchall()


@lru_cache(maxsize=1)
def _insert_recordset_sql() -> str:
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in _INSERT_COLUMNS)
    # Table and column names come from model metadata; every value is a bound parameter.
    return (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608
        "SELECT %s, r.m, r.t, r.e, r.u, r.a, r.ts, %s, r.p, %s, 0, '' "
        "FROM jsonb_to_recordset(%s::jsonb) AS r("
        "m text, t text, e text, u text, a text, ts timestamptz, p jsonb) "
        'ON CONFLICT ("source_id", "message_id") DO NOTHING RETURNING "id", "message_id"'
    )


@lru_cache(maxsize=64)
def _insert_sql(rows: int) -> str:
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in _INSERT_COLUMNS)
    one = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"
    # Table and column names come from model metadata; every value is a bound parameter.
    values = ", ".join([one] * rows)
    return (
        f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
        f'ON CONFLICT ("source_id", "message_id") DO NOTHING RETURNING "id", "message_id"'
    )
