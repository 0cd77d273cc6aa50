"""Compute layer: pure normalisers turning raw CRM, order and event values into canonical ones."""

from __future__ import annotations

import gettext
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
import pycountry
from dateutil import parser as date_parser
from email_validator import EmailNotValidError, validate_email

INVALID_EMAIL = "invalid_email"
INVALID_PHONE = "invalid_phone"
INVALID_DATE = "invalid_date"
IMPOSSIBLE_DATE = "impossible_date"
UNKNOWN_CURRENCY = "unknown_currency"
INVALID_AMOUNT = "invalid_amount"
UNKNOWN_COUNTRY = "unknown_country"
UNKNOWN_REGION = "unknown_region"
INVALID_POSTAL_CODE = "invalid_postal_code"
INVALID_GENDER = "invalid_gender"
INVALID_BOOLEAN = "invalid_boolean"

_CACHE_SIZE = 65_536  # per-function memo for values that repeat across an import


class NormalisationError(ValueError):
    """A raw value cannot be normalised; `code` is machine-readable, the message has no PII."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[NormalisationError], tuple[str, str]]:
        return (type(self), (self.code, self.message))


def _text(raw: object) -> str | None:
    """Stripped text of a raw value; None for None, NaN and blank. 12345.0 becomes "12345"."""
    if raw is None:
        return None
    if isinstance(raw, float):
        if math.isnan(raw):
            return None
        if raw.is_integer():
            return str(int(raw))
    text = raw.strip() if isinstance(raw, str) else str(raw).strip()
    return text or None


_PUNCTUATION_TO_DROP = str.maketrans({".": "", "’": "'", "&": " and "})


def _fold(text: str) -> str:
    """Lookup key: accents removed, case-folded, dots dropped, whitespace collapsed, no 'the '."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    key = " ".join(bare.casefold().translate(_PUNCTUATION_TO_DROP).split())
    return key.removeprefix("the ")


# --- email and phone ---------------------------------------------------------------------------


def normalise_email(raw: object) -> str | None:
    """Strip and lower-case an email address and check its syntax (no DNS). Raises invalid_email."""
    text = _text(raw)
    return None if text is None else _email(text.lower())


@lru_cache(maxsize=_CACHE_SIZE)
def _email(text: str) -> str:
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise NormalisationError(INVALID_EMAIL, str(exc)) from None
    return str(result.normalized).lower()


def normalise_phone(raw: object, *, default_region: str | None) -> str | None:
    """E.164 form of a phone number; national numbers need `default_region`. Raises invalid_phone.

    A leading international prefix "00" is read as "+" whatever the region.
    """
    text = _text(raw)
    if text is None:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    return _phone(text, default_region.upper() if default_region else None)


