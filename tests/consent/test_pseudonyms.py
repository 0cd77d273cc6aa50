from django.core.management import CommandError, call_command

import pytest

from cdp.core.hashing import identifier_hash
from consent.public import pseudonymise, pseudonymise_rows


def test_a_pseudonym_is_stable_keyed_and_not_the_suppression_hash(settings):
    first = pseudonymise("email", "ada@example.com")

    assert first == pseudonymise("email", "ada@example.com")
    assert first != pseudonymise("user_id", "ada@example.com")
    assert first != identifier_hash("email", "ada@example.com")
    settings.CDP_HASH_KEY = "another-key"
    assert pseudonymise("email", "ada@example.com") != first


def test_rows_keep_other_columns_and_empty_values():
    rows = list(
        pseudonymise_rows(
            [{"email": "ada@example.com", "orders": 3}, {"email": "", "orders": 0}],
            columns={"email": "email"},
        )
    )

    assert rows == [
        {"email": pseudonymise("email", "ada@example.com"), "orders": 3},
        {"email": "", "orders": 0},
    ]


def test_the_command_pseudonymises_a_csv_file(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("email,orders\nada@example.com,3\n")

    call_command("pseudonymise_csv", str(source), str(target), "--column", "email=email")

    assert target.read_text() == f"email,orders\n{pseudonymise('email', 'ada@example.com')},3\n"
    with pytest.raises(CommandError, match="No such column"):
        call_command("pseudonymise_csv", str(source), str(target), "--column", "phone=phone")
