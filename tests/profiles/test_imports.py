import gzip
import json
from pathlib import Path

from django.core.management import CommandError, call_command

import pytest

from profiles.models import Event, ImportRun, Order, Profile, QuarantinedRecord
from profiles.services.imports import import_create, import_run_execute
from profiles.services.quarantine import quarantine_replay

pytestmark = pytest.mark.django_db

CRM = (
    "crm_id,email,phone,first_name,last_name,birth_date,country,state,consent_email\n"
    "C1, Ada@Example.com ,030 1234567,ada,lovelace,10/12/1985,Germany,Bavaria,yes\n"
    "C2,bad-email,,Bob,Smith,1990-01-01,US,NY,no\n"
    "C3,carl@example.com,(212) 555-0142,Carl,Jones,2999-01-01,US,new york,\n"
    ",dora@example.com,,Dora,,,,,\n"
)
ORDERS = (
    "order_id,user_id,email,placed_at,currency,total,items,category,status\n"
    'O1,u1,ada@example.com,2026-01-05T10:00:00+01:00,€,"1.234,50",2,shoes,completed\n'
    "O2,u1,,2026-01-06,usd,-5.00,1,bags,completed\n"
    "O3,,,2026-01-07,EUR,10,1,bags,completed\n"
    "O4,u2,,31/02/2026,EUR,10,1,bags,completed\n"
)


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _run(source, kind, path, actor, mapping=None):
    run = import_create(
        source_id=source.pk, kind=kind, upload=path, actor=actor, mapping=mapping, start=False
    )
    import_run_execute(import_run_id=run.pk)
    run.refresh_from_db()
    return run