@lru_cache(maxsize=_CACHE_SIZE)
def _phone(text: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise NormalisationError(INVALID_PHONE, "not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise NormalisationError(INVALID_PHONE, "no such phone number in its numbering plan")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- dates and times ---------------------------------------------------------------------------

_EPOCH_TEXT = re.compile(r"[+-]?\d{10}(?:\.\d{1,6})?|[+-]?\d{13}", re.ASCII)
_EPOCH_MS_FROM = 100_000_000_000  # |n| >= 1e11 is read as milliseconds (1e11 s is year 5138)
_DIGIT_DATE_LENGTHS = frozenset({6, 8, 12, 14})  # YYMMDD, YYYYMMDD, YYYYMMDDhhmm[ss]
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Two defaults differing in year, month and day: a part that comes out equal to the default under
# both was missing from the input ("10:00", "March 1985"), which we refuse rather than invent.
_DEFAULT_A = datetime(2004, 1, 1)  # noqa: DTZ001 - dateutil fills missing parts from a naive default
_DEFAULT_B = datetime(2001, 2, 2)  # noqa: DTZ001
_TZ_ABBREVIATIONS: Mapping[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 3600, "CET": 3600, "CEST": 7200,
    "EET": 7200, "EEST": 10800, "EST": -18000, "EDT": -14400, "CDT": -18000,
    "MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200,
}  # fmt: skip


def parse_datetime(
    raw: object, *, default_tz: str = "UTC", day_first: bool = True
) -> datetime | None:
    """Aware datetime from ISO 8601, common written forms or epoch seconds/milliseconds.

    Naive values get `default_tz` (a zoneinfo name); epochs are UTC; explicit offsets are kept.
    Raises impossible_date for a date that cannot exist ("31/02/1990"), invalid_date otherwise.
    """
    if isinstance(raw, datetime):
        return _aware(raw, default_tz)
    if isinstance(raw, date):
        return datetime.combine(raw, time(), tzinfo=ZoneInfo(default_tz))
    if isinstance(raw, bool):
        raise NormalisationError(INVALID_DATE, "a boolean is not a date")
    if isinstance(raw, int | float | Decimal) and not _is_nan(raw):
        return _from_epoch(Decimal(str(raw)))
    text = _text(raw)
    return None if text is None else _aware(_parse_text(text, day_first), default_tz)


def parse_date(raw: object, *, day_first: bool = True) -> date | None:
    """Calendar date (for birth dates) with the leniency of parse_datetime; epochs read as UTC.

    A datetime with an offset keeps the date as written. Raises impossible_date or invalid_date.
    """
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise NormalisationError(INVALID_DATE, "a boolean is not a date")
    if isinstance(raw, int | float | Decimal) and not _is_nan(raw):
        return _from_epoch(Decimal(str(raw))).date()
    text = _text(raw)
    return None if text is None else _parse_text_date(text, day_first)


def _is_nan(raw: float | Decimal) -> bool:
    return raw.is_nan() if isinstance(raw, Decimal) else math.isnan(raw)


def _aware(value: datetime, default_tz: str) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(default_tz))
    if isinstance(value.tzinfo, timezone | ZoneInfo):
        return value
    offset = value.utcoffset()  # a dateutil tz object: turn it into a stdlib fixed offset
    return value.replace(tzinfo=timezone(offset) if offset else UTC)


def _from_epoch(seconds_or_ms: Decimal) -> datetime:
    if not seconds_or_ms.is_finite():
        raise NormalisationError(INVALID_DATE, "not a finite epoch")
    is_ms = abs(seconds_or_ms) >= _EPOCH_MS_FROM
    microseconds = int(seconds_or_ms * (1_000 if is_ms else 1_000_000))
    try:
        return _UNIX_EPOCH + timedelta(microseconds=microseconds)
    except OverflowError:
        raise NormalisationError(INVALID_DATE, "epoch out of range") from None


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_text_date(text: str, day_first: bool) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return _parse_text(text, day_first).date()


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_text(text: str, day_first: bool) -> datetime:
    """ISO fast path, then 10/13-digit epochs, then dateutil. May return a naive datetime."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(Decimal(text))
    if text.isdigit() and len(text) not in _DIGIT_DATE_LENGTHS:
        raise NormalisationError(INVALID_DATE, "a number that is neither a date nor an epoch")
    first = _dateutil(text, day_first, _DEFAULT_A)
    default = _DEFAULT_A
    if first.year != default.year and first.month != default.month and first.day != default.day:
        return first
    try:  # some part equals default A: see whether it came from the input or from the default
        second = _dateutil(text, day_first, _DEFAULT_B)
    except NormalisationError:
        second = None
    if second is None or second.date() != first.date():
        raise NormalisationError(INVALID_DATE, "incomplete date: year, month and day are needed")
    return first


def _dateutil(text: str, day_first: bool, default: datetime) -> datetime:
    try:
        return date_parser.parse(
            text, dayfirst=day_first, default=default, tzinfos=_TZ_ABBREVIATIONS
        )
    except date_parser.ParserError as exc:
        if isinstance(exc.__cause__, ValueError):  # parts were read but form no calendar date
            raise NormalisationError(IMPOSSIBLE_DATE, "no such date in the calendar") from None
        raise NormalisationError(INVALID_DATE, "not a recognisable date") from None
    except (ValueError, OverflowError):
        raise NormalisationError(INVALID_DATE, "not a recognisable date") from None


# --- money -------------------------------------------------------------------------------------

# ISO 4217 codes that are not money a customer pays with: no currency, testing, metals, units.
_NON_MONEY_CODES = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"}
)
_CURRENCY_ALIASES: Mapping[str, str] = {
    "€": "EUR", "euros": "EUR", "$": "USD", "us$": "USD", "usd$": "USD", "dollar": "USD",
    "dollars": "USD", "us dollars": "USD", "£": "GBP", "pound": "GBP", "pounds": "GBP",
    "sterling": "GBP", "pound sterling": "GBP", "¥": "JPY", "yen": "JPY", "fr": "CHF",
    "sfr": "CHF", "franken": "CHF", "swiss francs": "CHF", "zł": "PLN", "zl": "PLN",
    "kc": "CZK", "ft": "HUF", "₹": "INR", "₽": "RUB", "₩": "KRW", "₺": "TRY", "₪": "ILS",
    "r$": "BRL", "c$": "CAD", "ca$": "CAD", "a$": "AUD", "au$": "AUD", "nz$": "NZD",
    "hk$": "HKD", "s$": "SGD", "mx$": "MXN",
}  # fmt: skip


def normalise_currency(raw: object) -> str | None:
    """ISO 4217 code from a code, name or symbol ("€", "euro", "US$"). Raises unknown_currency.

    "XXX" (no currency), "XTS" (testing) and metal/unit codes count as unknown.
    """
    text = _text(raw)
    return None if text is None else _currency(_fold(text))


@lru_cache(maxsize=4_096)
def _currency(key: str) -> str:
    code = _CURRENCY_ALIASES.get(key) or _currency_index().get(key)
    if code is None:
        raise NormalisationError(UNKNOWN_CURRENCY, "not an ISO 4217 currency")
    return code


@lru_cache(maxsize=1)
def _currency_index() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for currency in pycountry.currencies:
        if currency.alpha_3 not in _NON_MONEY_CODES:
            for key in (currency.alpha_3, currency.numeric, currency.name):
                index[_fold(key)] = currency.alpha_3
    return index


def iso_currency_codes() -> frozenset[str]:
    """Every ISO 4217 code normalise_currency accepts (non-money codes excluded)."""
    return frozenset(_currency_index().values())


_CURRENCY_MARK = r"[^\W\d_]{1,3}\$|[^\W\d_]{2,6}\.?|[^\w\s.,'+\-−()]"
_AMOUNT_TEXT = re.compile(
    rf"""(?P<sign>[-+−])?\s*(?:(?P<pre>{_CURRENCY_MARK})\s*)?(?P<sign2>[-+−])?\s*
    (?P<num>(?=[.,]?[0-9])[0-9.,](?:[0-9.,'\u00a0\u202f ]*[0-9])?)\s*(?P<post>{_CURRENCY_MARK})?""",
    re.VERBOSE,
)
_GROUP_CHARS = re.compile(r"[.,'\u00a0\u202f ]")


def parse_amount(raw: object) -> Decimal | None:
    """Decimal from money text in any common notation; negatives are kept. Raises invalid_amount.

    A currency code or symbol before or after the number is allowed and ignored. The decimal
    separator is the last "." or ",", when the other one appears before it ("1.234,50",
    "1,234.567"), or when it appears once and is followed by 1-2 digits ("12,50"), 4+ digits,
    or by 3 digits after "0", nothing or 4+ digits ("0,125", "1234.567"). A single separator
    followed by exactly 3 digits after a 1-3 digit group is thousands grouping: "1.234" and
    "1,234" are both 1234. Grouping must be 3-digit groups ("1'234", "1 234" also work).
    """
    if isinstance(raw, bool):
        raise NormalisationError(INVALID_AMOUNT, "a boolean is not an amount")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float | Decimal):
        return _number_amount(raw)
    text = _text(raw)
    return None if text is None else _amount(text)


def _number_amount(raw: float | Decimal) -> Decimal | None:
    if _is_nan(raw):
        return None
    value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    if not value.is_finite():
        raise NormalisationError(INVALID_AMOUNT, "not a finite amount")
    return value


@lru_cache(maxsize=_CACHE_SIZE)
def _amount(text: str) -> Decimal:
    match = _AMOUNT_TEXT.fullmatch(text)
    if match is None or (match["sign"] and match["sign2"]) or (match["pre"] and match["post"]):
        raise NormalisationError(INVALID_AMOUNT, "not an amount")
    mark = match["pre"] or match["post"]
    if mark is not None:
        try:
            _currency(_fold(mark))
        except NormalisationError:
            raise NormalisationError(INVALID_AMOUNT, "unknown text beside the amount") from None
    negative = (match["sign"] or match["sign2"] or "+") in "-−"
    return Decimal(("-" if negative else "") + _plain_number(match["num"]))


def _plain_number(num: str) -> str:
    last = max(num.rfind("."), num.rfind(","))
    if last == -1 or not _is_decimal_separator(num, last):
        integer, fraction = num, ""
    else:
        integer, fraction = num[:last], num[last + 1 :]
    groups = _GROUP_CHARS.split(integer)
    separators = set(_GROUP_CHARS.findall(integer))
    has_bad_grouping = len(groups) > 1 and (
        len(separators) > 1
        or not _is_first_group(groups[0])
        or any(len(g) != 3 for g in groups[1:])
    )
    if has_bad_grouping or (fraction and not fraction.isdigit()):
        raise NormalisationError(INVALID_AMOUNT, "digit grouping is not in threes")
    digits = "".join(groups) or "0"
    return f"{digits}.{fraction}" if fraction else digits


def _is_decimal_separator(num: str, last: int) -> bool:
    separator = num[last]
    head = num[:last]
    if ("," if separator == "." else ".") in head:
        return True
    if num.count(separator) > 1:
        return False
    trailing = len(num) - last - 1
    return trailing != 3 or not _is_first_group(head) or head.strip("0") == ""


def _is_first_group(group: str) -> bool:
    return 1 <= len(group) <= 3 and group.isascii() and group.isdigit()


def convert_amount(
    amount: Decimal, *, currency: str, base: str, rates: Mapping[str, Decimal]
) -> Decimal:
    """`amount` in `base`, to the cent (half-even); rates are units of `base` per unit of currency.

    Raises unknown_currency when `currency` is neither `base` nor in `rates`.
    """
    if currency == base:
        rate = Decimal(1)
    elif currency in rates:
        rate = rates[currency]
    else:
        raise NormalisationError(UNKNOWN_CURRENCY, f"no rate from {currency} to {base}")
    return (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


# --- places ------------------------------------------------------------------------------------

_COUNTRY_ALIASES: Mapping[str, str] = {
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "us": "US", "usa": "US", "america": "US",
    "united states": "US", "holland": "NL", "nederland": "NL", "deutschland": "DE",
    "osterreich": "AT", "oesterreich": "AT", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "frankreich": "FR", "espana": "ES", "spanien": "ES", "italia": "IT", "italien": "IT",
    "belgie": "BE", "belgique": "BE", "belgien": "BE", "polska": "PL", "polen": "PL",
    "danmark": "DK", "danemark": "DK", "sverige": "SE", "schweden": "SE", "norge": "NO",
    "suomi": "FI", "eire": "IE", "russia": "RU", "czech republic": "CZ", "turkey": "TR",
    "ivory coast": "CI", "south korea": "KR", "north korea": "KP", "uae": "AE",
}  # fmt: skip
_FUZZY_CANDIDATE = re.compile(r"[^\W\d_][^\W\d_ '\-]*(?:[ '\-][^\W\d_]+)*")


def normalise_country(raw: object) -> str | None:
    """ISO 3166-1 alpha-2 code from a code, English name or common alias. Raises unknown_country.

    pycountry's fuzzy search is the last resort and counts only when it finds exactly one match.
    """
    text = _text(raw)
    return None if text is None else _country(text)


@lru_cache(maxsize=4_096)
def _country(text: str) -> str:
    key = _fold(text)
    code = _COUNTRY_ALIASES.get(key) or _country_index().get(key)
    if code is not None:
        return code
    if not _FUZZY_CANDIDATE.fullmatch(key):  # fuzzy search costs ~9 ms: only for word-like text
        raise NormalisationError(UNKNOWN_COUNTRY, "not a known country")
    try:
        matches = pycountry.countries.search_fuzzy(text)
    except LookupError:
        matches = []
    if len(matches) == 1:
        return str(matches[0].alpha_2)
    raise NormalisationError(UNKNOWN_COUNTRY, "not a known country")


@lru_cache(maxsize=1)
def _country_index() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                index[_fold(name)] = country.alpha_2
    return index


def _country_or_none(country: str | None) -> str | None:
    """A context country, leniently: an unrecognised one counts as unknown (None)."""
    try:
        return normalise_country(country)
    except NormalisationError:
        return None


def normalise_region(raw: object, *, country: str | None) -> str | None:
    """ISO 3166-2 code ("US-NY", "DE-BY") from a code, its suffix, or a native or English name.

    Without a (recognisable) country only a full code or a name unique worldwide is accepted.
    Raises unknown_region.
    """
    text = _text(raw)
    return None if text is None else _region(_fold(text), _country_or_none(country))


@lru_cache(maxsize=16_384)
def _region(key: str, country: str | None) -> str:
    index = _global_region_index() if country is None else _region_index(country)
    codes = index.get(key, ())
    if len(codes) == 1:
        return codes[0]
    raise NormalisationError(UNKNOWN_REGION, "not a known region" if not codes else "ambiguous")


def _subdivision_keys(subdivision: object, english: gettext.NullTranslations) -> set[str]:
    name = str(getattr(subdivision, "name", "")).split(" [")[0]  # "Wales [Cymru GB-CYM]"
    return {_fold(name), _fold(english.gettext(name))}


def _add(index: dict[str, tuple[str, ...]], key: str, code: str) -> None:
    if code not in index.get(key, ()):
        index[key] = (*index.get(key, ()), code)


@lru_cache(maxsize=512)
def _region_index(country: str) -> Mapping[str, tuple[str, ...]]:
    """Per-country keys (full code, code suffix, names); top-level units win a name clash."""
    english = _english_region_names()
    subdivisions = sorted(
        pycountry.subdivisions.get(country_code=country) or [],
        key=lambda sub: sub.parent_code is not None,
    )
    index: dict[str, tuple[str, ...]] = {}
    for sub in subdivisions:
        code = str(sub.code)
        for key in {_fold(code), _fold(code.split("-", 1)[1])}:
            _add(index, key, code)
        for key in _subdivision_keys(sub, english):
            if not index.get(key) or sub.parent_code is None:
                _add(index, key, code)
    return index


@lru_cache(maxsize=1)
def _global_region_index() -> Mapping[str, tuple[str, ...]]:
    english = _english_region_names()
    index: dict[str, tuple[str, ...]] = {}
    for sub in pycountry.subdivisions:
        code = str(sub.code)
        for key in {_fold(code), *_subdivision_keys(sub, english)}:
            _add(index, key, code)
    return index


@lru_cache(maxsize=1)
def _english_region_names() -> gettext.NullTranslations:
    return gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["en"], fallback=True)


_POSTAL_FORMATS: Mapping[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    country: tuple((re.compile(pattern, re.ASCII), template) for pattern, template in formats)
    for country, formats in {
        "GB": ((r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})", r"\1 \2"), (r"GIR0AA", "GIR 0AA")),
        "US": ((r"([0-9]{5})-?([0-9]{4})", r"\1-\2"), (r"[0-9]{5}", r"\g<0>")),
        "NL": ((r"([1-9][0-9]{3})([A-Z]{2})", r"\1 \2"),),
        "CA": ((r"([A-Z][0-9][A-Z])([0-9][A-Z][0-9])", r"\1 \2"),),
        "PL": ((r"([0-9]{2})-?([0-9]{3})", r"\1-\2"),),
        "SE": ((r"([0-9]{3})([0-9]{2})", r"\1 \2"),),
        **dict.fromkeys(("DE", "FR", "IT", "ES", "FI"), ((r"[0-9]{5}", r"\g<0>"),)),
        **dict.fromkeys(("AT", "BE", "CH", "DK", "NO", "AU"), ((r"[0-9]{4}", r"\g<0>"),)),
    }.items()
}


def normalise_postal_code(raw: object, *, country: str | None) -> str | None:
    """Upper-case, whitespace-collapsed postal code, in national form where the country is known.

    Checked and formatted: GB, US, NL, CA, PL, SE, DE, FR, IT, ES, FI, AT, BE, CH, DK, NO, AU
    (raises invalid_postal_code); any other or unrecognised country gets the cleanup only.
    """
    text = _text(raw)
    if text is None:
        return None
    cleaned = " ".join(text.upper().split())
    formats = _POSTAL_FORMATS.get(_country_or_none(country) or "")
    if formats is None:
        return cleaned
    compact = cleaned.replace(" ", "")
    for pattern, template in formats:
        match = pattern.fullmatch(compact)
        if match is not None:
            return match.expand(template)
    raise NormalisationError(INVALID_POSTAL_CODE, "not a postal code of that country")


# --- people ------------------------------------------------------------------------------------

_NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "da", "das", "di", "do", "dos", "du",
     "la", "le", "ten", "ter", "zu", "zum", "zur", "y", "af", "av"}
)  # fmt: skip
_NAME_UPPER_SUFFIXES = frozenset({"ii", "iii", "iv", "vi", "vii", "viii"})
_APOSTROPHE_SPLIT = re.compile(r"(['’])")


