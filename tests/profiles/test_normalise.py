import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from profiles.compute.normalise import (
    FIELD_NAMES,
    NormalisationError,
    convert_amount,
    iso_currency_codes,
    normalise_country,
    normalise_currency,
    normalise_email,
    normalise_field,
    normalise_gender,
    normalise_name,
    normalise_phone,
    normalise_postal_code,
    normalise_region,
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
)

BERLIN = ZoneInfo("Europe/Berlin")


def _code(call, *args, **kwargs):
    with pytest.raises(NormalisationError) as info:
        call(*args, **kwargs)
    return info.value.code


@pytest.mark.parametrize(
    ("_case", "call", "kwargs"),
    [
        ("email", normalise_email, {}),
        ("phone", normalise_phone, {"default_region": "DE"}),
        ("datetime", parse_datetime, {}),
        ("date", parse_date, {}),
        ("currency", normalise_currency, {}),
        ("amount", parse_amount, {}),
        ("country", normalise_country, {}),
        ("region", normalise_region, {"country": "US"}),
        ("postal_code", normalise_postal_code, {"country": "GB"}),
        ("name", normalise_name, {}),
        ("gender", normalise_gender, {}),
        ("bool", parse_bool, {}),
    ],
)
@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n", float("nan")])
def test_missing_input_is_none_not_an_error(_case, call, kwargs, blank):
    assert call(blank, **kwargs) is None


def test_error_carries_code_message_and_survives_pickling():
    error = NormalisationError("invalid_email", "An email address must have an @-sign.")

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert isinstance(copy, ValueError)
    assert (copy.code, str(copy)) == ("invalid_email", "An email address must have an @-sign.")


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        ("strip_and_lower", "  John.Doe@Example.COM ", "john.doe@example.com"),
        ("plus_tag_kept", "Anna+News@Mail.de", "anna+news@mail.de"),
        ("already_normal", "a.b@example.org", "a.b@example.org"),
        ("idn_domain", "Kunde@Bücher.DE", "kunde@bücher.de"),
    ],
)
def test_email_is_normalised(_case, raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("_case", "raw"),
    [
        ("no_at", "john.example.com"),
        ("two_ats", "a@b@example.com"),
        ("no_domain_dot", "john@example"),
        ("space_inside", "john doe@example.com"),
        ("double_dot", "john..doe@example.com"),
    ],
)
def test_bad_email_raises_invalid_email(_case, raw):
    assert _code(normalise_email, raw) == "invalid_email"


@given(st.emails())
def test_normalised_email_is_a_fixed_point(raw):
    try:
        once = normalise_email(raw)
    except NormalisationError:
        assume(False)
    assert normalise_email(once) == once
    assert once == once.strip().lower()


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw", "region", "expected"),
    [
        ("international_de", "+49 30 1234567", None, "+49301234567"),
        ("national_de", "030 1234567", "DE", "+49301234567"),
        ("national_us", "(212) 555-0142", "US", "+12125550142"),
        ("double_zero_no_region", "0049301234567", None, "+49301234567"),
        ("double_zero_with_other_region", "0049301234567", "US", "+49301234567"),
        ("international_ignores_region", "+1 212 555 0142", "DE", "+12125550142"),
        ("lower_case_region", "030 1234567", "de", "+49301234567"),
        ("integer_input", 4930123456, None, None),  # no "+": needs a region, see next case
        ("e164_kept", "+447911123456", None, "+447911123456"),
        ("gb_mobile_national", "07911 123456", "GB", "+447911123456"),
    ],
)
def test_phone_is_e164(_case, raw, region, expected):
    if expected is None:
        assert _code(normalise_phone, raw, default_region=region) == "invalid_phone"
    else:
        assert normalise_phone(raw, default_region=region) == expected


@pytest.mark.parametrize(
    ("_case", "raw", "region"),
    [
        ("national_without_region", "030 1234567", None),
        ("too_short", "12", "DE"),
        ("impossible_length", "+49 30 12", None),
        ("letters", "call me", "DE"),
        ("unknown_region", "030 1234567", "ZZ"),
        ("not_in_plan", "+1 012 555 0142", None),
    ],
)
def test_bad_phone_raises_invalid_phone(_case, raw, region):
    assert _code(normalise_phone, raw, default_region=region) == "invalid_phone"


