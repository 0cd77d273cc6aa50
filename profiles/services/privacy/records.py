"""Profiles services (privacy): find a person in free-form records — quarantined payloads and
import files still on disk — by whole-token matches of their identifiers; rewrite files."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from cdp.core.privacy import Subject
from profiles.models import ImportRun, QuarantinedRecord

_BOUNDARY_BEFORE = r"(?<![\w@.+-])"
_BOUNDARY_AFTER = r"(?![\w@.-])"


def _matcher(subject: Subject) -> re.Pattern[str] | None:
    """Whole-token, case-insensitive matches of the person's identifier values."""
    values = sorted({value for _, value in subject.identifiers if value}, key=len, reverse=True)
    if not values:
        return None
    alternatives = "|".join(re.escape(value) for value in values)
    return re.compile(f"{_BOUNDARY_BEFORE}(?:{alternatives}){_BOUNDARY_AFTER}", re.IGNORECASE)


def quarantine_of(subject: Subject) -> list[QuarantinedRecord]:
    matcher = _matcher(subject)
    if matcher is None:
        return []
    condition = Q(pk__in=[])
    for _, value in subject.identifiers:
        condition |= Q(payload_text__icontains=value)
    candidates = QuarantinedRecord.objects.annotate(
        payload_text=Cast("payload", TextField())
    ).filter(condition)
    return [
        record
        for record in candidates
        if matcher.search(json.dumps(record.payload, ensure_ascii=False))
    ]


def _open_text(path: Path, mode: str) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8", errors="replace")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8", errors="replace")


def _import_files() -> Iterator[tuple[ImportRun, Path]]:
    for run in ImportRun.objects.exclude(file="").order_by("pk"):
        path = Path(run.file.path)
        if path.exists():
            yield run, path


def file_hits(subject: Subject) -> list[dict[str, Any]]:
    matcher = _matcher(subject)
    hits: list[dict[str, Any]] = []
    if matcher is None:
        return hits
    for run, path in _import_files():
        with _open_text(path, "r") as handle:
            for number, line in enumerate(handle, start=1):
                if matcher.search(line):
                    name = str(path.relative_to(settings.MEDIA_ROOT))
                    hits.append(
                        {"path": name, "import_run": run.pk, "line": number, "text": line.rstrip()}
                    )
    return hits


def files_erase(subject: Subject) -> int:
    """Rewrite import files still on disk without the lines naming the person (a CSV header
    stays). Runs in progress are skipped: suppression stops their rows and the file is deleted
    when the run ends. Returns the number of lines removed."""
    matcher = _matcher(subject)
    removed = 0
    if matcher is None:
        return removed
    for run, path in _import_files():
        if run.state == ImportRun.State.RUNNING:
            continue
        with _open_text(path, "r") as handle:
            lines = handle.readlines()
        kept = [
            line
            for number, line in enumerate(lines)
            if (number == 0 and run.file_format == "csv") or not matcher.search(line)
        ]
        if len(kept) == len(lines):
            continue
        removed += len(lines) - len(kept)
        with _open_text(path, "w") as handle:
            handle.writelines(kept)
        ImportRun.objects.filter(pk=run.pk).update(bytes_total=path.stat().st_size)
    return removed