def normalise_name(raw: object) -> str | None:
    """Whitespace-collapsed, smartly title-cased personal name.

    "o'brien" -> "O'Brien", "mcdonald" -> "McDonald", "ANNE-MARIE" -> "Anne-Marie", particles
    lower-case unless first ("VAN DER BERG" -> "Van der Berg", "jan van der berg" ->
    "Jan van der Berg"); deliberate inner capitals such as "DeVito" or "MacArthur" are kept.
    """
    text = _text(raw)
    if text is None:
        return None
    words = text.split()
    return " ".join(_name_word(word, is_first=index == 0) for index, word in enumerate(words))


def _name_word(word: str, *, is_first: bool) -> str:
    lower = word.lower()
    if lower in _NAME_PARTICLES and not is_first:
        return lower
    if lower in _NAME_UPPER_SUFFIXES and not is_first:
        return word.upper()
    return "-".join(_name_part(part) for part in word.split("-"))


def _name_part(part: str) -> str:
    if _has_deliberate_capitals(part):
        return part
    pieces = _APOSTROPHE_SPLIT.split(part.lower())
    return "".join(_capitalise(piece) for piece in pieces)


def _capitalise(piece: str) -> str:
    if piece.startswith("mc") and len(piece) > 2:
        return "Mc" + piece[2].upper() + piece[3:]
    return piece[:1].upper() + piece[1:]


