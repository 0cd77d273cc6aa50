"""Test helper: synthetic people with planted duplicates and look-alikes for record linkage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from profiles.compute.linkage.records import (
    BIRTH_DATE,
    CITY,
    CONSENT_SIGNATURE,
    EMAIL,
    FIRST_NAME,
    JURISDICTION,
    LAST_NAME,
    LOYALTY_ID,
    PHONE,
    POSTAL_CODE,
    RECORD_ID,
    STREET,
)

PERSON_ID = "person_id"

_FIRST_NAMES_TEXT = (
    "michael john james robert david thomas william richard joseph christopher daniel matthew "
    "anthony mark paul steven andrew kenneth joshua kevin brian george timothy ronald edward "
    "jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon "
    "benjamin samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose "
    "adam henry nathan douglas zachary peter kyle walter ethan jeremy harold keith christian "
    "roger noah gerald carl terry sean austin arthur lawrence jesse dylan bryan joe jordan "
    "billy bruce albert willie gabriel logan alan juan wayne roy ralph randy eugene vincent "
    "russell elijah louis bobby philip johnny hans klaus wolfgang stefan jürgen uwe dieter "
    "mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa "
    "betty margaret sandra ashley kimberly emily donna michelle dorothy carol amanda melissa "
    "deborah stephanie rebecca sharon laura cynthia kathleen amy shirley angela helen anna "
    "brenda pamela nicole emma samantha katherine christine debra rachel catherine carolyn "
    "janet ruth maria heather diane virginia julie joyce victoria olivia kelly christina "
    "lauren joan evelyn judith megan cheryl andrea hannah martha jacqueline frances gloria "
    "ann teresa kathryn sara janice jean alice madison doris abigail julia judy grace denise "
    "amber marilyn beverly danielle theresa sophia marie diana brittany natalie isabella "
    "charlotte rose alexis kayla ursula sabine petra monika gisela ingrid renate birgit"
)
FIRST_NAMES = tuple(_FIRST_NAMES_TEXT.split())

_COMMON_SURNAMES_TEXT = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson "
    "white harris sanchez clark ramirez lewis robinson walker young allen king wright scott "
    "torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter "
    "roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart morris "
    "morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly "
    "howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza "
    "ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez powell "
    "jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher "
    "vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin "
    "wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar stevens "
    "murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy "
    "wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson porter "
    "hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer wagner "
    "black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza daniels "
    "ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins "
    "müller schneider fischer weber becker schulz hoffmann schäfer koch bauer richter klein "
    "wolf schröder neumann schwarz zimmermann braun krüger hofmann hartmann lange schmitt "
    "werner krause meier lehmann schmid schulze maier köhler herrmann könig walter mayer huber"
)
COMMON_SURNAMES = tuple(_COMMON_SURNAMES_TEXT.split())

_SYLLABLES_TEXT = (
    "ka lo mi ber tan hof stein feld man ner ro sa vi dor gel bach wald kirch brun ha "
    "sen ling ter ov ski ez ini elli ard mont ville rand ek berg thal lin dahl quist son"
)
SYLLABLES = tuple(_SYLLABLES_TEXT.split())
_STREET_WORDS_TEXT = (
    "main oak pine maple cedar elm lake hill park church mill school station garden "
    "linden birken berliner haupt bahnhof schiller goethe mozart kirch wald feld rosen"
)
STREET_WORDS = tuple(_STREET_WORDS_TEXT.split())
STREET_TYPES = ("street", "avenue", "road", "lane", "way", "strasse", "weg", "platz")
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "web.de", "gmx.de", "icloud.com", "t-online.de")
CONSENTS = tuple(f"analytics={a};email={e};sms={s}" for a in "01" for e in "01" for s in "01")
JURISDICTIONS = ("DE", "DE", "DE", "AT", "CH", "FR", "NL", "US")
ALPHABET = np.array(list("abcdefghijklmnopqrstuvwxyz"))
PERTURBATIONS = (
    "first_typo",
    "last_typo",
    "nickname",
    "swap_names",
    "other_phone",
    "missing_phone",
    "moved_address",
    "missing_email",
    "other_email",
    "birth_date_typo",
    "missing_loyalty",
)
PERTURBATION_WEIGHTS = (0.14, 0.14, 0.10, 0.06, 0.10, 0.06, 0.12, 0.10, 0.06, 0.08, 0.04)


@dataclass(frozen=True, kw_only=True, eq=False)
class SyntheticLinkage:
    """Records, the true person of each record, and pairs of distinct people that look alike
    (same common name and city) or share a household (same last name and address)."""

    records: pd.DataFrame
    truth: pd.Series
    lookalike_pairs: pd.DataFrame
    household_pairs: pd.DataFrame


def _zipf(rng: np.random.Generator, size: int, n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return rng.choice(n, size=size, p=weights / weights.sum())


def _made_up_words(rng: np.random.Generator, count: int, syllables: int) -> np.ndarray:
    picks = rng.choice(np.array(SYLLABLES, dtype=object), size=(count, syllables))
    return np.unique(picks.sum(axis=1).astype(str))


def _surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    common = np.array(COMMON_SURNAMES, dtype=object)
    tail = _made_up_words(rng, max(2_000, n // 8), 3)
    tail = tail[~np.isin(tail, common)].astype(object)
    out = tail[rng.integers(0, tail.size, n)]
    use_common = rng.random(n) < 0.35
    out[use_common] = common[_zipf(rng, int(use_common.sum()), common.size, 0.6)]
    return out


def _emails(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    n = first.size
    style = rng.integers(0, 4, n)
    digits = rng.integers(1, 99, n).astype(str)
    initial = np.array([f[0] for f in first], dtype=object)
    local = np.where(
        style == 0,
        first + "." + last,
        np.where(
            style == 1,
            initial + last + digits,
            np.where(style == 2, first + last + digits, first + "_" + last + digits),
        ),
    )
    domains = np.array(DOMAINS, dtype=object)[_zipf(rng, n, len(DOMAINS), 1.0)]
    emails = pd.Series(local + "@" + domains)
    taken = emails.duplicated().to_numpy()
    suffix = rng.integers(100, 10_000, int(taken.sum())).astype(str)
    emails[taken] = (local[taken] + suffix + "@" + domains[taken]).astype(object)
    return emails.to_numpy(dtype=object)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    numbers = rng.integers(10**9, 10**10, n).astype(str)
    return ("+4915" + pd.Series(numbers)).to_numpy(dtype=object)


def _addresses(rng: np.random.Generator, n: int, n_people: int) -> tuple[np.ndarray, ...]:
    n_cities = max(40, n_people // 2_000)
    cities = _made_up_words(rng, n_cities * 2, 2)[:n_cities].astype(object)
    n_postcodes = max(200, n_people // 100)
    postcodes = np.char.zfill(rng.permutation(90_000)[:n_postcodes].astype(str), 5).astype(object)
    postcode_city = cities[_zipf(rng, n_postcodes, cities.size, 1.0)]
    chosen = _zipf(rng, n, n_postcodes, 0.5)
    words = np.array(STREET_WORDS, dtype=object)[rng.integers(0, len(STREET_WORDS), n)]
    kinds = np.array(STREET_TYPES, dtype=object)[rng.integers(0, len(STREET_TYPES), n)]
    streets = rng.integers(1, 200, n).astype(str).astype(object) + " " + words + " " + kinds
    return postcodes[chosen], postcode_city[chosen], streets


def _birth_dates(rng: np.random.Generator, n: int) -> np.ndarray:
    start = np.datetime64("1940-01-01")
    days = rng.integers(0, 66 * 365, n)
    return (start + days).astype(str).astype(object)


def _with_nulls(rng: np.random.Generator, values: np.ndarray, present: float) -> np.ndarray:
    out = values.copy()
    out[rng.random(values.size) >= present] = None
    return out


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    first = np.array(FIRST_NAMES, dtype=object)[_zipf(rng, n, len(FIRST_NAMES), 0.6)]
    last = _surnames(rng, n)
    postcode, city, street = _addresses(rng, n, n)
    loyalty = ("L" + pd.Series(rng.permutation(n) + 10**8).astype(str)).to_numpy(object)
    return pd.DataFrame(
        {
            PERSON_ID: np.arange(n, dtype=np.int64),
            FIRST_NAME: first,
            LAST_NAME: last,
            BIRTH_DATE: _birth_dates(rng, n),
            EMAIL: _with_nulls(rng, _emails(rng, first, last), 0.85),
            PHONE: _with_nulls(rng, _phones(rng, n), 0.85),
            POSTAL_CODE: postcode,
            CITY: city,
            STREET: street,
            LOYALTY_ID: _with_nulls(rng, loyalty, 0.5),
            CONSENT_SIGNATURE: _with_nulls(
                rng, np.array(CONSENTS, dtype=object)[rng.integers(0, 8, n)], 0.7
            ),
            JURISDICTION: np.array(JURISDICTIONS, dtype=object)[rng.integers(0, 8, n)],
        }
    )


def _fresh_emails(
    rng: np.random.Generator, people: pd.DataFrame, taken: pd.Series, tag: str
) -> np.ndarray:
    """Emails built from the names, made distinct from every address in `taken`."""
    emails = _emails(rng, people[FIRST_NAME].to_numpy(), people[LAST_NAME].to_numpy())
    clash = pd.Series(emails).isin(taken).to_numpy()
    emails[clash] = np.array(
        [e.replace("@", f".{tag}{i}@") for i, e in enumerate(emails[clash])], dtype=object
    )
    return emails


def _lookalikes(rng: np.random.Generator, people: pd.DataFrame, count: int) -> pd.DataFrame:
    """New people sharing a common first and last name and the city of an existing person."""
    common = people[LAST_NAME].isin(COMMON_SURNAMES[:60]).to_numpy().copy()
    common &= people[FIRST_NAME].isin(FIRST_NAMES[:40]).to_numpy()
    source = rng.choice(np.flatnonzero(common), size=min(count, int(common.sum())), replace=False)
    twins = _people(rng, source.size)
    for column in (FIRST_NAME, LAST_NAME, CITY):
        twins[column] = people[column].to_numpy()[source]
    same_postcode = rng.random(source.size) < 0.3
    twins.loc[same_postcode, POSTAL_CODE] = people[POSTAL_CODE].to_numpy()[source][same_postcode]
    twins[EMAIL] = _fresh_emails(rng, twins, people[EMAIL], "t")
    twins[PERSON_ID] = np.arange(source.size) + len(people)
    twins["twin_of"] = people[PERSON_ID].to_numpy()[source]
    return twins


def _households(rng: np.random.Generator, people: pd.DataFrame, count: int) -> pd.DataFrame:
    """New people living with an existing person: same last name and address, own first
    name, birth date and email; a quarter share the household's phone."""
    source = rng.choice(len(people), size=count, replace=False)
    members = _people(rng, count)
    for column in (LAST_NAME, POSTAL_CODE, CITY, STREET):
        members[column] = people[column].to_numpy()[source]
    shared_phone = rng.random(count) < 0.25
    members.loc[shared_phone, PHONE] = people[PHONE].to_numpy()[source][shared_phone]
    members[EMAIL] = _fresh_emails(rng, members, people[EMAIL], "h")
    members["housemate_of"] = people[PERSON_ID].to_numpy()[source]
    return members


