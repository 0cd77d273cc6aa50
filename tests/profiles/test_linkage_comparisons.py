"""Comparisons: every level of every default comparison on hand-picked pairs."""

from __future__ import annotations

import pandas as pd
import pytest

from profiles.compute.linkage import DEFAULT_COMPARISONS, ComparisonSpec, comparison_levels
from profiles.compute.linkage.records import RECORD_COLUMNS

BASE = {
    "first_name": "anna",
    "last_name": "zimmer",
    "birth_date": "1980-03-04",
    "email": "anna.z@example.org",
    "phone": "+4917000001",
    "postal_code": "10115",
    "city": "berlin",
    "street": "12 main street",
    "loyalty_id": "L1",
}


def _levels(
    left: dict[str, object],
    right: dict[str, object],
    specs: tuple[ComparisonSpec, ...] = DEFAULT_COMPARISONS,
) -> pd.Series:
    rows = [{"record_id": 1, **BASE, **left}, {"record_id": 2, **BASE, **right}]
    records = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    pairs = pd.DataFrame({"left": [1], "right": [2]})
    return comparison_levels(pairs, records, specs).iloc[0]


@pytest.mark.parametrize(
    ("_case", "left", "right", "expected"),
    [
        ("exact", "anna", "Anna ", "exact"),
        ("nickname", "robert", "bob", "nickname"),
        ("nickname_german", "johannes", "hans", "nickname"),
        ("jaro_winkler_096", "martha", "marhta", "similarity>=0.92"),
        ("jaro_winkler_084", "dwayne", "duane", "similarity>=0.8"),
        ("different", "anna", "zoe", "else"),
        ("missing", "anna", None, "null"),
    ],
)
def test_first_name_levels(_case: str, left: str, right: str | None, expected: str) -> None:
    assert _levels({"first_name": left}, {"first_name": right})["first_name"] == expected


@pytest.mark.parametrize(
    ("_case", "left", "right", "expected"),
    [
        ("exact", "zimmer", "zimmer", "exact"),
        ("jaro_winkler_094", "schmidt", "schmitt", "similarity>=0.92"),
        ("jaro_winkler_089", "meyer", "meier", "similarity>=0.8"),
        ("different", "zimmer", "okafor", "else"),
        ("missing", None, "zimmer", "null"),
    ],
)
def test_last_name_levels(_case: str, left: str | None, right: str, expected: str) -> None:
    assert _levels({"last_name": left}, {"last_name": right})["last_name"] == expected


def test_swapped_names_are_compared_crosswise() -> None:
    levels = _levels(
        {"first_name": "john", "last_name": "okafor"}, {"first_name": "okafor", "last_name": "jon"}
    )

    assert levels["names_swapped"]
    assert (levels["first_name"], levels["last_name"]) == ("nickname", "exact")


def test_a_shared_surname_alone_does_not_count_as_a_swap() -> None:
    levels = _levels(
        {"first_name": "sharon", "last_name": "okafor"},
        {"first_name": "okafor", "last_name": "bruce"},
    )

    assert not levels["names_swapped"]
    assert (levels["first_name"], levels["last_name"]) == ("else", "else")


@pytest.mark.parametrize(
    ("_case", "left", "right", "expected"),
    [
        ("exact", "1980-03-04", "1980-03-04", "exact"),
        ("day_typo", "1980-03-04", "1980-03-05", "one_component_differs"),
        ("year_typo", "1980-03-04", "1908-03-04", "one_component_differs"),
        ("day_month_swap", "1980-03-04", "1980-04-03", "one_component_differs"),
        ("year_within_one", "1980-03-04", "1981-07-09", "year_within_1"),
        ("different", "1980-03-04", "1990-07-09", "else"),
        ("missing", "1980-03-04", None, "null"),
        ("unparseable", "1980-13-45", "1980-03-04", "null"),
    ],
)
def test_birth_date_levels(_case: str, left: str, right: str | None, expected: str) -> None:
    assert _levels({"birth_date": left}, {"birth_date": right})["birth_date"] == expected


@pytest.mark.parametrize("field", ["email", "phone", "loyalty_id"])
def test_exact_fields_agree_differ_or_are_null(field: str) -> None:
    assert _levels({}, {})[field] == "exact"
    assert _levels({}, {field: "other"})[field] == "else"
    assert _levels({field: None}, {})[field] == "null"


def test_email_method_has_a_same_local_part_level() -> None:
    spec = (ComparisonSpec(name="email", method="email"),)

    assert _levels({}, {"email": "anna.z@other.net"}, spec)["email"] == "same_local_part"
    assert _levels({}, {"email": "zoe@example.org"}, spec)["email"] == "else"


@pytest.mark.parametrize(
    ("_case", "right", "expected"),
    [
        ("same_address", {"street": "12  Main Street"}, "exact"),
        ("street_words_reordered", {"street": "main street 12"}, "same_postcode_street>=0.85"),
        ("street_typo", {"street": "12 main stret"}, "same_postcode_street>=0.85"),
        ("other_street", {"street": "40 oak avenue"}, "same_postcode"),
        ("same_city", {"postal_code": "10999", "street": "40 oak avenue"}, "same_city"),
        ("city_typo", {"postal_code": "10999", "city": "berlln"}, "city>=0.9"),
        ("moved", {"postal_code": "80331", "city": "munich", "street": "1 elm road"}, "else"),
        ("unknown", {"postal_code": None, "city": None, "street": None}, "null"),
    ],
)
def test_address_levels(_case: str, right: dict[str, object], expected: str) -> None:
    assert _levels({}, right)["address"] == expected


def test_specs_check_their_settings() -> None:
    with pytest.raises(ValueError, match="unknown comparison method"):
        ComparisonSpec(name="x", method="soundex")
    with pytest.raises(ValueError, match="not available"):
        ComparisonSpec(name="x", method="exact", column="first_name")
    with pytest.raises(ValueError, match="descending"):
        ComparisonSpec(name="x", method="last_name", thresholds=(0.8, 0.9))