@given(
    region=st.sampled_from(["DE", "US", "GB", "FR", "NL", "CH", "AT", "IT", "ES", "JP"]),
    kind=st.sampled_from(
        [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
    ),
    tail=st.integers(min_value=0, max_value=999),
)
def test_every_phone_format_gives_the_same_e164_and_e164_is_a_fixed_point(region, kind, tail):
    example = phonenumbers.example_number_for_type(region, kind)
    national = str(example.national_number)
    number = phonenumbers.parse(f"+{example.country_code}{national[:-3]}{tail:03d}")
    assume(phonenumbers.is_valid_number(number))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    as_national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    as_international = phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )

    assert normalise_phone(as_national, default_region=region) == e164
    assert normalise_phone(as_international, default_region=None) == e164
    assert normalise_phone("00" + e164[1:], default_region=None) == e164
    assert normalise_phone(e164, default_region=None) == e164


# --- dates and times -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        ("iso_z", "1985-03-14T10:00:00Z", datetime(1985, 3, 14, 10, tzinfo=UTC)),
        (
            "iso_offset",
            "1985-03-14T10:00:00+02:00",
            datetime(1985, 3, 14, 10, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("iso_naive", "1985-03-14T10:00:00", datetime(1985, 3, 14, 10, tzinfo=BERLIN)),
        ("iso_date_only", "1985-03-14", datetime(1985, 3, 14, tzinfo=BERLIN)),
        (
            "iso_space_fraction",
            "1985-03-14 10:00:00.250",
            datetime(1985, 3, 14, 10, 0, 0, 250000, tzinfo=BERLIN),
        ),
        ("day_first_slash", "14/03/1985 10:00", datetime(1985, 3, 14, 10, tzinfo=BERLIN)),
        ("day_first_dots", "14.03.1985", datetime(1985, 3, 14, tzinfo=BERLIN)),
        ("month_name", "March 14, 1985", datetime(1985, 3, 14, tzinfo=BERLIN)),
        ("first_of_january", "1 Jan 2004", datetime(2004, 1, 1, tzinfo=BERLIN)),
        ("rfc_2822_gmt", "Thu, 14 Mar 1985 10:00:00 GMT", datetime(1985, 3, 14, 10, tzinfo=UTC)),
        (
            "abbreviation_cet",
            "1985-03-14 10:00 CET",
            datetime(1985, 3, 14, 10, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("epoch_seconds_int", 1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (
            "epoch_seconds_float",
            1_700_000_000.5,
            datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC),
        ),
        ("epoch_ms_int", 1_700_000_000_123, datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        ("epoch_seconds_text", "1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("epoch_ms_text", "1700000000123", datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        ("epoch_zero", 0, datetime(1970, 1, 1, tzinfo=UTC)),
        (
            "aware_datetime_kept",
            datetime(2020, 5, 1, 8, tzinfo=UTC),
            datetime(2020, 5, 1, 8, tzinfo=UTC),
        ),
        (
            "naive_datetime_localised",
            datetime(2020, 5, 1, 8),  # noqa: DTZ001 - a naive input on purpose
            datetime(2020, 5, 1, 8, tzinfo=BERLIN),
        ),
    ],
)
def test_datetime_is_parsed_to_an_aware_value(_case, raw, expected):
    parsed = parse_datetime(raw, default_tz="Europe/Berlin")

    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_naive_value_gets_the_default_zone_with_its_historical_offset():
    parsed = parse_datetime("14/03/1985 10:00", default_tz="Europe/Berlin")

    assert parsed.tzinfo == BERLIN
    assert parsed.utcoffset() == timedelta(hours=1)  # Berlin's summer time began on 31 March 1985
    assert parse_datetime("1985-03-14T10:00:00").tzinfo == ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("_case", "raw", "day_first", "expected"),
    [
        ("ambiguous_day_first", "03/04/1985", True, date(1985, 4, 3)),
        ("ambiguous_month_first", "03/04/1985", False, date(1985, 3, 4)),
        ("unambiguous_ignores_order", "14/03/1985", False, date(1985, 3, 14)),
    ],
)
def test_day_first_decides_ambiguous_dates(_case, raw, day_first, expected):
    assert parse_datetime(raw, day_first=day_first).date() == expected
    assert parse_date(raw, day_first=day_first) == expected


@pytest.mark.parametrize(
    ("_case", "raw", "code"),
    [
        ("february_31", "31/02/1990", "impossible_date"),
        ("iso_february_30", "2024-02-30", "impossible_date"),
        ("month_13", "31/13/1990", "impossible_date"),
        ("not_leap_year", "29/02/2023", "impossible_date"),
        ("garbage", "garbage", "invalid_date"),
        ("time_only", "10:00", "invalid_date"),
        ("no_day", "March 1985", "invalid_date"),
        ("lone_number", "5", "invalid_date"),
        ("nine_digit_number_text", "170000000", "invalid_date"),
        ("boolean", True, "invalid_date"),
        ("infinite_epoch", float("inf"), "invalid_date"),
        ("epoch_out_of_range", 10**20, "invalid_date"),
    ],
)
def test_bad_datetime_raises_with_its_code(_case, raw, code):
    assert _code(parse_datetime, raw) == code
    assert _code(parse_date, raw) == code


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        ("iso", "1985-03-14", date(1985, 3, 14)),
        ("iso_basic", "19850314", date(1985, 3, 14)),
        ("day_first", "14/03/1985", date(1985, 3, 14)),
        ("month_name", "March 14, 1985", date(1985, 3, 14)),
        ("german_month", "14.03.1985", date(1985, 3, 14)),
        ("with_offset_keeps_written_date", "1985-03-14T23:30:00-05:00", date(1985, 3, 14)),
        ("epoch_ms", 479_606_400_000, date(1985, 3, 14)),
        ("date_kept", date(1985, 3, 14), date(1985, 3, 14)),
        ("datetime_to_date", datetime(1985, 3, 14, 23, tzinfo=UTC), date(1985, 3, 14)),
        ("two_digit_year", "14/03/85", date(1985, 3, 14)),
    ],
)
def test_birth_date_is_parsed(_case, raw, expected):
    assert parse_date(raw) == expected


# --- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        *[(f"eur_{raw}", raw, "EUR") for raw in ("eur", "EUR", "€", "euro", "Euro", " euros ")],
        *[(f"usd_{raw}", raw, "USD") for raw in ("$", "usd", "USD", "US$", "US Dollar")],
        *[(f"gbp_{raw}", raw, "GBP") for raw in ("£", "gbp", "Pound Sterling")],
        ("chf_code", "CHF", "CHF"),
        ("chf_symbol", "Fr.", "CHF"),
        ("jpy_symbol", "¥", "JPY"),
        ("pln_symbol", "zł", "PLN"),
        ("numeric_code", "978", "EUR"),
        ("franc_cfa_is_money", "XOF", "XOF"),
    ],
)
def test_currency_is_iso_4217(_case, raw, expected):
    assert normalise_currency(raw) == expected


