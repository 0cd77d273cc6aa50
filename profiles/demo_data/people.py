"""Demo data: the true people of one chunk (names, contacts, personas, latent behaviour)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import ids
from .names import ASCII_FOLD, COUNTRIES
from .personas import PERSONA_NAMES, PERSONAS, persona_array

PEOPLE_COLUMNS = (
    "person_id", "persona", "first_name", "last_name", "gender", "birth_date", "email",
    "second_email", "phone", "country", "state", "city", "postal_code", "street", "user_id",
    "loyalty_id", "signup_date", "orders_per_year", "lapsed_on", "consent_email", "consent_sms",
    "consent_analytics", "consent_ads", "lookalike_of",
)  # fmt: skip
MAX_PEOPLE = 5_000_000
COMMON_NAMES = 5  # the first names and last names this high in a pool count as common
CITY_COUNTRY = np.array([c for c, country in enumerate(COUNTRIES) for _ in country.cities])
CITIES = tuple(city for country in COUNTRIES for city in country.cities)
DIGITS = "0123456789"
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
SECOND_EMAIL_RATE = 0.25
EMAIL_PATTERNS = (
    "{f}.{l}", "{f}{l}", "{i}{l}", "{f}_{l}", "{l}.{f}", "{f}.{l}{yy}", "{f}{l}{yyyy}", "{f}{n}",
    "{i}.{l}{n}", "{l}{i}",
)  # fmt: skip
EMAIL_PATTERN_WEIGHTS = (0.2, 0.1, 0.1, 0.05, 0.05, 0.15, 0.08, 0.12, 0.1, 0.05)


@dataclass(frozen=True, kw_only=True, eq=False)
class Population:
    """The people of one chunk: the people.csv frame plus the arrays that drive behaviour.

    Day values are float days relative to as_of midnight UTC (negative = in the past).
    """

    frame: pd.DataFrame  # PEOPLE_COLUMNS
    persona: np.ndarray  # int index into PERSONAS
    country: np.ndarray  # int index into COUNTRIES
    city: np.ndarray  # int index into CITIES
    gender: np.ndarray  # "F" or "M"
    birth_date: np.ndarray  # datetime64[D]
    phone_nsn: np.ndarray  # national significant number, digits only
    phone_area_length: np.ndarray  # digits of area code / mobile prefix in the nsn
    signup_day: np.ndarray
    end_day: np.ndarray  # 0, or the lapse day for lapsed people
    order_rate: np.ndarray  # orders per day
    price_level: np.ndarray  # 0..1
    category_preferences: np.ndarray  # (people, categories)
    open_rate: np.ndarray
    click_rate: np.ndarray
    consent: np.ndarray  # (people, 4) bool: email, sms, analytics, ads
    has_account: np.ndarray
    has_loyalty: np.ndarray

    @property
    def size(self) -> int:
        """Number of people."""
        return len(self.persona)


class EmailRegistry:
    """Addresses handed out so far, so every person's addresses are unique across chunks."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def claim(self, rng: np.random.Generator, wanted: list[str]) -> list[str]:
        """Return `wanted` with each taken address changed by a number before the @."""
        result = []
        for address in wanted:
            candidate = address
            while candidate in self._used:
                local, domain = address.split("@")
                candidate = f"{local}{int(rng.integers(2, 10_000))}@{domain}"
            self._used.add(candidate)
            result.append(candidate)
        return result


