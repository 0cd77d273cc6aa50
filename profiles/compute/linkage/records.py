"""Compute layer: the linkage input columns and their one-pass preparation into code arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

from .arrays import NULL_CODE, recode, string_codes, transform_uniques
from .nicknames import nickname_groups

RECORD_ID = "record_id"
LEFT = "left"
RIGHT = "right"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
BIRTH_DATE = "birth_date"
EMAIL = "email"
PHONE = "phone"
POSTAL_CODE = "postal_code"
CITY = "city"
STREET = "street"
LOYALTY_ID = "loyalty_id"
CONSENT_SIGNATURE = "consent_signature"
JURISDICTION = "jurisdiction"

RECORD_COLUMNS = (
    RECORD_ID,
    FIRST_NAME,
    LAST_NAME,
    BIRTH_DATE,
    EMAIL,
    PHONE,
    POSTAL_CODE,
    CITY,
    STREET,
    LOYALTY_ID,
)
GUARD_COLUMNS = (CONSENT_SIGNATURE, JURISDICTION)


@dataclass(frozen=True, kw_only=True, eq=False)
class PreparedRecords:
    """Per-record integer codes for every compared field (NULL_CODE = missing).

    Names share one code space (`names`) so a first name can be compared with a last name.
    `cleaned` holds (codes, uniques) of every record column after clean_text, for reuse.
    """

    record_ids: np.ndarray
    cleaned: dict[str, tuple[np.ndarray, np.ndarray]]
    names: np.ndarray
    first_code: np.ndarray
    last_code: np.ndarray
    first_frequency: np.ndarray
    last_frequency: np.ndarray
    nickname_group: np.ndarray
    birth_year: np.ndarray
    birth_month: np.ndarray
    birth_day: np.ndarray
    email_code: np.ndarray
    email_local_code: np.ndarray
    phone_code: np.ndarray
    loyalty_code: np.ndarray
    postal_code: np.ndarray
    cities: np.ndarray
    city_code: np.ndarray
    city_frequency: np.ndarray
    streets: np.ndarray
    street_code: np.ndarray
    consent_code: np.ndarray
    jurisdiction_code: np.ndarray

    @property
    def size(self) -> int:
        """Number of records."""
        return int(self.record_ids.size)


def check_records(records: pd.DataFrame) -> np.ndarray:
    """Check the record columns and unique ids; return the ids as an int64 array."""
    require_columns(records, RECORD_COLUMNS)
    ids = records[RECORD_ID].to_numpy(dtype=np.int64)
    if pd.Index(ids).has_duplicates:
        raise ValueError("record_id values must be unique")
    return ids


def clean_text(value: object) -> str | None:
    """Casefold, trim and collapse spaces; None for a missing or blank value."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()).casefold() or None


def cleaned_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a text column after clean_text, computed on its unique values only."""
    codes, uniques = string_codes(values)
    return transform_uniques(codes, uniques, clean_text)


def value_frequency(codes: np.ndarray, n_values: int) -> np.ndarray:
    """Relative frequency of each code among the non-null entries of `codes`."""
    counts = np.bincount(codes[codes >= 0], minlength=n_values).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def _date_parts(
    codes: np.ndarray, uniques: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object), format="ISO8601", errors="coerce")
    parts = []
    for component in (parsed.dt.year, parsed.dt.month, parsed.dt.day):
        per_unique = component.fillna(NULL_CODE).to_numpy(dtype=np.int32)
        parts.append(recode(codes, per_unique).astype(np.int16))
    return parts[0], parts[1], parts[2]


def _local_part(email: object) -> str | None:
    if not isinstance(email, str) or "@" not in email:
        return None
    return email.rsplit("@", 1)[0] or None


def _optional_codes(records: pd.DataFrame, column: str) -> np.ndarray:
    if column not in records.columns:
        return np.full(len(records), NULL_CODE, dtype=np.int32)
    return cleaned_codes(records[column])[0]


def _name_codes(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    size = len(records)
    both = pd.concat([records[FIRST_NAME], records[LAST_NAME]], ignore_index=True)
    codes, names = cleaned_codes(both)
    return codes[:size], codes[size:], names


def prepare_records(records: pd.DataFrame) -> PreparedRecords:
    """Turn the records frame into the code arrays the comparisons use (one pass, vectorised)."""
    ids = check_records(records)
    first_code, last_code, names = _name_codes(records)
    cleaned = {column: cleaned_codes(records[column]) for column in RECORD_COLUMNS[3:]}
    cleaned[FIRST_NAME] = (first_code, names)
    cleaned[LAST_NAME] = (last_code, names)
    year, month, day = _date_parts(*cleaned[BIRTH_DATE])
    email_code, emails = cleaned[EMAIL]
    city_code, cities = cleaned[CITY]
    street_code, streets = cleaned[STREET]
    return PreparedRecords(
        record_ids=ids,
        cleaned=cleaned,
        names=names,
        first_code=first_code,
        last_code=last_code,
        first_frequency=value_frequency(first_code, names.size),
        last_frequency=value_frequency(last_code, names.size),
        nickname_group=nickname_groups(names),
        birth_year=year,
        birth_month=month,
        birth_day=day,
        email_code=email_code,
        email_local_code=transform_uniques(email_code, emails, _local_part)[0],
        phone_code=cleaned[PHONE][0],
        loyalty_code=cleaned[LOYALTY_ID][0],
        postal_code=cleaned[POSTAL_CODE][0],
        cities=cities,
        city_code=city_code,
        city_frequency=value_frequency(city_code, cities.size),
        streets=streets,
        street_code=street_code,
        consent_code=_optional_codes(records, CONSENT_SIGNATURE),
        jurisdiction_code=_optional_codes(records, JURISDICTION),
    )


def positions_of(record_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions in `record_ids` of the ids in `wanted`; raises KeyError for an unknown id."""
    positions = pd.Index(record_ids).get_indexer(wanted)
    if (positions < 0).any():
        raise KeyError("pairs refer to record_id values absent from the records")
    return positions.astype(np.int32)