@pytest.mark.parametrize(
    ("_case", "raw"),
    [
        ("no_currency", "XXX"),
        ("testing", "XTS"),
        ("gold", "XAU"),
        ("made_up", "ABC"),
        ("word", "money"),
    ],
)
def test_unknown_currency_raises(_case, raw):
    assert _code(normalise_currency, raw) == "unknown_currency"


def test_iso_currency_codes_are_three_letter_codes_without_non_money():
    codes = iso_currency_codes()

    assert {"EUR", "USD", "GBP", "CHF", "JPY", "XOF"} <= codes
    assert not codes & {"XXX", "XTS", "XAU"}
    assert all(len(code) == 3 and code.isupper() for code in codes)


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        ("dot_decimal", "12.50", Decimal("12.50")),
        ("comma_decimal", "12,50", Decimal("12.50")),
        ("de_grouping", "1.234,50", Decimal("1234.50")),
        ("en_grouping", "1,234.50", Decimal("1234.50")),
        ("euro_prefix", "€12.50", Decimal("12.50")),
        ("padded_integer", " 12 ", Decimal("12")),
        ("float_exact_via_str", 12.5, Decimal("12.5")),
        ("float_tenth", 0.1, Decimal("0.1")),
        ("int", 12, Decimal("12")),
        ("decimal_kept", Decimal("7.05"), Decimal("7.05")),
        ("negative", "-3.00", Decimal("-3.00")),
        ("one_decimal", "12,5", Decimal("12.5")),
        ("three_digits_after_single_separator_is_grouping", "1.234", Decimal("1234")),
        ("comma_thousands", "1,234", Decimal("1234")),
        ("zero_then_three_decimals", "0,125", Decimal("0.125")),
        ("long_head_then_three_decimals", "1234.567", Decimal("1234.567")),
        ("mixed_separators_last_is_decimal", "1,234.567", Decimal("1234.567")),
        ("many_groups", "1.234.567,89", Decimal("1234567.89")),
        ("many_groups_no_decimals", "1,234,567", Decimal("1234567")),
        ("space_grouping", "1 234,50", Decimal("1234.50")),
        ("no_break_space_grouping", "1\u00a0234,50", Decimal("1234.50")),
        ("swiss_apostrophe", "1'234.50", Decimal("1234.50")),
        ("code_prefix", "EUR 12,50", Decimal("12.50")),
        ("symbol_suffix", "12,50 €", Decimal("12.50")),
        ("code_suffix", "12.50 USD", Decimal("12.50")),
        ("us_dollar_prefix", "US$ 1,000", Decimal("1000")),
        ("sign_before_symbol", "-€5", Decimal("-5")),
        ("sign_after_symbol", "€-5", Decimal("-5")),
        ("unicode_minus", "−7,25", Decimal("-7.25")),
        ("leading_separator", ".5", Decimal("0.5")),
        ("plus_sign", "+4", Decimal("4")),
    ],
)
def test_amount_is_parsed(_case, raw, expected):
    parsed = parse_amount(raw)

    assert parsed == expected
    assert str(parsed) == str(expected)  # same scale too: "12.50" stays two places