def _zipf(size: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return weights / weights.sum()


def _names(
    rng: np.random.Generator, country: np.ndarray, female: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    first = np.empty(len(country), dtype=object)
    last = np.empty(len(country), dtype=object)
    for c, spec in enumerate(COUNTRIES):
        for is_female, pool in ((False, spec.male_names), (True, spec.female_names)):
            rows = np.flatnonzero((country == c) & (female == is_female))
            first[rows] = np.array(pool, dtype=object)[
                rng.choice(len(pool), rows.size, p=_zipf(len(pool), 0.9))
            ]
        rows = np.flatnonzero(country == c)
        pool = spec.last_names
        last[rows] = np.array(pool, dtype=object)[
            rng.choice(len(pool), rows.size, p=_zipf(len(pool), 0.8))
        ]
    return first, last


def _cities(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    city = np.empty(len(country), dtype=np.int64)
    for c, spec in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == c)
        weights = np.array([x.weight for x in spec.cities])
        first = int(np.flatnonzero(c == CITY_COUNTRY)[0])
        city[rows] = first + rng.choice(len(weights), rows.size, p=weights / weights.sum())
    return city


def fill_patterns(rng: np.random.Generator, patterns: list[str]) -> list[str]:
    """Replace each "#" with a random digit and each "@" with a random letter."""
    width = max((len(p) for p in patterns), default=0)
    digits = rng.integers(0, 10, (len(patterns), width)).tolist()
    letters = rng.integers(0, len(LETTERS), (len(patterns), width)).tolist()
    return [
        "".join(
            DIGITS[d[k]] if char == "#" else LETTERS[x[k]] if char == "@" else char
            for k, char in enumerate(pattern)
        )
        for pattern, d, x in zip(patterns, digits, letters, strict=True)
    ]


def postcodes(rng: np.random.Generator, city: np.ndarray) -> list[str]:
    """A random postcode of each person's city."""
    pick = rng.random(len(city)).tolist()
    chosen = [
        CITIES[c].postcodes[int(u * len(CITIES[c].postcodes))]
        for c, u in zip(city.tolist(), pick, strict=True)
    ]
    return fill_patterns(rng, chosen)


def _fold(name: str) -> str:
    return name.lower().translate(ASCII_FOLD)


def make_emails(
    rng: np.random.Generator,
    registry: EmailRegistry,
    *,
    first: np.ndarray,
    last: np.ndarray,
    birth_year: np.ndarray,
    country: np.ndarray,
) -> list[str]:
    """A plausible, unique personal address per person (name pattern plus provider)."""
    pattern = rng.choice(len(EMAIL_PATTERNS), len(first), p=EMAIL_PATTERN_WEIGHTS)
    numbers = rng.integers(1, 1000, len(first))
    domains = np.empty(len(first), dtype=object)
    for c, spec in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == c)
        weights = np.array(spec.email_domain_weights)
        domains[rows] = np.array(spec.email_domains, dtype=object)[
            rng.choice(len(weights), rows.size, p=weights / weights.sum())
        ]
    wanted = []
    for f, l_, year, p, n, domain in zip(
        first, last, birth_year, pattern, numbers, domains, strict=True
    ):
        fa, la = _fold(f), _fold(l_)
        local = EMAIL_PATTERNS[p].format(
            f=fa, l=la, i=fa[0], yy=f"{year % 100:02d}", yyyy=year, n=n
        )
        wanted.append(f"{local}@{domain}")
    return registry.claim(rng, wanted)


def _phones(
    rng: np.random.Generator, *, index: np.ndarray, country: np.ndarray, city: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """National numbers (digits), prefix lengths and E.164 strings; unique per person."""
    offset = ids.seed_offset(seed, salt=1, modulus=8_000_000)
    unique = ids.scramble(index, modulus=8_000_000, multiplier=ids.PHONE_MULTIPLIER, offset=offset)
    unique = (unique + 2_000_000).tolist()  # seven digits, first 2-9 as US exchanges require
    mobile = (
        rng.random(len(index)) < np.array([c.mobile_share for c in COUNTRIES])[country]
    ).tolist()
    pick = rng.random(len(index)).tolist()
    nsn = []
    for c, town, is_mobile, u, tail in zip(
        country.tolist(), city.tolist(), mobile, pick, unique, strict=True
    ):
        landlines = CITIES[town].area_codes
        prefixes = COUNTRIES[c].mobile_prefixes if is_mobile or not landlines else landlines
        nsn.append(f"{prefixes[int(u * len(prefixes))]}{tail}")
    area_length = np.array([len(n) - 7 for n in nsn], dtype=np.int64)
    calling = [COUNTRIES[c].calling_code for c in country.tolist()]
    e164 = np.array([f"+{cc}{n}" for cc, n in zip(calling, nsn, strict=True)], dtype=object)
    return np.array(nsn, dtype=object), area_length, e164


def _plant_lookalikes(
    rng: np.random.Generator, *, rate: float, country: np.ndarray, female: np.ndarray,
    first: np.ndarray, last: np.ndarray, city: np.ndarray, birth: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Give round(rate * n) people a namesake in their city; return each one's original (-1).

    The originals get a common name of their country; another person of the same country
    takes over that name, gender and city but keeps their own (different) birth date.
    """
    original_of = np.full(len(country), -1, dtype=np.int64)
    wanted = round(rate * len(country))
    order = rng.permutation(len(country))
    originals, others = order[:wanted], order[wanted:]
    common = rng.integers(0, COMMON_NAMES, (wanted, 2))
    for c, spec in enumerate(COUNTRIES):
        mine = np.flatnonzero(country[originals] == c)
        pool = others[country[others] == c]
        mine = mine[: pool.size]
        source, twin = originals[mine], pool[: mine.size]
        for k, row in zip(mine.tolist(), source.tolist(), strict=True):
            given = spec.female_names if female[row] else spec.male_names
            first[row], last[row] = given[common[k, 0]], spec.last_names[common[k, 1]]
        female[twin], first[twin], last[twin], city[twin] = (
            female[source], first[source], last[source], city[source],
        )  # fmt: skip
        birth[twin[birth[twin] == birth[source]]] -= np.timedelta64(1000, "D")
        original_of[twin] = source
    return original_of


def _latent(rng: np.random.Generator, persona: np.ndarray) -> dict[str, np.ndarray]:
    n = len(persona)
    rate_mean, rate_shape = persona_array("order_rate").T
    shape = rate_shape[persona]
    weights = persona_array("category_weights")[persona] * 20.0
    preferences = rng.gamma(weights)
    open_a, open_b = persona_array("email_open").T
    click_a, click_b = persona_array("email_click").T
    price_a, price_b = persona_array("price_level").T
    return {
        "order_rate": rng.gamma(shape, rate_mean[persona] / shape) / 365.0,
        "price_level": rng.beta(price_a[persona], price_b[persona]),
        "category_preferences": preferences / preferences.sum(axis=1, keepdims=True),
        "open_rate": rng.beta(open_a[persona], open_b[persona]),
        "click_rate": rng.beta(click_a[persona], click_b[persona]),
        "consent": rng.random((n, 4)) < persona_array("consent")[persona],
        "has_account": rng.random(n) < persona_array("account_rate")[persona],
        "has_loyalty": rng.random(n) < persona_array("loyalty_rate")[persona],
    }


def _days(rng: np.random.Generator, persona: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tenure = np.array([p.tenure_days for p in PERSONAS], dtype=float)[persona]
    signup = -rng.uniform(tenure[:, 0], tenure[:, 1])
    lapse = np.array([p.lapse_days or (0, 0) for p in PERSONAS], dtype=float)[persona]
    end = -rng.uniform(lapse[:, 0], lapse[:, 1] + 1e-9)
    end[lapse[:, 1] == 0] = 0.0
    return signup, end


def _birth_dates(rng: np.random.Generator, persona: np.ndarray, as_of: datetime.date) -> np.ndarray:
    mean, sd = persona_array("age").T
    age = np.clip(rng.normal(mean[persona], sd[persona]), 18.0, 90.0)
    return np.datetime64(as_of, "D") - np.round(age * 365.25).astype("timedelta64[D]")


def _id_columns(
    index: np.ndarray, latent: dict[str, np.ndarray], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    user = ids.scramble(
        index,
        modulus=10**7,
        multiplier=ids.USER_MULTIPLIER,
        offset=ids.seed_offset(seed, salt=2, modulus=10**7),
    )
    loyalty = ids.scramble(
        index,
        modulus=10**9,
        multiplier=ids.LOYALTY_MULTIPLIER,
        offset=ids.seed_offset(seed, salt=3, modulus=10**9),
    )
    user_id = np.where(latent["has_account"], ids.prefixed_numbers("u", user, width=7), "")
    loyalty_id = np.where(latent["has_loyalty"], ids.prefixed_numbers("L", loyalty, width=9), "")
    return user_id.astype(object), loyalty_id.astype(object)


def sample_people(
    rng: np.random.Generator,
    registry: EmailRegistry,
    *,
    start: int,
    count: int,
    seed: int,
    as_of: datetime.date,
    lookalike_rate: float,
) -> Population:
    """Draw `count` people with global indices start .. start+count-1."""
    index = np.arange(start, start + count, dtype=np.int64)
    persona = rng.choice(len(PERSONAS), count, p=persona_array("share"))
    country = rng.choice(len(COUNTRIES), count, p=[c.share for c in COUNTRIES])
    female = rng.random(count) < 0.55
    first, last = _names(rng, country, female)
    city = _cities(rng, country)
    birth = _birth_dates(rng, persona, as_of)
    original_of = _plant_lookalikes(
        rng, rate=lookalike_rate, country=country, female=female, first=first, last=last,
        city=city, birth=birth,
    )  # fmt: skip
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    email = make_emails(
        rng, registry, first=first, last=last, birth_year=birth_year, country=country
    )
    second = make_emails(
        rng, registry, first=first, last=last, birth_year=birth_year, country=country
    )
    second = np.where(rng.random(count) < SECOND_EMAIL_RATE, np.array(second, dtype=object), "")
    nsn, area_length, e164 = _phones(rng, index=index, country=country, city=city, seed=seed)
    street_pick = rng.random(count)
    street = np.array(
        [
            COUNTRIES[c].streets[int(u * len(COUNTRIES[c].streets))]
            for c, u in zip(country, street_pick, strict=True)
        ],
        dtype=object,
    )
    house = rng.geometric(0.03, count).clip(1, 250)
    signup, end = _days(rng, persona)
    latent = _latent(rng, persona)
    user_id, loyalty_id = _id_columns(index, latent, seed)
    as_of_day = np.datetime64(as_of, "D")
    frame = pd.DataFrame(
        {
            "person_id": ids.prefixed_numbers("p", index, width=8),
            "persona": np.array(PERSONA_NAMES, dtype=object)[persona],
            "first_name": first,
            "last_name": last,
            "gender": np.where(female, "F", "M"),
            "birth_date": np.datetime_as_string(birth, unit="D"),
            "email": np.array(email, dtype=object),
            "second_email": second,
            "phone": e164,
            "country": np.array([c.code for c in COUNTRIES], dtype=object)[country],
            "state": np.array([c.state_name for c in CITIES], dtype=object)[city],
            "city": np.array([c.name for c in CITIES], dtype=object)[city],
            "postal_code": np.array(postcodes(rng, city), dtype=object),
            "street": _street_lines(country, street, house),
            "user_id": user_id,
            "loyalty_id": loyalty_id,
            "signup_date": np.datetime_as_string(as_of_day + _whole_days(signup)),
            "orders_per_year": np.round(latent["order_rate"] * 365.0, 3),
            "lapsed_on": np.where(
                end < 0,
                np.datetime_as_string(as_of_day + _whole_days(end)),
                "",
            ),
            "consent_email": latent["consent"][:, 0],
            "consent_sms": latent["consent"][:, 1],
            "consent_analytics": latent["consent"][:, 2],
            "consent_ads": latent["consent"][:, 3],
            "lookalike_of": np.where(
                original_of >= 0, ids.prefixed_numbers("p", start + original_of, width=8), ""
            ),
        },
        columns=list(PEOPLE_COLUMNS),
    )
    return Population(
        frame=frame, persona=persona, country=country, city=city,
        gender=np.where(female, "F", "M"), birth_date=birth, phone_nsn=nsn,
        phone_area_length=area_length, signup_day=signup, end_day=end, **latent,
    )  # fmt: skip


def _whole_days(days: np.ndarray) -> np.ndarray:
    return np.floor(days).astype(np.int64).astype("timedelta64[D]")


def street_line(country: int, street: str, house: int | str) -> str:
    """An address line in the country's order: "12 High Street" or "Hauptstraße 12"."""
    if COUNTRIES[country].house_number_first:
        return f"{house} {street}"
    return f"{street} {house}"


def _street_lines(country: np.ndarray, street: np.ndarray, house: np.ndarray) -> np.ndarray:
    return np.array(
        [
            street_line(c, s, h)
            for c, s, h in zip(country.tolist(), street, house.tolist(), strict=True)
        ],
        dtype=object,
    )
