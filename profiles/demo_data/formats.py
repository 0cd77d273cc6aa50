"""Demo data: writing clean values the messy ways real CRM exports and shops write them."""

from __future__ import annotations

import datetime

import numpy as np

from .names import COUNTRIES, MONTH_NAMES

# Phone layouts per country: fields cc, nsn, area, sub (subscriber, grouped as locals write it).
PHONE_FORMATS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "US": (
        ("+{cc}{nsn}", "+{cc} {area} {sub3} {sub4}", "({area}) {sub3}-{sub4}",
         "{area}-{sub3}-{sub4}", "{nsn}", "1-{area}-{sub3}-{sub4}", "{area}.{sub3}.{sub4}"),
        (0.15, 0.15, 0.3, 0.2, 0.1, 0.05, 0.05),
    ),
    "DE": (
        ("+{cc}{nsn}", "+{cc} {area} {sub}", "0{area} {sub}", "00{cc}{nsn}", "0{area}/{sub}",
         "+{cc} (0){area} {sub}", "0{area}-{sub}"),
        (0.15, 0.25, 0.3, 0.08, 0.1, 0.07, 0.05),
    ),
    "GB": (
        ("+{cc}{nsn}", "+{cc} {area} {sub}", "0{area} {sub}", "00{cc}{nsn}", "(0{area}) {sub}",
         "0{nsn}"),
        (0.15, 0.25, 0.35, 0.08, 0.07, 0.1),
    ),
    "FR": (
        ("+{cc}{nsn}", "+{cc} {pairs}", "0{pairs}", "0{nsn}", "00{cc}{nsn}", "0{dotted}"),
        (0.15, 0.2, 0.35, 0.15, 0.07, 0.08),
    ),
    "NL": (
        ("+{cc}{nsn}", "+{cc} {area} {sub}", "0{area}-{sub}", "0{area} {sub}", "00{cc}{nsn}",
         "+{cc} (0){area} {sub}"),
        (0.15, 0.25, 0.25, 0.2, 0.08, 0.07),
    ),
}  # fmt: skip

CONSENT_WORDS = (("Y", "N"), ("yes", "no"), ("true", "false"), ("1", "0"), ("YES", "No"), ("", ""))
CONSENT_WEIGHTS = (0.35, 0.2, 0.12, 0.15, 0.03, 0.15)
GENDER_WORDS = (("F", "M"), ("female", "male"), ("Female", "Male"), ("f", "m"), ("", ""))
GENDER_WEIGHTS = (0.45, 0.15, 0.1, 0.05, 0.25)
CITY_ALIASES = {
    "München": ("Muenchen", "Munich"),
    "Köln": ("Koeln", "Cologne"),
    "Düsseldorf": ("Duesseldorf",),
    "Frankfurt am Main": ("Frankfurt", "Frankfurt/Main"),
    "New York": ("NYC", "New York City"),
    "Den Haag": ("'s-Gravenhage", "The Hague"),
}
STREET_VARIANTS = (
    ("straße", "str."), ("straße", "strasse"), (" St", " Street"), (" Ave", " Avenue"),
    (" Road", " Rd"), (" Street", " St"), ("rue ", "Rue "), ("straat", "str."),
)  # fmt: skip
IMPOSSIBLE_DATES = ("31/02/{y}", "{y}-02-30", "30/02/{y}", "31/04/{y}", "{y}-13-01")