@pytest.mark.parametrize(
    ("_case", "raw"),
    [
        ("letters", "abc"),
        ("unknown_word_after", "12.50 apples"),
        ("bad_grouping", "1,23,4.5"),
        ("mixed_grouping", "1,234.567,89"),
        ("two_dots", "12.5.3"),
        ("two_signs", "-€-5"),
        ("two_currencies", "€12 EUR"),
        ("trailing_separator", "12."),
        ("boolean", True),
        ("infinity", float("inf")),
        ("separator_only", ","),
        ("split_digits", "12 50"),
    ],
)
def test_bad_amount_raises_invalid_amount(_case, raw):
    assert _code(parse_amount, raw) == "invalid_amount"


@given(cents=st.integers(min_value=-(10**12), max_value=10**12))
def test_amount_round_trips_in_every_notation(cents):
    amount = Decimal(cents).scaleb(-2)
    english = f"{amount:,.2f}"
    german = english.replace(",", "_").replace(".", ",").replace("_", ".")

    assert parse_amount(str(amount)) == amount
    assert parse_amount(english) == amount
    assert parse_amount(german) == amount
    assert parse_amount(f"€ {german}") == amount
    assert parse_amount(parse_amount(str(amount))) == amount


@pytest.mark.parametrize(
    ("_case", "amount", "currency", "expected"),
    [
        ("half_even_rounds_down_to_even", Decimal("10.00"), "USD", Decimal("9.22")),  # 9.225
        ("half_even_rounds_up_to_even", Decimal("10.00"), "CHF", Decimal("10.48")),  # 10.475
        ("same_currency_is_identity", Decimal("12.345"), "EUR", Decimal("12.34")),  # half-even
        ("negative_amount", Decimal("-2.00"), "GBP", Decimal("-2.34")),
    ],
)
def test_amount_is_converted_to_the_base_currency(_case, amount, currency, expected):
    rates = {"USD": Decimal("0.9225"), "CHF": Decimal("1.0475"), "GBP": Decimal("1.17")}

    assert convert_amount(amount, currency=currency, base="EUR", rates=rates) == expected