def _typo(rng: np.random.Generator, words: np.ndarray) -> np.ndarray:
    kinds = rng.integers(0, 4, words.size)
    spots = rng.random(words.size)
    letters = ALPHABET[rng.integers(0, 26, words.size)]
    out = []
    for word, kind, spot, letter in zip(words, kinds, spots, letters, strict=True):
        if not isinstance(word, str) or len(word) < 3:
            out.append(word)
            continue
        i = 1 + int(spot * (len(word) - 2))  # keep the first letter, as most typos do
        if kind == 0:
            out.append(word[:i] + word[i + 1 :])
        elif kind == 1:
            out.append(word[:i] + letter + word[i:])
        elif kind == 2:
            out.append(word[:i] + letter + word[i + 1 :])
        else:
            out.append(word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :])
    return np.array(out, dtype=object)


def _nicknames(rng: np.random.Generator, names: np.ndarray) -> np.ndarray:
    from profiles.compute.linkage.nicknames import NICKNAME_GROUPS

    variants: dict[str, list[str]] = {}
    for group in NICKNAME_GROUPS:
        for name in group:
            variants.setdefault(name, []).extend(n for n in group if n != name)
    picks = rng.random(names.size)
    out = [
        variants[n][int(p * len(variants[n]))] if n in variants else n
        for n, p in zip(names, picks, strict=True)
    ]
    return np.array(out, dtype=object)