def choose(rng: np.random.Generator, count: int, weights: tuple[float, ...]) -> np.ndarray:
    """`count` draws of an index with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), count, p=p / p.sum())


def messy_case(
    rng: np.random.Generator, values: list[str], *, upper: float, lower: float, space: float
) -> list[str]:
    """Some values in CAPITALS, some in lower case, some with stray whitespace."""
    draw = rng.random(len(values)).tolist()
    out = []
    for value, u in zip(values, draw, strict=True):
        if u < upper:
            value = value.upper()
        elif u < upper + lower:
            value = value.lower()
        elif u < upper + lower + space:
            value = f"{value} " if u < upper + lower + space / 2 else f" {value}"
        out.append(value)
    return out


def blank_out(rng: np.random.Generator, values: list[str], rate: float) -> list[str]:
    """Replace a share `rate` of values with the empty string (a missing value)."""
    drop = (rng.random(len(values)) < rate).tolist()
    return ["" if d else v for v, d in zip(values, drop, strict=True)]


def format_dates(
    rng: np.random.Generator, dates: np.ndarray, country: np.ndarray, *, as_of: datetime.date,
    invalid_rate: float,
) -> list[str]:  # fmt: skip
    """Dates as "1985-03-14", "14/03/1985", "March 14, 1985" or (Germany) "14.03.1985".

    A share `invalid_rate` is broken: half in the future, half impossible ("31/02/1990").
    """
    iso = np.datetime_as_string(dates, unit="D").tolist()
    style = choose(rng, len(iso), (0.55, 0.25, 0.12, 0.08)).tolist()
    broken = rng.random(len(iso)).tolist()
    future = (np.datetime64(as_of, "D") + rng.integers(5, 3000, len(iso))).astype(str).tolist()
    pick = rng.integers(0, len(IMPOSSIBLE_DATES), len(iso)).tolist()
    german = (country == [c.code for c in COUNTRIES].index("DE")).tolist()
    out = []
    for text, s, b, f, k, de in zip(iso, style, broken, future, pick, german, strict=True):
        if b < invalid_rate / 2:
            text = f
        elif b < invalid_rate:
            out.append(IMPOSSIBLE_DATES[k].format(y=text[:4]))
            continue
        year, month, day = text[:4], text[5:7], text[8:10]
        if s == 1 or (s == 3 and not de):
            text = f"{day}/{month}/{year}"
        elif s == 2:
            text = f"{MONTH_NAMES[int(month) - 1]} {int(day)}, {year}"
        elif s == 3:
            text = f"{day}.{month}.{year}"
        out.append(text)
    return out


def _phone_fields(code: str, nsn: str, area_length: int) -> dict[str, str]:
    if code == "GB":
        area_length = 2 if nsn[0] == "2" else 4 if nsn[0] == "7" else 3
    elif code == "NL" and nsn[0] == "6":
        area_length = 1
    area, sub = nsn[:area_length], nsn[area_length:]
    if code == "GB" and area_length == 2:
        sub = f"{sub[:4]} {sub[4:]}"
    pairs = [nsn[1:3], nsn[3:5], nsn[5:7], nsn[7:9]]
    return {
        "nsn": nsn, "area": area, "sub": sub, "sub3": sub[:3], "sub4": sub[3:],
        "pairs": " ".join([nsn[0], *pairs]), "dotted": ".".join([nsn[0], *pairs]),
    }  # fmt: skip


def format_phones(
    rng: np.random.Generator, country: np.ndarray, nsn: np.ndarray, area_length: np.ndarray
) -> list[str]:
    """Each phone number written in one of its country's usual layouts."""
    out = [""] * len(nsn)
    for c, spec in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == c)
        layouts, weights = PHONE_FORMATS[spec.code]
        style = choose(rng, rows.size, weights)
        for row, s in zip(rows.tolist(), style.tolist(), strict=True):
            fields = _phone_fields(spec.code, nsn[row], int(area_length[row]))
            out[row] = layouts[s].format(cc=spec.calling_code, **fields)
    return out


def format_emails(
    rng: np.random.Generator, emails: list[str], *, case_rate: float, space_rate: float,
    malformed_rate: float,
) -> list[str]:  # fmt: skip
    """Addresses with stray capitals, whitespace and a few malformed ones."""
    draw = rng.random(len(emails)).tolist()
    kind = rng.integers(0, 5, len(emails)).tolist()
    out = []
    for email, u, k in zip(emails, draw, kind, strict=True):
        if not email:
            out.append(email)
            continue
        local, domain = email.split("@")
        if u < malformed_rate:
            email = (
                f"{local}{domain}", f"{local}@{domain.replace('.', '')}", f"{local}@@{domain}",
                f"{local.replace('.', ' ')}@{domain}", f"{local}@",
            )[k]  # fmt: skip
        elif u < malformed_rate + case_rate:
            email = (
                f"{'.'.join(part.capitalize() for part in local.split('.'))}@{domain}",
                email.upper(), f"{local}@{domain.capitalize()}", f"{local.capitalize()}@{domain}",
                f"{local.title()}@{domain.title()}",
            )[k]  # fmt: skip
        elif u < malformed_rate + case_rate + space_rate:
            email = (f" {email}", f"{email} ", f"{email}  ", f"\t{email}", f" {email} ")[k]
        out.append(email)
    return out


