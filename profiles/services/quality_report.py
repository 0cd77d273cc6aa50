"""Profiles services: the data-quality report of one source — completeness and validity per
field (compute.quality rules over chunks of the source's stored values and orders), the
validation failures its rows were quarantined for, and the duplicates resolution found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

import pandas as pd

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import NotFoundError
from profiles.compute.normalise import NormalisationError, normalise_email
from profiles.compute.quality import (
    COLUMN,
    NON_NULL,
    ROWS,
    VALID,
    ColumnRule,
    birth_date_rule,
    event_time_rule,
    known_currency_rule,
    not_negative_rule,
    quality_summary,
)
from profiles.models import (
    MatchCandidate,
    Order,
    QualityReport,
    QuarantinedRecord,
    Source,
    TraitValue,
)

CHUNK = 50_000
PROFILE_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "birth_date",
    "postal_code",
    "city",
    "country",
)
ORDER_FIELDS = ("total", "currency", "placed_at")


def _email_rule() -> ColumnRule:
    def is_valid(value: Any) -> bool:
        try:
            return normalise_email(value) == value
        except NormalisationError:
            return False

    return lambda values: values.map(is_valid)


def _phone_rule() -> ColumnRule:
    return lambda values: values.astype(str).str.fullmatch(r"\+[1-9]\d{6,14}")


def _profile_rules(today: date) -> dict[str, list[ColumnRule]]:
    return {
        "birth_date": [birth_date_rule(today=today)],
        "email": [_email_rule()],
        "phone": [_phone_rule()],
    }


def _trait_frames(source_id: int) -> Iterator[pd.DataFrame]:
    """The source's observed values, one row per record (origin profile), in chunks."""
    rows = (
        TraitValue.objects.filter(source_id=source_id, name__in=PROFILE_FIELDS)
        .order_by("origin_profile_id")
        .values_list("origin_profile_id", "name", "value")
        .iterator(chunk_size=CHUNK)
    )
    batch: list[tuple[int, str, Any]] = []
    for row in rows:
        if len(batch) >= CHUNK and row[0] != batch[-1][0]:
            yield _pivot(batch)
            batch = []
        batch.append(row)
    if batch:
        yield _pivot(batch)


def _pivot(rows: list[tuple[int, str, Any]]) -> pd.DataFrame:
    long = pd.DataFrame.from_records(rows, columns=["record", "name", "value"])
    wide = long.pivot_table(index="record", columns="name", values="value", aggfunc="first")
    return wide.reindex(columns=list(PROFILE_FIELDS))


def _order_frames(source_id: int) -> Iterator[pd.DataFrame]:
    rows = Order.objects.filter(source_id=source_id).order_by("pk").values_list(*ORDER_FIELDS)
    batch: list[tuple[Any, ...]] = []
    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) >= CHUNK:
            yield pd.DataFrame.from_records(batch, columns=list(ORDER_FIELDS))
            batch = []
    if batch:
        yield pd.DataFrame.from_records(batch, columns=list(ORDER_FIELDS))


def _combined(frames: Iterator[pd.DataFrame], rules: dict[str, list[ColumnRule]]) -> list[dict]:
    """quality_summary per chunk, added up (rows, non-null, valid) and turned into shares."""
    totals: dict[str, Counter[str]] = {}
    for frame in frames:
        summary = quality_summary(frame, rules={k: v for k, v in rules.items() if k in frame})
        for row in summary.to_dict("records"):
            total = totals.setdefault(row[COLUMN], Counter())
            total[ROWS] += int(row[ROWS])
            total[NON_NULL] += int(row[NON_NULL])
            if row[VALID] is not pd.NA and row[VALID] is not None:
                total[VALID] += int(row[VALID])
                total["checked"] = 1
    report = []
    for column, total in totals.items():
        rows, present = total[ROWS], total[NON_NULL]
        report.append(
            {
                "field": column,
                "rows": rows,
                "present": present,
                "completeness": round(present / rows, 4) if rows else None,
                "valid": total[VALID] if total["checked"] else None,
                "validity": round(total[VALID] / present, 4)
                if total["checked"] and present
                else None,
            }
        )
    return report


def _duplicates(source_id: int) -> dict[str, int]:
    """Records of this source merged into another profile, and pairs waiting for review."""
    records = TraitValue.objects.filter(source_id=source_id)
    merged = (
        records.exclude(profile_id=F("origin_profile_id"))
        .values("origin_profile_id")
        .distinct()
        .count()
    )
    total = records.values("origin_profile_id").distinct().count()
    origin = records.values("origin_profile_id")
    pending = MatchCandidate.objects.filter(
        status=MatchCandidate.Status.PENDING, left_id__in=origin
    ).count()
    rejected = MatchCandidate.objects.filter(
        status=MatchCandidate.Status.REJECTED, left_id__in=origin
    ).count()
    return {"records": total, "merged": merged, "pending_review": pending, "kept_apart": rejected}


@transaction.atomic
def quality_report_compute(*, source_id: int, actor: Actor) -> QualityReport:
    """Compute and store a quality snapshot of one source. Raises NotFoundError."""
    if not Source.objects.filter(pk=source_id).exists():
        raise NotFoundError(f"No source with id {source_id}.")
    now = timezone.now()
    fields = _combined(_trait_frames(source_id), _profile_rules(now.date()))
    order_rules = {
        "total": [not_negative_rule()],
        "currency": [known_currency_rule()],
        "placed_at": [event_time_rule(now=now)],
    }
    fields += [
        {**row, "field": f"order.{row['field']}"}
        for row in _combined(_order_frames(source_id), order_rules)
    ]
    issues = dict(
        QuarantinedRecord.objects.filter(source_id=source_id)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    duplicates = _duplicates(source_id)
    report = QualityReport.objects.create(
        source_id=source_id,
        records=duplicates["records"],
        fields=fields,
        issues=issues,
        duplicates=duplicates,
    )
    audit_record(
        actor=actor,
        action="profiles.quality_report.compute",
        target=report,
        details={"source_id": source_id},
    )
    return report