def _birth_date_typo(rng: np.random.Generator, dates: np.ndarray) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(dates, dtype=object))
    year, month, day = parsed.dt.year, parsed.dt.month, parsed.dt.day
    kind = rng.integers(0, 3, dates.size)
    swap = (kind == 0) & (day <= 12) & (day != month)
    day_shift = (kind == 1) | ((kind == 0) & ~swap)
    new_day = np.where(
        swap, month, np.where(day_shift, np.clip(day + 1 - 2 * (day > 27), 1, 28), day)
    )
    new_month = np.where(swap, day, month)
    new_year = np.where(kind == 2, year + rng.choice([-10, -1, 1, 10], dates.size), year)
    text = (
        pd.Series(new_year).astype(str)
        + "-"
        + pd.Series(new_month).astype(str).str.zfill(2)
        + "-"
        + pd.Series(new_day).astype(str).str.zfill(2)
    )
    return text.to_numpy(dtype=object)


def _perturb(
    rng: np.random.Generator, dups: pd.DataFrame, n_people: int, taken_emails: pd.Series
) -> pd.DataFrame:
    n = len(dups)
    count = rng.choice([1, 2, 3], size=n, p=[0.45, 0.35, 0.20])
    weights = np.array(PERTURBATION_WEIGHTS) / sum(PERTURBATION_WEIGHTS)
    keys = rng.random((n, len(PERTURBATIONS))) ** (1.0 / weights)  # weighted draw, no repeats
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    chosen = rank < count[:, None]
    out = dups.copy()
    flags = {name: chosen[:, i] for i, name in enumerate(PERTURBATIONS)}
    out.loc[flags["first_typo"], FIRST_NAME] = _typo(
        rng, out[FIRST_NAME].to_numpy()[flags["first_typo"]]
    )
    out.loc[flags["last_typo"], LAST_NAME] = _typo(
        rng, out[LAST_NAME].to_numpy()[flags["last_typo"]]
    )
    out.loc[flags["nickname"], FIRST_NAME] = _nicknames(
        rng, out[FIRST_NAME].to_numpy()[flags["nickname"]]
    )
    swap = flags["swap_names"]
    firsts = out[FIRST_NAME].to_numpy()[swap]
    out.loc[swap, FIRST_NAME] = out[LAST_NAME].to_numpy()[swap]
    out.loc[swap, LAST_NAME] = firsts
    out.loc[flags["other_phone"], PHONE] = _phones(rng, int(flags["other_phone"].sum()))
    out.loc[flags["missing_phone"], PHONE] = None
    moved = flags["moved_address"]
    postcode, city, street = _addresses(rng, int(moved.sum()), n_people)
    out.loc[moved, POSTAL_CODE], out.loc[moved, CITY], out.loc[moved, STREET] = (
        postcode,
        city,
        street,
    )
    out.loc[flags["missing_email"], EMAIL] = None
    other = flags["other_email"]
    out.loc[other, EMAIL] = _fresh_emails(rng, out.loc[other], taken_emails, "o")
    typo = flags["birth_date_typo"]
    out.loc[typo, BIRTH_DATE] = _birth_date_typo(rng, out[BIRTH_DATE].to_numpy()[typo])
    out.loc[flags["missing_loyalty"], LOYALTY_ID] = None
    unknown_consent = rng.random(n) < 0.3
    out.loc[unknown_consent, CONSENT_SIGNATURE] = None
    changed = rng.random(n) < 0.005
    out.loc[changed, CONSENT_SIGNATURE] = np.array(CONSENTS, dtype=object)[
        rng.integers(0, 8, int(changed.sum()))
    ]
    return out