def _has_deliberate_capitals(part: str) -> bool:
    """True for parts like McDonald or DeVito: capital first, inner capitals amid lower-case."""
    inner = [i for i in range(1, len(part)) if part[i].isupper()]
    return (
        part[:1].isupper()
        and bool(inner)
        and all(part[i - 1].islower() and part[i + 1 : i + 2].islower() for i in inner)
    )


_GENDERS: Mapping[str, str | None] = {
    **dict.fromkeys(("m", "male", "man", "mann", "männlich", "maennlich", "herr", "mr"), "male"),
    **dict.fromkeys(
        ("f", "female", "woman", "w", "weiblich", "frau", "mrs", "ms", "femme"), "female"
    ),
    **dict.fromkeys(
        ("x", "d", "diverse", "divers", "non-binary", "nonbinary", "non binary", "nb", "other"),
        "other",
    ),
    **dict.fromkeys(("u", "unknown", "prefer not to say", "not specified", "n/a"), None),
}


def normalise_gender(raw: object) -> str | None:
    """One of male, female or other; an explicit "unknown"/"prefer not to say" is None.

    Raises invalid_gender for anything unrecognised.
    """
    text = _text(raw)
    if text is None:
        return None
    key = " ".join(text.casefold().rstrip(".").split())
    if key not in _GENDERS:
        raise NormalisationError(INVALID_GENDER, "not a recognised gender value")
    return _GENDERS[key]


