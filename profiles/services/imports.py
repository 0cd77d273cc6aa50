"""Profiles services: file imports (CRM, orders, events; CSV or NDJSON, optionally gzipped).

The ImportRun row is the job: its state, byte offset and counts. Execution reads the file in
chunks from the stored offset, turns rows into messages, and sends them through the same
`events_ingest` as the HTTP API, so a file row and an API call are stored and processed alike.
Re-running a finished or half-finished import stores nothing twice (deterministic messageIds).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

import orjson

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError, NotFoundError
from consent import public as consent_public
from profiles.compute.records import (
    CANONICAL_COLUMNS,
    KIND_CRM,
    KIND_EVENTS,
    KIND_ORDERS,
    RowContext,
    RowRejection,
    apply_mapping,
    crm_row_to_message,
    event_row_to_message,
    missing_columns,
    order_row_to_message,
)
from profiles.models import ImportRun, QuarantinedRecord, Source

from .ingest import IngestOptions, PreparedBatch, events_prepare, events_store, suppressed_flags

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5_000
STALE_AFTER = timedelta(minutes=5)
_FORMATS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}


@dataclass(frozen=True, kw_only=True)
class ImportCounts:
    read: int
    stored: int
    quarantined: int
    duplicates: int
    suppressed: int


def detect_format(file_name: str) -> str:
    """csv or ndjson from the file name (a trailing .gz is allowed)."""
    name = file_name.lower().removesuffix(".gz")
    for suffix, kind in _FORMATS.items():
        if name.endswith(suffix):
            return kind
    raise InvalidInputError(
        f"Cannot tell the format of {file_name!r}: "
        "name it .csv, .ndjson or .jsonl (optionally .gz)."
    )


def parse_mapping(text: str) -> dict[str, str]:
    """`first_name=GivenName,email=Mail` -> {"first_name": "GivenName", "email": "Mail"}."""
    mapping: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        canonical, sep, column = part.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise InvalidInputError(f"Bad mapping {part!r}: write canonical=FileColumn.")
        mapping[canonical.strip()] = column.strip()
    return mapping


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def read_header(path: Path, file_format: str) -> list[str]:
    """The column names of a CSV file (NDJSON files have none)."""
    if file_format != "csv":
        return []
    with _open_binary(path) as handle:
        first = handle.readline().decode("utf-8-sig")
    return next(csv.reader([first]), [])


def import_create(
    *,
    source_id: int,
    kind: str,
    upload: File | Path,
    actor: Actor,
    mapping: Mapping[str, str] | None = None,
    file_name: str | None = None,
    start: bool = True,
) -> ImportRun:
    """Store the file and create its ImportRun. When required columns are not found (and not
    mapped) the run waits in state "mapping"; otherwise it is queued and started after commit.
    Raises InvalidInputError for an unknown kind, format, mapping target or an unreadable file.
    """
    if kind not in (KIND_CRM, KIND_ORDERS, KIND_EVENTS):
        raise InvalidInputError(f"Unknown import kind {kind!r}; use crm, orders or events.")
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        raise NotFoundError(f"No source with id {source_id}.")
    name = file_name or Path(getattr(upload, "name", "upload")).name
    file_format = detect_format(name)
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(CANONICAL_COLUMNS[kind]))
    if unknown:
        raise InvalidInputError(
            f"Unknown column(s) for a {kind} import: {', '.join(unknown)}. "
            f"Canonical columns: {', '.join(CANONICAL_COLUMNS[kind])}."
        )
    with transaction.atomic():
        run = ImportRun(
            source=source,
            kind=kind,
            file_name=name,
            file_format=file_format,
            mapping=mapping,
            created_by_id=actor.user_id,
        )
        if isinstance(upload, Path):
            with upload.open("rb") as handle:
                run.file.save(name, File(handle), save=False)
        else:
            run.file.save(name, upload, save=False)
        path = Path(run.file.path)
        run.bytes_total = path.stat().st_size
        header = _safe_header(path, file_format)
        needs_mapping = bool(file_format == "csv" and missing_columns(header, kind, mapping))
        run.state = ImportRun.State.MAPPING if needs_mapping else ImportRun.State.QUEUED
        run.save()
        audit_record(
            actor=actor,
            action="profiles.import.create",
            target=run,
            details={"kind": kind, "source_id": source.pk, "bytes": run.bytes_total},
        )
        if start and run.state == ImportRun.State.QUEUED:
            jobs.publish_on_commit(jobs.IMPORT_REQUESTED, import_run_id=run.pk)
    return run


def _safe_header(path: Path, file_format: str) -> list[str]:
    try:
        return read_header(path, file_format)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"Cannot read the file: {exc}") from exc


def import_mapping_set(
    *, import_run_id: int, mapping: Mapping[str, str], actor: Actor
) -> ImportRun:
    """Complete the mapping step; queue the run when every required column is now found."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=import_run_id).first()
        if run is None:
            raise NotFoundError(f"No import with id {import_run_id}.")
        if run.state != ImportRun.State.MAPPING:
            raise InvalidInputError("This import is past its mapping step.")
        clean = {key: value for key, value in mapping.items() if value}
        missing = missing_columns(
            read_header(Path(run.file.path), run.file_format), run.kind, clean
        )
        if missing:
            raise InvalidInputError(f"Still missing required column(s): {', '.join(missing)}.")
        run.mapping = clean
        run.state = ImportRun.State.QUEUED
        run.save(update_fields=["mapping", "state", "updated_at"])
        audit_record(
            actor=actor, action="profiles.import.map", target=run, details={"mapping": clean}
        )
        jobs.publish_on_commit(jobs.IMPORT_REQUESTED, import_run_id=run.pk)
    return run