def test_converting_without_a_rate_raises_unknown_currency():
    assert (
        _code(convert_amount, Decimal(1), currency="JPY", base="EUR", rates={"USD": Decimal(1)})
        == "unknown_currency"
    )


# --- places ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        *[
            (f"de_{raw}", raw, "DE")
            for raw in ("DE", "DEU", "Germany", "germany", "Deutschland", " GERMANY ", "de")
        ],
        *[
            (f"us_{raw}", raw, "US")
            for raw in ("US", "USA", "U.S.A.", "United States", "United States of America")
        ],
        *[
            (f"gb_{raw}", raw, "GB")
            for raw in ("UK", "Great Britain", "United Kingdom", "England", "GBR")
        ],
        *[(f"nl_{raw}", raw, "NL") for raw in ("Holland", "The Netherlands", "Netherlands", "NLD")],
        ("accented_name", "Côte d’Ivoire", "CI"),
        ("accent_dropped", "Cote d'Ivoire", "CI"),
        ("common_name", "Vietnam", "VN"),
        ("official_name", "Kingdom of the Netherlands", "NL"),
        ("alias_table", "Österreich", "AT"),
        ("fuzzy_single_match", "Macedonia", "MK"),
        ("fuzzy_single_match_vatican", "Vatican", "VA"),
    ],
)
def test_country_is_iso_alpha_2(_case, raw, expected):
    assert normalise_country(raw) == expected


@pytest.mark.parametrize(
    ("_case", "raw"),
    [
        ("fiction", "Narnia"),
        ("fuzzy_ambiguous", "Korea"),
        ("digits", "123"),
        ("wrong_code", "ZZ"),
    ],
)
def test_unknown_country_raises(_case, raw):
    assert _code(normalise_country, raw) == "unknown_country"


@pytest.mark.parametrize(
    ("_case", "raw", "country", "expected"),
    [
        ("us_suffix", "NY", "US", "US-NY"),
        ("us_name", "New York", "US", "US-NY"),
        ("us_lower_name", "new york", "US", "US-NY"),
        ("us_full_code", "US-NY", "US", "US-NY"),
        ("us_lower_code", "us-ny", "US", "US-NY"),
        ("de_native_name", "Bayern", "DE", "DE-BY"),
        ("de_english_name", "Bavaria", "DE", "DE-BY"),
        ("de_suffix", "BY", "DE", "DE-BY"),
        ("de_accent_dropped", "Baden-Wurttemberg", "DE", "DE-BW"),
        ("de_umlaut", "Thüringen", "DE", "DE-TH"),
        ("country_given_as_name", "Texas", "United States", "US-TX"),
        ("gb_bracketed_name", "Wales", "GB", "GB-WLS"),
        ("no_country_full_code", "US-NY", None, "US-NY"),
        ("no_country_unique_name", "Bavaria", None, "DE-BY"),
        ("unknown_country_falls_back", "Bavaria", "Narnia", "DE-BY"),
    ],
)
def test_region_is_iso_3166_2(_case, raw, country, expected):
    assert normalise_region(raw, country=country) == expected


@pytest.mark.parametrize(
    ("_case", "raw", "country"),
    [
        ("made_up", "Atlantis", "US"),
        ("code_of_other_country", "DE-BY", "US"),
        ("suffix_without_country", "NY", None),
        ("name_in_several_countries", "Limburg", None),
        ("no_such_code", "US-ZZ", None),
    ],
)
def test_unknown_region_raises(_case, raw, country):
    assert _code(normalise_region, raw, country=country) == "unknown_region"