_BOOLEANS: Mapping[str, bool] = {
    **dict.fromkeys(
        ("y", "yes", "true", "t", "1", "on", "opt-in", "opt in", "optin", "opted in", "granted",
         "ja", "j", "oui", "si", "subscribed"), True
    ),
    **dict.fromkeys(
        ("n", "no", "false", "f", "0", "off", "opt-out", "opt out", "optout", "opted out",
         "denied", "nein", "non", "unsubscribed"), False
    ),
}  # fmt: skip


def parse_bool(raw: object) -> bool | None:
    """True/False from yes/no, true/false, 1/0, on/off, opt-in/opt-out, granted/denied.

    Raises invalid_boolean for anything else.
    """
    if isinstance(raw, bool):
        return raw
    text = _text(raw)
    if text is None:
        return None
    value = _BOOLEANS.get(" ".join(text.casefold().split()))
    if value is None:
        raise NormalisationError(INVALID_BOOLEAN, "not a recognised yes/no value")
    return value


# --- dispatch by trait -------------------------------------------------------------------------

_FieldNormaliser = Callable[[object, Mapping[str, str | None]], object]


def _collapse(raw: object, context: Mapping[str, str | None]) -> object:
    text = _text(raw)
    return None if text is None else " ".join(text.split())


def _phone_region(context: Mapping[str, str | None]) -> str | None:
    return context.get("default_region") or _country_or_none(context.get("country"))


