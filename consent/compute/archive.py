"""Consent compute: the members of an access/portability archive — machine-readable JSON and
CSV per table, and a human-readable summary (pure: rows in, bytes out)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Rows = Sequence[Mapping[str, Any]]
Tables = Mapping[str, Mapping[str, Rows]]  # app -> table -> rows

# Friendly titles of the tables CDP's own apps export; other tables show their own name.
TABLE_TITLES = {
    "profiles.profile": "Your customer profile(s)",
    "profiles.identifier": "Identifiers we hold (email, phone, user and device ids)",
    "profiles.profiletrait": "Profile attributes (the values we currently use)",
    "profiles.traitvalue": "Every attribute value received, with its source (provenance)",
    "profiles.event": "Events (page views, actions, purchases)",
    "profiles.order": "Orders",
    "profiles.profilemerge": "Profile merges",
    "profiles.quarantinedrecord": "Records held back for data-quality review",
    "consent.consentevent": "Consent history (every grant and withdrawal)",
    "consent.consentstate": "Current consent per purpose",
    "consent.processingrestriction": "Restrictions and objections",
    "consent.datasubjectrequest": "Your privacy requests",
    "files": "Files that mention you",
}
_LISTED_ROWS = 25  # rows shown per table in the summary; the JSON and CSV hold them all
_SUMMARY_COLUMNS = 6


def json_default(value: Any) -> Any:
    """JSON encoding of the values rows may hold beyond plain JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=json_default, ensure_ascii=False, sort_keys=True)
    if isinstance(value, datetime | date | Decimal):
        return str(json_default(value))
    return str(value)


def table_csv(rows: Rows) -> str:
    """One table as CSV: columns in order of first appearance; nested values as JSON text."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _file_safe(name: str) -> str:
    return "".join(char if char.isalnum() or char in "._-" else "_" for char in name)


def summary_text(*, tables: Tables, manifest: Mapping[str, Any]) -> str:
    """A plain-text account of what the archive holds, table by table."""
    lines = [
        "Personal data held about you",
        "=" * 28,
        f"Request: #{manifest.get('request_id')} ({manifest.get('kind')})",
        f"Generated: {manifest.get('generated_at')}",
        "",
        "The files data.json (everything, machine-readable) and csv/*.csv (one file per table)",
        "hold every record listed below in full.",
        "",
    ]
    for app in sorted(tables):
        for table in sorted(tables[app]):
            rows = tables[app][table]
            title = TABLE_TITLES.get(table, table)
            lines += [f"{title} [{table}]: {len(rows)} record(s)", "-" * 60]
            for row in list(rows)[:_LISTED_ROWS]:
                shown = list(row.items())[:_SUMMARY_COLUMNS]
                lines.append(
                    "  - " + "; ".join(f"{key}: {_cell(value)[:80]}" for key, value in shown)
                )
            if len(rows) > _LISTED_ROWS:
                lines.append(f"  … and {len(rows) - _LISTED_ROWS} more in the CSV and JSON files")
            lines.append("")
    return "\n".join(lines)


def archive_members(*, tables: Tables, manifest: Mapping[str, Any]) -> dict[str, bytes]:
    """Every file of the archive by name: manifest.json, data.json, csv/<table>.csv, summary.txt."""
    data = {
        app: {table: list(rows) for table, rows in parts.items()} for app, parts in tables.items()
    }
    members = {
        "manifest.json": json.dumps(manifest, default=json_default, indent=2).encode(),
        "data.json": json.dumps(
            data, default=json_default, ensure_ascii=False, indent=1, sort_keys=True
        ).encode(),
        "summary.txt": summary_text(tables=tables, manifest=manifest).encode(),
    }
    for app in sorted(tables):
        for table, rows in sorted(tables[app].items()):
            members[f"csv/{_file_safe(table)}.csv"] = table_csv(rows).encode()
    return members