@pytest.mark.parametrize(
    ("_case", "raw", "country", "expected"),
    [
        ("gb_spacing", "sw1a1aa", "GB", "SW1A 1AA"),
        ("gb_already", "SW1A 1AA", "GB", "SW1A 1AA"),
        ("gb_short", "m1 1ae", "GB", "M1 1AE"),
        ("gb_extra_spaces", " ec1a  1bb ", "GB", "EC1A 1BB"),
        ("us_zip5", "02134", "US", "02134"),
        ("us_zip4", "02134-1234", "US", "02134-1234"),
        ("us_zip4_no_dash", "021341234", "US", "02134-1234"),
        ("nl_compact", "1234ab", "NL", "1234 AB"),
        ("nl_spaced", "1234 AB", "NL", "1234 AB"),
        ("de_five_digits", "10115", "DE", "10115"),
        ("de_float_from_excel", 10115.0, "DE", "10115"),
        ("ca_spacing", "k1a0b1", "CA", "K1A 0B1"),
        ("country_as_name", "sw1a1aa", "United Kingdom", "SW1A 1AA"),
        ("unknown_country_cleanup_only", " ab  12-c ", None, "AB 12-C"),
        ("unlisted_country_cleanup_only", "150-0001", "JP", "150-0001"),
    ],
)
def test_postal_code_is_normalised(_case, raw, country, expected):
    assert normalise_postal_code(raw, country=country) == expected


@pytest.mark.parametrize(
    ("_case", "raw", "country"),
    [
        ("gb_bad", "12345", "GB"),
        ("us_four_digits", "2134", "US"),
        ("us_letters", "ABCDE", "US"),
        ("nl_leading_zero", "0123 AB", "NL"),
        ("nl_digits_only", "1234", "NL"),
        ("de_four_digits", "1011", "DE"),
        ("de_letters", "1011A", "DE"),
    ],
)
def test_bad_postal_code_raises(_case, raw, country):
    assert _code(normalise_postal_code, raw, country=country) == "invalid_postal_code"


# --- people ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        ("collapse_and_title", "  john   smith ", "John Smith"),
        ("upper", "JOHN SMITH", "John Smith"),
        ("mc_prefix", "mcdonald", "McDonald"),
        ("mc_prefix_upper", "MCDONALD", "McDonald"),
        ("deliberate_camel_kept", "DeVito", "DeVito"),
        ("mac_kept_when_written", "MacArthur", "MacArthur"),
        ("apostrophe", "o'brien", "O'Brien"),
        ("apostrophe_upper", "O'BRIEN", "O'Brien"),
        ("typographic_apostrophe", "d’angelo", "D’Angelo"),
        ("particles_first_word", "VAN DER BERG", "Van der Berg"),
        ("particles_inside", "jan van der berg", "Jan van der Berg"),
        ("particles_spanish", "maria de la cruz", "Maria de la Cruz"),
        ("hyphenated", "anne-marie", "Anne-Marie"),
        ("hyphenated_surname", "MÜLLER-LÜDENSCHEIDT", "Müller-Lüdenscheidt"),
        ("caps_lock_typo", "JOHn", "John"),
        ("suffix_numeral", "john smith iii", "John Smith III"),
        ("accented", "ÉLODIE", "Élodie"),
        ("already_normal", "Jan van der Berg", "Jan van der Berg"),
    ],
)
def test_name_is_title_cased_smartly(_case, raw, expected):
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        *[(f"male_{raw}", raw, "male") for raw in ("m", "M", "male", "Male", "Mann", "männlich")],
        *[
            (f"female_{raw}", raw, "female")
            for raw in ("f", "F", "female", "w", "weiblich", "Frau")
        ],
        *[(f"other_{raw}", raw, "other") for raw in ("x", "diverse", "non-binary", "divers", "d")],
        ("declined", "prefer not to say", None),
        ("unknown", "unknown", None),
    ],
)
def test_gender_is_canonical(_case, raw, expected):
    assert normalise_gender(raw) == expected


@pytest.mark.parametrize(("_case", "raw"), [("word", "banana"), ("number", 3), ("q", "?")])
def test_unknown_gender_raises(_case, raw):
    assert _code(normalise_gender, raw) == "invalid_gender"


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        *[
            (f"true_{raw!r}", raw, True)
            for raw in ("Y", "yes", "true", "TRUE", "1", 1, "on", "opt-in", "granted", True)
        ],
        *[
            (f"false_{raw!r}", raw, False)
            for raw in ("N", "no", "false", "0", 0, "off", "opt-out", "denied", False)
        ],
    ],
)
def test_boolean_is_parsed(_case, raw, expected):
    assert parse_bool(raw) is expected