def test_crm_import_stores_good_rows_and_quarantines_bad_ones_with_reasons(
    tmp_path, source_and_key, actor, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        run = _run(source, "crm", _file(tmp_path, "crm.csv", CRM), actor)

    assert (run.state, run.rows_read, run.rows_stored, run.rows_quarantined) == (
        "succeeded",
        4,
        1,
        3,
    )
    reasons = dict(QuarantinedRecord.objects.values_list("position", "reason"))
    assert reasons == {2: "invalid_email", 3: "birth_date_in_future", 4: "missing_value"}
    profile = Profile.objects.get()
    assert profile.traits["email"] == "ada@example.com"
    assert profile.traits["phone"] == "+49301234567"
    assert profile.traits["birth_date"] == "1985-12-10"
    assert profile.traits["state"] == "DE-BY"
    assert not run.file  # the uploaded file is not kept once imported


def test_reimporting_the_same_file_stores_nothing_twice(tmp_path, source_and_key, actor):
    source, _ = source_and_key
    path = _file(tmp_path, "crm.csv", CRM)
    _run(source, "crm", path, actor)
    second = _run(source, "crm", path, actor)

    assert (second.rows_stored, second.rows_duplicate) == (0, 1)
    assert Event.objects.count() == 1


def test_orders_import_normalises_money_and_dates_and_rejects_anomalies(
    tmp_path, source_and_key, actor, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        run = _run(source, "orders", _file(tmp_path, "orders.csv", ORDERS), actor)

    assert (run.rows_stored, run.rows_quarantined) == (1, 3)
    assert dict(QuarantinedRecord.objects.values_list("position", "reason")) == {
        2: "negative_amount",
        3: "missing_identity",
        4: "impossible_date",
    }
    order = Order.objects.get()
    assert (order.order_id, str(order.total), order.currency) == ("O1", "1234.50", "EUR")
    assert order.placed_at.isoformat() == "2026-01-05T09:00:00+00:00"


def test_events_ndjson_import_gzipped(tmp_path, source_and_key, actor):
    source, _ = source_and_key
    lines = [
        json.dumps({"type": "track", "event": "Viewed", "userId": "u1", "messageId": f"m{i}"})
        for i in range(5)
    ] + ["{not json", json.dumps({"type": "track", "userId": "u1"})]
    path = tmp_path / "events.ndjson.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))

    run = _run(source, "events", path, actor)

    assert (run.rows_read, run.rows_stored, run.rows_quarantined) == (7, 5, 2)
    assert sorted(QuarantinedRecord.objects.values_list("reason", flat=True)) == [
        "invalid_json",
        "missing_event",
    ]


def test_missing_required_columns_wait_for_a_mapping(tmp_path, source_and_key, actor):
    source, _ = source_and_key
    path = _file(tmp_path, "crm.csv", "CustomerNo,Mail\nC9,e@example.com\n")
    run = import_create(source_id=source.pk, kind="crm", upload=path, actor=actor, start=False)
    assert run.state == ImportRun.State.MAPPING

    mapped = import_create(
        source_id=source.pk,
        kind="crm",
        upload=path,
        actor=actor,
        mapping={"crm_id": "CustomerNo", "email": "Mail"},
        start=False,
    )
    import_run_execute(import_run_id=mapped.pk)
    mapped.refresh_from_db()
    assert (mapped.state, mapped.rows_stored) == ("succeeded", 1)
    assert Event.objects.get().payload["traits"] == {"email": "e@example.com", "crm_id": "C9"}


def test_a_fixed_quarantined_row_is_replayed_once(
    tmp_path, source_and_key, actor, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    _run(source, "crm", _file(tmp_path, "crm.csv", CRM), actor)
    record = QuarantinedRecord.objects.get(reason="invalid_email")
    fixed = {**record.payload, "email": "bob@example.com"}

    with django_capture_on_commit_callbacks(execute=True):
        first = quarantine_replay(record_ids=[record.pk], actor=actor, payload=fixed)
    second = quarantine_replay(record_ids=[record.pk], actor=actor)

    assert (first.replayed, second.replayed, second.skipped) == (1, 0, 1)
    record.refresh_from_db()
    assert record.status == "replayed"
    assert Event.objects.filter(payload__traits__email="bob@example.com").count() == 1


def test_replaying_a_still_bad_row_keeps_it_open_with_the_new_reason(
    tmp_path, source_and_key, actor
):
    source, _ = source_and_key
    _run(source, "crm", _file(tmp_path, "crm.csv", CRM), actor)
    record = QuarantinedRecord.objects.get(reason="invalid_email")

    outcome = quarantine_replay(
        record_ids=[record.pk], actor=actor, payload={**record.payload, "email": "still bad"}
    )

    record.refresh_from_db()
    assert (outcome.still_failing, record.status, record.reason) == (1, "open", "invalid_email")
    assert Event.objects.count() == 1


def test_import_command_reports_counts_and_fails_clearly(tmp_path, source_and_key, capsys):
    path = _file(tmp_path, "crm.csv", CRM)
    call_command("import_file", str(path), source="web", kind="crm", no_progress=True)
    assert "read 4, stored 1, quarantined 3, duplicates 0" in capsys.readouterr().out

    with pytest.raises(CommandError, match="No source named 'nope'"):
        call_command("import_file", str(path), source="nope", kind="crm", no_progress=True)
    with pytest.raises(CommandError, match="Bad mapping"):
        call_command(
            "import_file", str(path), source="web", kind="crm", mapping="oops", no_progress=True
        )
    assert ImportRun.objects.count() == 1


def test_an_interrupted_import_resumes_where_it_stopped(
    tmp_path, source_and_key, actor, monkeypatch
):
    from profiles.services import imports

    source, _ = source_and_key
    lines = [
        json.dumps({"type": "track", "event": "E", "userId": "u", "messageId": f"m{i}"})
        for i in range(25)
    ]
    path = _file(tmp_path, "events.ndjson", "\n".join(lines) + "\n")
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    run = import_create(source_id=source.pk, kind="events", upload=path, actor=actor, start=False)
    calls = {"n": 0}

    def crash_after_first_chunk(current):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker killed")

    import_run_execute(import_run_id=run.pk, progress=crash_after_first_chunk)
    run.refresh_from_db()
    assert (run.state, run.rows_read, Event.objects.count()) == ("failed", 10, 10)

    ImportRun.objects.filter(pk=run.pk).update(state="queued")
    import_run_execute(import_run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.rows_read, run.rows_stored, Event.objects.count()) == (
        "succeeded",
        25,
        25,
        25,
    )


def test_a_large_events_import_keeps_awkward_text_exactly_and_dedups(
    tmp_path, source_and_key, actor
):
    """A whole 5,000-row chunk goes to PostgreSQL as one JSON document: text with tabs,
    newlines, backslashes, quotes and non-ASCII must arrive exactly, and a re-import must store
    nothing."""
    source, _ = source_and_key
    awkward = 'tab\there, new\nline, back\\slash \\N, "quoted", crème brûlée 東京 🚀, \\\\ end\r'
    lines = [
        json.dumps(
            {
                "type": "track",
                "event": f"Viewed {awkward}" if i % 100 == 0 else "Viewed",
                "userId": f"user\t{i % 7}\\" if i % 2 else f"u{i % 13}",
                "messageId": f"m-{i}\\{i % 3}",
                "timestamp": "2026-03-01T10:00:00.123456+02:00",
                "properties": {"note": awkward, "n": i, "nested": {"list": [awkward, None, 1.5]}},
            }
        )
        for i in range(2_400)
    ]
    lines[1_234] = lines[1_233]  # a duplicate inside the file
    path = _file(tmp_path, "events.ndjson", "\n".join(lines) + "\n")

    run = _run(source, "events", path, actor)

    assert (run.state, run.rows_read, run.rows_stored, run.rows_duplicate) == (
        "succeeded",
        2_400,
        2_399,
        1,
    )
    event = Event.objects.get(message_id="m-1\\1")
    assert (event.user_id, event.event) == ("user\t1\\", "Viewed")
    assert event.payload["properties"]["note"] == awkward
    assert event.payload["properties"]["nested"] == {"list": [awkward, None, 1.5]}
    assert event.timestamp.isoformat() == "2026-03-01T08:00:00.123456+00:00"
    # Event names are stored trimmed (the payload keeps the name as sent).
    assert Event.objects.get(message_id="m-100\\1").event == f"Viewed {awkward}".strip()

    again = _run(source, "events", _file(tmp_path, "again.ndjson", "\n".join(lines)), actor)
    assert (again.rows_stored, again.rows_duplicate) == (0, 2_400)
    assert Event.objects.count() == 2_399


def test_a_reader_failure_fails_the_import_with_its_reason(
    tmp_path, source_and_key, actor, monkeypatch
):
    """The file is read in a background thread; its errors still fail the run, clearly."""
    from profiles.services import imports

    source, _ = source_and_key
    lines = [
        json.dumps({"type": "track", "event": "E", "userId": "u", "messageId": f"m{i}"})
        for i in range(30)
    ]
    path = _file(tmp_path, "events.ndjson", "\n".join(lines) + "\n")
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    original = imports._prepare_chunk
    calls = {"n": 0}

    def fail_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk read error")
        return original(*args, **kwargs)

    monkeypatch.setattr(imports, "_prepare_chunk", fail_on_second_chunk)
    run = _run(source, "events", path, actor)

    assert (run.state, run.rows_read, run.rows_stored) == ("failed", 10, 10)
    assert run.error == "OSError: disk read error"
