"""Demo data: the CRM export, one messy row per record, with planted duplicate records."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import formats, ids
from .names import COUNTRIES, NICKNAMES
from .people import CITIES, CITY_COUNTRY, Population, postcodes, street_line

CRM_COLUMNS = (
    "crm_id", "email", "phone", "first_name", "last_name", "birth_date", "gender", "street",
    "city", "state", "postal_code", "country", "loyalty_id", "signup_at", "consent_email",
    "consent_sms", "consent_analytics", "consent_ads",
)  # fmt: skip
CONSENT_COLUMNS = ("consent_email", "consent_sms", "consent_analytics", "consent_ads")
SECOND_DUPLICATE_RATE = 0.25  # of people with duplicates, the share with two extra records
# Missing-value rates on every record; duplicates lose more (see _vary_contacts).
MISSING = {
    "email": 0.04, "phone": 0.1, "birth_date": 0.1, "street": 0.06, "city": 0.03,
    "postal_code": 0.04, "country": 0.03, "first_name": 0.005, "last_name": 0.005,
}  # fmt: skip
INVALID_BIRTH_DATE_RATE = 0.006
MALFORMED_EMAIL_RATE = 0.004


@dataclass(kw_only=True, eq=False)
class _Records:
    """Clean values of every CRM record before formatting (one list entry per record)."""

    person: np.ndarray  # position of the person in the chunk
    slot: np.ndarray  # 0 main record, 1-2 duplicates
    first: list[str]
    last: list[str]
    email: list[str]
    has_phone: np.ndarray
    has_birth_date: np.ndarray
    has_loyalty: np.ndarray
    street: list[str]
    city: np.ndarray
    postcode: list[str]
    signup_day: np.ndarray


def typo(word: str, kind: int, position: float) -> str:
    """Swap two neighbouring letters (kind 0), drop one (1) or double one (2)."""
    if len(word) < 3:
        return word + word[-1]
    i = 1 + int(position * (len(word) - 2))  # never the first letter
    if kind == 0:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def _records(rng: np.random.Generator, pop: Population, duplicate_rate: float) -> _Records:
    n = pop.size
    has_duplicate = rng.random(n) < duplicate_rate
    extra = np.where(has_duplicate, 1 + (rng.random(n) < SECOND_DUPLICATE_RATE), 0)
    person = np.concatenate([np.arange(n), np.repeat(np.arange(n), extra)])
    first_extra = np.repeat(np.cumsum(extra) - extra, extra)
    slot = np.concatenate([np.zeros(n, dtype=np.int64), np.arange(extra.sum()) - first_extra + 1])
    frame = pop.frame
    return _Records(
        person=person,
        slot=slot,
        first=frame["first_name"].to_numpy(dtype=object)[person].tolist(),
        last=frame["last_name"].to_numpy(dtype=object)[person].tolist(),
        email=frame["email"].to_numpy(dtype=object)[person].tolist(),
        has_phone=np.ones(person.size, dtype=bool),
        has_birth_date=np.ones(person.size, dtype=bool),
        has_loyalty=pop.has_loyalty[person].copy(),
        street=frame["street"].to_numpy(dtype=object)[person].tolist(),
        city=pop.city[person].copy(),
        postcode=frame["postal_code"].to_numpy(dtype=object)[person].tolist(),
        signup_day=pop.signup_day[person].copy(),
    )


def _vary_names(rng: np.random.Generator, rec: _Records, rows: np.ndarray) -> None:
    draw = rng.random((rows.size, 4)).tolist()
    kinds = rng.integers(0, 3, rows.size).tolist()
    for row, (u_typo, u_nick, u_swap, u_pos), kind in zip(rows.tolist(), draw, kinds, strict=True):
        first, last = rec.first[row], rec.last[row]
        nicknames = NICKNAMES.get(first, ())
        if u_nick < 0.3 and nicknames:
            first = nicknames[int(u_nick / 0.3 * len(nicknames))]
        if u_typo < 0.3:
            if u_pos < 0.5:
                first = typo(first, kind, u_pos * 2)
            else:
                last = typo(last, kind, u_pos * 2 - 1)
        if u_swap < 0.07:
            first, last = last, first
        rec.first[row], rec.last[row] = first, last


def _vary_contacts(
    rng: np.random.Generator, rec: _Records, rows: np.ndarray, pop: Population
) -> None:
    second = pop.frame["second_email"].to_numpy(dtype=object)
    draw = rng.random((rows.size, 4))
    for row, u in zip(rows.tolist(), draw[:, 0].tolist(), strict=True):
        other = second[rec.person[row]]
        if u >= 0.8:
            rec.email[row] = ""
        elif u >= 0.55 and other:
            rec.email[row] = other
    rec.has_phone[rows] = draw[:, 1] >= 0.3
    rec.has_birth_date[rows] = draw[:, 2] >= 0.2
    rec.has_loyalty[rows] &= draw[:, 3] < 0.4
    # Created after the main record, before as_of.
    gap = rng.uniform(20, np.maximum(-rec.signup_day[rows] - 1, 21))
    rec.signup_day[rows] = np.minimum(rec.signup_day[rows] + gap, -0.01)


def _vary_addresses(
    rng: np.random.Generator, rec: _Records, rows: np.ndarray, pop: Population
) -> None:
    moved = rows[rng.random(rows.size) < 0.25]
    new_city = rng.random(moved.size) < 0.5
    country = pop.country[rec.person[moved]]
    for i, (row, c) in enumerate(zip(moved.tolist(), country.tolist(), strict=True)):
        if new_city[i]:
            towns = np.flatnonzero(c == CITY_COUNTRY)
            rec.city[row] = towns[int(rng.integers(towns.size))]
        streets = COUNTRIES[c].streets
        house = int(rng.integers(1, 200))
        rec.street[row] = street_line(c, streets[int(rng.integers(len(streets)))], house)
    fresh = postcodes(rng, rec.city[moved])
    for row, code in zip(moved.tolist(), fresh, strict=True):
        rec.postcode[row] = code


def _names_and_contacts(
    rng: np.random.Generator, rec: _Records, pop: Population, as_of: datetime.date
) -> dict[str, list[str]]:
    country = pop.country[rec.person]
    email = formats.format_emails(
        rng, rec.email, case_rate=0.1, space_rate=0.03, malformed_rate=MALFORMED_EMAIL_RATE
    )
    phone = formats.format_phones(
        rng, country, pop.phone_nsn[rec.person], pop.phone_area_length[rec.person]
    )
    births = formats.format_dates(
        rng, pop.birth_date[rec.person], country, as_of=as_of,
        invalid_rate=INVALID_BIRTH_DATE_RATE,
    )  # fmt: skip
    return {
        "email": formats.blank_out(rng, email, MISSING["email"]),
        "phone": [p if keep else "" for p, keep in zip(phone, rec.has_phone.tolist(), strict=True)],
        "first_name": formats.messy_case(rng, rec.first, upper=0.03, lower=0.03, space=0.01),
        "last_name": formats.messy_case(rng, rec.last, upper=0.04, lower=0.02, space=0.01),
        "birth_date": [
            b if keep else "" for b, keep in zip(births, rec.has_birth_date.tolist(), strict=True)
        ],
        "gender": formats.format_gender(rng, pop.gender[rec.person]),
    }


def _address(rng: np.random.Generator, rec: _Records, pop: Population) -> dict[str, list[str]]:
    country = pop.country[rec.person]
    codes = [COUNTRIES[c].code for c in country.tolist()]
    cities = [CITIES[c] for c in rec.city.tolist()]
    state = formats.format_states(
        rng, codes, [c.state_code for c in cities], [c.state_name for c in cities]
    )
    return {
        "street": formats.format_streets(rng, rec.street),
        "city": formats.format_cities(rng, [c.name for c in cities]),
        "state": state,
        "postal_code": formats.format_postcodes(rng, codes, rec.postcode),
        "country": formats.format_countries(rng, country),
    }


def _loyalty_ids(rng: np.random.Generator, rec: _Records, pop: Population) -> list[str]:
    loyalty = pop.frame["loyalty_id"].to_numpy(dtype=object)[rec.person].tolist()
    draw = rng.random(len(loyalty)).tolist()
    out = []
    for value, keep, u in zip(loyalty, rec.has_loyalty.tolist(), draw, strict=True):
        if not keep or not value or u < 0.03:
            out.append("")
        else:
            out.append(value.lower() if u < 0.05 else value[1:] if u < 0.1 else value)
    return out


def build_crm(
    rng: np.random.Generator, pop: Population, *, start: int, seed: int, as_of: datetime.date,
    duplicate_rate: float,
) -> tuple[pd.DataFrame, np.ndarray]:  # fmt: skip
    """The chunk's CRM rows (CRM_COLUMNS, shuffled) and each row's person position."""
    rec = _records(rng, pop, duplicate_rate)
    extra_rows = np.flatnonzero(rec.slot > 0)
    _vary_names(rng, rec, extra_rows)
    _vary_contacts(rng, rec, extra_rows, pop)
    _vary_addresses(rng, rec, extra_rows, pop)
    columns = {**_names_and_contacts(rng, rec, pop, as_of), **_address(rng, rec, pop)}
    for name in ("street", "city", "postal_code", "country", "first_name", "last_name"):
        columns[name] = formats.blank_out(rng, columns[name], MISSING[name])
    for name in ("phone", "birth_date"):  # main records also lose some; duplicates already did
        columns[name] = formats.blank_out(rng, columns[name], MISSING[name] * 0.9)
    consent = pop.consent[rec.person]
    for k, name in enumerate(CONSENT_COLUMNS):
        columns[name] = formats.format_consent(rng, consent[:, k])
    as_of_s = int(np.datetime64(as_of, "s").astype(np.int64))
    signup_s = as_of_s + np.floor(rec.signup_day * 86_400).astype(np.int64)
    columns["signup_at"] = formats.format_timestamps(rng, signup_s)
    columns["loyalty_id"] = _loyalty_ids(rng, rec, pop)
    number = ids.scramble(
        (start + rec.person) * 3 + rec.slot,
        modulus=10**8,
        multiplier=ids.CRM_MULTIPLIER,
        offset=ids.seed_offset(seed, salt=4, modulus=10**8),
    )
    columns["crm_id"] = ids.prefixed_numbers("C", number, width=8).tolist()
    frame = pd.DataFrame({name: columns[name] for name in CRM_COLUMNS})
    order = rng.permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True), rec.person[order]