@pytest.mark.parametrize(
    ("_case", "raw"), [("maybe", "maybe"), ("two", 2), ("yes_please", "yes please")]
)
def test_unknown_boolean_raises(_case, raw):
    assert _code(parse_bool, raw) == "invalid_boolean"


# --- round trips and dispatch ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "call", "value", "kwargs"),
    [
        ("email", normalise_email, "anna@example.com", {}),
        ("phone", normalise_phone, "+49301234567", {"default_region": None}),
        ("currency", normalise_currency, "EUR", {}),
        ("amount", parse_amount, Decimal("1234.50"), {}),
        ("amount_text", parse_amount, "1234.50", {}),
        ("country", normalise_country, "NL", {}),
        ("region", normalise_region, "US-NY", {"country": "US"}),
        ("postal_gb", normalise_postal_code, "SW1A 1AA", {"country": "GB"}),
        ("postal_nl", normalise_postal_code, "1234 AB", {"country": "NL"}),
        ("postal_us", normalise_postal_code, "02134-1234", {"country": "US"}),
        ("name", normalise_name, "Anne-Marie O'Brien McDonald van der Berg", {}),
        ("gender", normalise_gender, "other", {}),
        ("date", parse_date, date(1985, 3, 14), {}),
    ],
)
def test_normal_value_is_returned_unchanged(_case, call, value, kwargs):
    result = call(value, **kwargs)

    assert str(result) == str(value)
    assert call(result, **kwargs) == result


def test_datetime_round_trips_through_its_iso_text():
    value = datetime(2024, 6, 1, 12, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))

    parsed = parse_datetime(value.isoformat())

    assert parsed == value
    assert parsed.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("_case", "name", "raw", "context", "expected"),
    [
        ("email", "email", " A@Example.com ", {}, "a@example.com"),
        (
            "phone_region_from_country",
            "phone",
            "030 1234567",
            {"country": "Germany"},
            "+49301234567",
        ),
        (
            "phone_default_region_wins",
            "phone",
            "(212) 555-0142",
            {"country": "DE", "default_region": "US"},
            "+12125550142",
        ),
        ("birth_date", "birth_date", "14/03/1985", {}, date(1985, 3, 14)),
        (
            "birth_date_month_first",
            "birth_date",
            "03/04/1985",
            {"day_first": "false"},
            date(1985, 3, 4),
        ),
        ("first_name", "first_name", "ANNE-MARIE", {}, "Anne-Marie"),
        ("last_name", "last_name", "mcdonald", {}, "McDonald"),
        ("gender", "gender", "w", {}, "female"),
        ("country", "country", "Holland", {}, "NL"),
        ("state", "state", "new york", {"country": "US"}, "US-NY"),
        ("postal_code", "postal_code", "sw1a1aa", {"country": "GB"}, "SW1A 1AA"),
        ("city", "city", "  Frankfurt  am   Main ", {}, "Frankfurt am Main"),
        ("street", "street", " Unter den  Linden 1 ", {}, "Unter den Linden 1"),
        ("currency", "currency", "€", {}, "EUR"),
        ("amount", "amount", "1.234,50", {}, Decimal("1234.50")),
        (
            "timestamp",
            "timestamp",
            "2024-06-01 12:00",
            {"default_tz": "Europe/Berlin"},
            datetime(2024, 6, 1, 12, tzinfo=BERLIN),
        ),
        ("unknown_text_stripped", "favourite_colour", "  teal ", {}, "teal"),
        ("unknown_blank_is_none", "favourite_colour", "   ", {}, None),
        ("unknown_number_kept", "loyalty_points", 42, {}, 42),
    ],
)
def test_field_is_normalised_by_trait_name(_case, name, raw, context, expected):
    assert normalise_field(name, raw, context=context) == expected


def test_field_errors_keep_the_normaliser_code():
    assert _code(normalise_field, "email", "nope", context={}) == "invalid_email"
    assert (
        _code(normalise_field, "state", "Atlantis", context={"country": "US"}) == "unknown_region"
    )


def test_dispatch_table_names_the_documented_traits():
    assert {
        "email", "phone", "birth_date", "first_name", "last_name", "gender", "country", "state",
        "postal_code", "city", "street", "currency",
    } <= FIELD_NAMES  # fmt: skip
