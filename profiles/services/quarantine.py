"""Profiles services: fix and replay quarantined records, or discard them, with audit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError
from profiles.compute.messages import MessageError, validate_message
from profiles.compute.records import (
    KIND_CRM,
    KIND_EVENTS,
    RowRejection,
    apply_mapping,
    crm_row_to_message,
    event_row_to_message,
    order_row_to_message,
)
from profiles.models import ImportRun, QuarantinedRecord

from .imports import _row_context
from .ingest import IngestOptions, events_ingest


@dataclass(frozen=True, kw_only=True)
class ReplayOutcome:
    replayed: int
    still_failing: int
    skipped: int


def quarantine_replay(
    *, record_ids: Sequence[int], actor: Actor, payload: dict[str, Any] | None = None
) -> ReplayOutcome:
    """Validate each open record again (with `payload` as the fixed version, for one record)
    and ingest it when it passes. A record that still fails keeps its row with the new reason.
    Idempotent: replayed and discarded records are skipped.
    """
    if payload is not None and len(record_ids) != 1:
        raise InvalidInputError("A fixed payload can replace one record at a time.")
    replayed = failing = skipped = 0
    for record in QuarantinedRecord.objects.filter(pk__in=list(record_ids)).select_related(
        "import_run", "source"
    ):
        if record.status != QuarantinedRecord.Status.OPEN:
            skipped += 1
            continue
        with transaction.atomic():
            ok = _replay_one(record, payload if payload is not None else record.payload, actor)
        replayed += ok
        failing += not ok
    return ReplayOutcome(replayed=replayed, still_failing=failing, skipped=skipped)


def _as_message(record: QuarantinedRecord, payload: dict[str, Any]) -> dict[str, Any] | str:
    run: ImportRun | None = record.import_run
    if record.origin != QuarantinedRecord.Origin.FILE or run is None or run.kind == KIND_EVENTS:
        if run is not None and run.file_format == "csv":
            return event_row_to_message(
                apply_mapping(payload, run.mapping), position=record.position
            )
        return payload
    context = _row_context(record.source)
    mapped = apply_mapping(payload, run.mapping)
    convert = crm_row_to_message if run.kind == KIND_CRM else order_row_to_message
    converted = convert(mapped, position=record.position, context=context)
    if isinstance(converted, RowRejection):
        return f"{converted.code}|{converted.detail}"
    return converted


def _replay_one(record: QuarantinedRecord, payload: dict[str, Any], actor: Actor) -> bool:
    message = _as_message(record, payload)
    if isinstance(message, str):
        code, _, detail = message.partition("|")
        return _still_failing(record, payload, code, detail)
    check = validate_message(
        message,
        index=0,
        type_hint=None,
        received_at=timezone.now(),
        max_bytes=settings.CDP_INGEST_MAX_MESSAGE_BYTES,
        trait_identity=record.origin == QuarantinedRecord.Origin.FILE,
    )
    if isinstance(check, MessageError):
        return _still_failing(record, payload, check.code, check.message)
    events_ingest(
        source_id=record.source_id,
        messages=[message],
        options=IngestOptions(
            origin=record.origin,
            import_run_id=record.import_run_id,
            trait_identity=record.origin == QuarantinedRecord.Origin.FILE,
            correct_skew=False,
        ),
    )
    record.payload = payload
    record.status = QuarantinedRecord.Status.REPLAYED
    record.resolved_at = timezone.now()
    record.resolved_by_label = actor.label
    record.save(update_fields=["payload", "status", "resolved_at", "resolved_by_label"])
    audit_record(actor=actor, action="profiles.quarantine.replay", target=record)
    return True


def _still_failing(
    record: QuarantinedRecord, payload: dict[str, Any], code: str, detail: str
) -> bool:
    record.payload, record.reason, record.detail = payload, code, detail[:500]
    record.save(update_fields=["payload", "reason", "detail"])
    return False


@transaction.atomic
def quarantine_discard(*, record_ids: Sequence[int], actor: Actor) -> int:
    """Mark open records as discarded (kept for the record, never replayed)."""
    count = QuarantinedRecord.objects.filter(
        pk__in=list(record_ids), status=QuarantinedRecord.Status.OPEN
    ).update(
        status=QuarantinedRecord.Status.DISCARDED,
        resolved_at=timezone.now(),
        resolved_by_label=actor.label,
    )
    audit_record(
        actor=actor,
        action="profiles.quarantine.discard",
        target_type="profiles.quarantinedrecord",
        target_id="",
        details={"ids": list(record_ids), "discarded": count},
    )
    return count