def _claim(import_run_id: int) -> ImportRun | None:
    """Take the run for this worker: queued, or running with a stale heartbeat (crashed)."""
    with transaction.atomic():
        run = (
            ImportRun.objects.select_for_update(skip_locked=True)
            .select_related("source")
            .filter(pk=import_run_id)
            .first()
        )
        if run is None:
            return None
        stale = run.heartbeat_at is None or run.heartbeat_at < timezone.now() - STALE_AFTER
        if run.state == ImportRun.State.QUEUED or (run.state == ImportRun.State.RUNNING and stale):
            run.state = ImportRun.State.RUNNING
            run.started_at = run.started_at or timezone.now()
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["state", "started_at", "heartbeat_at", "updated_at"])
            return run
    return None


def import_run_execute(
    *, import_run_id: int, progress: Callable[[ImportRun], None] | None = None
) -> str:
    """Run an import from its stored offset to the end; return its final state.

    Idempotent: a finished run, or one another worker holds, is left alone.
    """
    run = _claim(import_run_id)
    if run is None:
        state = ImportRun.objects.filter(pk=import_run_id).values_list("state", flat=True).first()
        return state or "missing"
    try:
        _execute(run, progress)
    except Exception as exc:
        logger.exception("import_failed", extra={"import_run_id": run.pk})
        ImportRun.objects.filter(pk=run.pk).update(
            state=ImportRun.State.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        return ImportRun.State.FAILED
    return ImportRun.State.SUCCEEDED


def _row_context(source: Source) -> RowContext:
    now = timezone.now()
    return RowContext(
        now=now,
        today=now.date(),
        default_region=source.default_phone_region or settings.CDP_DEFAULT_PHONE_REGION,
        base_currency=settings.CDP_BASE_CURRENCY,
        currency_rates=settings.CDP_CURRENCY_RATES,
    )


def _execute(run: ImportRun, progress: Callable[[ImportRun], None] | None) -> None:
    context = _row_context(run.source)
    path = Path(run.file.path)
    with contextlib.closing(_prepared_chunks(run, path, context)) as chunks:
        for chunk in chunks:
            _store_chunk(run, chunk, context)
            if progress is not None:
                progress(run)
    run.state = ImportRun.State.SUCCEEDED
    run.finished_at = timezone.now()
    run.bytes_read = run.bytes_total
    run.save()
    # The uploaded file holds personal data that now lives in the database: do not keep it.
    run.file.delete(save=False)
    ImportRun.objects.filter(pk=run.pk).update(file="")


def _chunks(path: Path, file_format: str, *, start: int) -> Iterator[tuple[list[Any], int]]:
    """Yield (rows, byte offset after them). CSV rows are dicts; NDJSON rows parsed JSON."""
    with _open_binary(path) as handle:
        header_line = handle.readline() if file_format == "csv" else b""
        position = max(start, len(header_line))
        if file_format == "csv":
            header = next(csv.reader([header_line.decode("utf-8-sig")]), [])
        handle.seek(position)
        counter = _LineCounter(handle, position)
        if file_format == "csv":
            reader: Iterator[Any] = (
                dict(zip(header, values, strict=False)) for values in csv.reader(counter.text())
            )
        else:
            reader = (_parse_json_line(line) for line in counter if line.strip())
        rows: list[Any] = []
        for row in reader:
            rows.append(row)
            if len(rows) >= CHUNK_ROWS:
                yield rows, counter.position
                rows = []
        if rows:
            yield rows, counter.position


class _LineCounter:
    """Iterates text lines of a binary file and knows the byte offset after the last one."""

    def __init__(self, handle: IO[bytes], position: int) -> None:
        self.handle = handle
        self.position = position

    def __iter__(self) -> Iterator[bytes]:
        for raw in self.handle:
            self.position += len(raw)
            yield raw

    def text(self) -> Iterator[str]:
        for raw in self:
            yield raw.decode("utf-8", "replace")


class _BadLine:
    def __init__(self, text: str, error: str) -> None:
        self.text = text
        self.error = error


def _parse_json_line(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:  # also invalid UTF-8, NaN and integers over 64 bits
        return _BadLine(line[:2000].decode("utf-8", "replace"), str(exc))


@dataclass(frozen=True, kw_only=True)
class _PreparedChunk:
    rows: int
    offset: int  # byte offset after the chunk
    rejections: list[tuple[int, Any, RowRejection | _BadLine]]
    batch: PreparedBatch


class _ReaderFailed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_READER_DONE = object()


def _prepared_chunks(run: ImportRun, path: Path, context: RowContext) -> Iterator[_PreparedChunk]:
    """Chunks read, converted and validated by a reader thread while the caller stores the one
    before. The reader is pure Python and never touches the database; psycopg2 releases the GIL
    while PostgreSQL works, so reading and storing overlap on two cores. At most two chunks
    wait in memory."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        try:
            first_position = run.rows_read + 1
            for rows, offset in _chunks(path, run.file_format, start=run.bytes_read):
                if stop.is_set():
                    return
                ready.put(_prepare_chunk(run, rows, offset, first_position, context))
                first_position += len(rows)
            ready.put(_READER_DONE)
        except BaseException as exc:
            ready.put(_ReaderFailed(exc))

    reader = threading.Thread(target=read, name=f"import-{run.pk}-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if item is _READER_DONE:
                return
            if isinstance(item, _ReaderFailed):
                raise item.error
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to put, then let it end
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        reader.join()


def _prepare_chunk(
    run: ImportRun, rows: list[Any], offset: int, first_position: int, context: RowContext
) -> _PreparedChunk:
    messages: list[Any] = []
    positions: list[int] = []
    rejections: list[tuple[int, Any, RowRejection | _BadLine]] = []
    for index, row in enumerate(rows):
        position = first_position + index
        converted = _convert(run, row, position, context)
        if isinstance(converted, RowRejection | _BadLine):
            rejections.append((position, row, converted))
        else:
            messages.append(converted)
            positions.append(position)
    batch = events_prepare(
        messages=messages,
        options=IngestOptions(
            origin=QuarantinedRecord.Origin.FILE,
            import_run_id=run.pk,
            positions=positions,
            trait_identity=True,
            correct_skew=False,
            default_region=context.default_region,
        ),
    )
    return _PreparedChunk(rows=len(rows), offset=offset, rejections=rejections, batch=batch)


def _store_chunk(run: ImportRun, chunk: _PreparedChunk, context: RowContext) -> None:
    """Store one chunk and advance the run's offset and counts in the same transaction, so a
    crash either keeps both or neither."""
    with transaction.atomic():
        rejections, suppressed = _drop_suppressed_rows(run, chunk.rejections, context)
        _quarantine_rows(run, rejections)
        result = events_store(source_id=run.source_id, prepared=chunk.batch)
        run.rows_read += chunk.rows
        run.rows_stored += result.accepted
        run.rows_duplicate += result.duplicates
        run.rows_suppressed += result.suppressed + suppressed
        run.rows_quarantined += len(rejections) + len(result.errors)
        run.bytes_read = chunk.offset
        run.heartbeat_at = timezone.now()
        ImportRun.objects.filter(pk=run.pk).update(
            bytes_read=run.bytes_read,
            rows_read=run.rows_read,
            rows_stored=run.rows_stored,
            rows_quarantined=run.rows_quarantined,
            rows_duplicate=run.rows_duplicate,
            rows_suppressed=run.rows_suppressed,
            heartbeat_at=run.heartbeat_at,
        )


def _convert(
    run: ImportRun, row: Any, position: int, context: RowContext
) -> dict[str, Any] | RowRejection | _BadLine:
    if isinstance(row, _BadLine):
        return row
    if run.kind == KIND_EVENTS:
        if not isinstance(row, dict):
            return _BadLine(orjson.dumps(row).decode()[:2000], "each line must be a JSON object")
        message = (
            event_row_to_message(apply_mapping(row, run.mapping), position=position)
            if run.file_format == "csv"
            else row  # freshly parsed from its line: ours to complete
        )
        message.setdefault("messageId", f"import:{run.pk}:{position}")
        return message
    mapped = apply_mapping(row, run.mapping)
    if run.kind == KIND_CRM:
        return crm_row_to_message(mapped, position=position, context=context)
    return order_row_to_message(mapped, position=position, context=context)


def _drop_suppressed_rows(
    run: ImportRun,
    rejections: list[tuple[int, Any, RowRejection | _BadLine]],
    context: RowContext,
) -> tuple[list[tuple[int, Any, RowRejection | _BadLine]], int]:
    """Rejected rows of a suppressed person are dropped, not quarantined: an erased person's
    data must not come back through the quarantine either."""
    if not rejections or consent_public.suppression_is_empty():
        return rejections, 0
    as_messages = [
        _row_identity(apply_mapping(row, run.mapping)) if isinstance(row, dict) else None
        for _, row, _ in rejections
    ]
    flags = suppressed_flags(as_messages, default_region=context.default_region)
    kept = [rejection for rejection, flag in zip(rejections, flags, strict=True) if not flag]
    return kept, len(rejections) - len(kept)


def _row_identity(row: dict[str, Any]) -> dict[str, Any]:
    """A file row's identifiers in message shape (what message_identifiers reads)."""
    if "type" in row or "userId" in row or "anonymousId" in row:
        return row  # an NDJSON event line is a message already
    traits = {key: row.get(key) for key in ("email", "phone", "crm_id", "loyalty_id")}
    return {
        "type": "identify",
        "userId": row.get("user_id"),
        "anonymousId": row.get("anonymous_id"),
        "traits": traits,
    }


def _quarantine_rows(
    run: ImportRun, rejections: list[tuple[int, Any, RowRejection | _BadLine]]
) -> None:
    records = []
    for position, row, rejection in rejections:
        if isinstance(rejection, _BadLine):
            code, detail, payload = "invalid_json", rejection.error, {"_raw": rejection.text}
        else:
            code, detail = rejection.code, rejection.detail
            payload = row if isinstance(row, dict) else {"_raw": row}
        records.append(
            QuarantinedRecord(
                source_id=run.source_id,
                import_run=run,
                origin=QuarantinedRecord.Origin.FILE,
                position=position,
                message_id="",
                reason=code,
                detail=detail[:500],
                payload=payload,
            )
        )
    QuarantinedRecord.objects.bulk_create(records)


def imports_sweep() -> int:
    """Re-kick imports that are queued, or running with a stale heartbeat. Returns how many."""
    stale = timezone.now() - STALE_AFTER
    ids = list(
        ImportRun.objects.filter(state=ImportRun.State.QUEUED).values_list("pk", flat=True)
    ) + list(
        ImportRun.objects.filter(state=ImportRun.State.RUNNING, heartbeat_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    for run_id in ids:
        jobs.publish_on_commit(jobs.IMPORT_REQUESTED, import_run_id=run_id)
    return len(ids)