def synthetic_linkage(
    n_people: int,
    *,
    seed: int,
    duplicate_rate: float = 0.3,
    lookalike_rate: float = 0.03,
    household_rate: float = 0.02,
) -> SyntheticLinkage:
    """People with planted duplicates and look-alikes, shuffled, with the truth.

    A duplicated person gets 1-3 extra records, each with 1-3 perturbations (typos,
    nicknames, swapped names, other or missing phone, moved address, missing or other email,
    birth-date typo, missing loyalty id). Look-alikes are distinct people who share a common
    first and last name and the city (sometimes the postcode) of another person, with their
    own birth date, email and phone. Housemates share the last name and address of another
    person (a quarter also the phone) but are distinct people.
    """
    rng = np.random.default_rng(seed)
    n_twins = int(n_people * lookalike_rate)
    n_housemates = int(n_people * household_rate)
    people = _people(rng, n_people - n_twins - n_housemates)
    twins = _lookalikes(rng, people, n_twins)
    housemates = _households(rng, people, n_housemates)
    housemates[PERSON_ID] = np.arange(n_housemates) + len(people) + len(twins)
    people = pd.concat(
        [people, twins.drop(columns="twin_of"), housemates.drop(columns="housemate_of")],
        ignore_index=True,
    )
    extra = np.where(
        rng.random(len(people)) < duplicate_rate,
        rng.choice([1, 2, 3], len(people), p=[0.7, 0.2, 0.1]),
        0,
    )
    copies = people.loc[np.repeat(people.index.to_numpy(), extra)]
    dups = _perturb(rng, copies, len(people), people[EMAIL])
    records = pd.concat([people, dups], ignore_index=True)
    records = records.iloc[rng.permutation(len(records))].reset_index(drop=True)
    records.insert(0, RECORD_ID, np.arange(1, len(records) + 1, dtype=np.int64))
    truth = pd.Series(
        records[PERSON_ID].to_numpy(), index=records[RECORD_ID].to_numpy(), name=PERSON_ID
    )
    first_record = records.drop_duplicates(PERSON_ID).set_index(PERSON_ID)[RECORD_ID]

    def pairs(a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
        left = first_record.reindex(a).to_numpy()
        right = first_record.reindex(b).to_numpy()
        return pd.DataFrame({"left": np.minimum(left, right), "right": np.maximum(left, right)})

    return SyntheticLinkage(
        records=records.drop(columns=PERSON_ID),
        truth=truth,
        lookalike_pairs=pairs(twins["twin_of"].to_numpy(), twins[PERSON_ID].to_numpy()),
        household_pairs=pairs(
            housemates["housemate_of"].to_numpy(), housemates[PERSON_ID].to_numpy()
        ),
    )
