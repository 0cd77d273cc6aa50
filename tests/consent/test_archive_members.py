import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

from consent.compute.archive import archive_members, table_csv

TABLES = {
    "profiles": {
        "profiles.identifier": [
            {"id": 1, "type": "email", "value": "zoë@example.com"},
            {"id": 2, "type": "phone", "value": "+4930123", "source__name": "crm"},
        ],
        "profiles.order": [
            {"id": 7, "total": Decimal("12.50"), "placed_at": datetime(2026, 1, 2, tzinfo=UTC)}
        ],
    },
    "consent": {"consent.consentevent": [{"id": 3, "evidence": {"ip": "203.0.113.9"}}]},
}
MANIFEST = {"request_id": 9, "kind": "access", "generated_at": "2026-05-01T00:00:00+00:00"}


def test_csv_has_every_column_seen_and_nested_values_as_json():
    rows = list(csv.reader(io.StringIO(table_csv(TABLES["profiles"]["profiles.identifier"]))))

    assert rows == [
        ["id", "type", "value", "source__name"],
        ["1", "email", "zoë@example.com", ""],
        ["2", "phone", "+4930123", "crm"],
    ]
    evidence = table_csv(TABLES["consent"]["consent.consentevent"])
    assert evidence == 'id,evidence\n3,"{""ip"": ""203.0.113.9""}"\n'


def test_archive_holds_json_csv_per_table_manifest_and_summary():
    members = archive_members(tables=TABLES, manifest=MANIFEST)

    assert sorted(members) == [
        "csv/consent.consentevent.csv",
        "csv/profiles.identifier.csv",
        "csv/profiles.order.csv",
        "data.json",
        "manifest.json",
        "summary.txt",
    ]
    data = json.loads(members["data.json"])
    assert data["profiles"]["profiles.order"] == [
        {"id": 7, "total": "12.50", "placed_at": "2026-01-02T00:00:00+00:00"}
    ]
    summary = members["summary.txt"].decode()
    assert (
        "Identifiers we hold (email, phone, user and device ids) [profiles.identifier]: 2"
        in summary
    )
    assert "value: zoë@example.com" in summary
    assert "Request: #9 (access)" in summary