def format_consent(rng: np.random.Generator, values: np.ndarray) -> list[str]:
    """Yes/no flags as "Y"/"N", "yes"/"no", "true"/"false", "1"/"0" or unknown ("")."""
    style = choose(rng, len(values), CONSENT_WEIGHTS).tolist()
    return [CONSENT_WORDS[s][0 if v else 1] for s, v in zip(style, values.tolist(), strict=True)]


def format_gender(rng: np.random.Generator, gender: np.ndarray) -> list[str]:
    """ "F"/"M" as "F", "female", "Female", "f" or unknown ("")."""
    style = choose(rng, len(gender), GENDER_WEIGHTS).tolist()
    return [GENDER_WORDS[s][0 if g == "F" else 1] for s, g in zip(style, gender, strict=True)]


def format_countries(rng: np.random.Generator, country: np.ndarray) -> list[str]:
    """Country as its ISO code or a spelling like "Germany", "germany", "USA"."""
    out = [""] * len(country)
    for c, spec in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == c)
        style = choose(rng, rows.size, spec.spelling_weights)
        for row, s in zip(rows.tolist(), style.tolist(), strict=True):
            out[row] = spec.spellings[s]
    return out


def format_states(
    rng: np.random.Generator, country_code: list[str], state_code: list[str], state_name: list[str]
) -> list[str]:
    """US states as "NY", "New York" or "new york"; elsewhere usually blank."""
    draw = rng.random(len(country_code)).tolist()
    out = []
    for code, short, name, u in zip(country_code, state_code, state_name, draw, strict=True):
        if code == "US":
            text = short if u < 0.5 else name if u < 0.8 else name.lower() if u < 0.88 else ""
            text = short.lower() if 0.88 <= u < 0.92 else text
        elif code == "DE":
            text = short if u < 0.15 else name if u < 0.45 else ""
        else:
            text = name if u < 0.25 else short if u < 0.3 else ""
        out.append(text)
    return out


def format_postcodes(
    rng: np.random.Generator, country_code: list[str], postcodes: list[str]
) -> list[str]:
    """ZIP+4, leading zeros lost to spreadsheets, UK/Dutch codes without the space."""
    draw = rng.random(len(postcodes)).tolist()
    plus4 = rng.integers(1000, 10_000, len(postcodes)).tolist()
    out = []
    for code, value, u, extra in zip(country_code, postcodes, draw, plus4, strict=True):
        if value.startswith("0") and u < 0.3:
            value = value.lstrip("0")
        elif code == "US" and u > 0.92:
            value = f"{value}-{extra}"
        elif code in ("GB", "NL") and u > 0.8:
            value = value.replace(" ", "")
            value = value.lower() if u > 0.95 else value
        out.append(value)
    return out


def format_cities(rng: np.random.Generator, cities: list[str]) -> list[str]:
    """Cities with local spellings ("Muenchen", "Cologne") and odd capitalisation."""
    draw = rng.random(len(cities)).tolist()
    out = []
    for city, u in zip(cities, draw, strict=True):
        aliases = CITY_ALIASES.get(city, ())
        if aliases and u < 0.12:
            city = aliases[int(u / 0.12 * len(aliases))]
        out.append(city)
    return messy_case(rng, out, upper=0.04, lower=0.03, space=0.01)


def format_streets(rng: np.random.Generator, streets: list[str]) -> list[str]:
    """Street lines with abbreviations spelled out or shortened ("Str.", "Rd", "Avenue")."""
    draw = rng.random(len(streets)).tolist()
    out = []
    for street, u in zip(streets, draw, strict=True):
        if u < 0.3:
            old, new = STREET_VARIANTS[int(u / 0.3 * len(STREET_VARIANTS))]
            street = street.replace(old, new)
        out.append(street)
    return messy_case(rng, out, upper=0.02, lower=0.01, space=0.01)


def format_timestamps(rng: np.random.Generator, seconds: np.ndarray) -> list[str]:
    """UTC instants (epoch seconds) as "...T...Z", "YYYY-MM-DD HH:MM:SS" or "DD/MM/YYYY"."""
    iso = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").tolist()
    style = choose(rng, len(iso), (0.7, 0.2, 0.1)).tolist()
    return [
        f"{t}Z" if s == 0 else t.replace("T", " ") if s == 1 else f"{t[8:10]}/{t[5:7]}/{t[:4]}"
        for t, s in zip(iso, style, strict=True)
    ]