def _day_first(context: Mapping[str, str | None]) -> bool:
    return parse_bool(context.get("day_first")) is not False


_FIELD_NORMALISERS: Mapping[str, _FieldNormaliser] = {
    "email": lambda raw, ctx: normalise_email(raw),
    "phone": lambda raw, ctx: normalise_phone(raw, default_region=_phone_region(ctx)),
    "birth_date": lambda raw, ctx: parse_date(raw, day_first=_day_first(ctx)),
    "first_name": lambda raw, ctx: normalise_name(raw),
    "last_name": lambda raw, ctx: normalise_name(raw),
    "name": lambda raw, ctx: normalise_name(raw),
    "gender": lambda raw, ctx: normalise_gender(raw),
    "country": lambda raw, ctx: normalise_country(raw),
    "state": lambda raw, ctx: normalise_region(raw, country=ctx.get("country")),
    "postal_code": lambda raw, ctx: normalise_postal_code(raw, country=ctx.get("country")),
    "city": _collapse,
    "street": _collapse,
    "currency": lambda raw, ctx: normalise_currency(raw),
    "amount": lambda raw, ctx: parse_amount(raw),
    "timestamp": lambda raw, ctx: parse_datetime(
        raw, default_tz=ctx.get("default_tz") or "UTC", day_first=_day_first(ctx)
    ),
}
FIELD_NAMES = frozenset(_FIELD_NORMALISERS)


def normalise_field(name: str, raw: object, *, context: Mapping[str, str | None]) -> object:
    """Normalise one trait by its canonical name; other names pass through (strings stripped).

    `context` may give "country" (state, postal code, phone region), "default_region" (phone),
    "default_tz" (timestamp) and "day_first" ("false" for US-style dates). Raises
    NormalisationError from the trait's normaliser.
    """
    normaliser = _FIELD_NORMALISERS.get(name)
    if normaliser is not None:
        return normaliser(raw, context)
    if isinstance(raw, str):
        return raw.strip() or None
    return raw
