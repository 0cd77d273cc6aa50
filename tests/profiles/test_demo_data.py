"""Tests of the seeded demo/benchmark data generator (pure: no Django, no database)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from rapidfuzz.distance import Levenshtein

from profiles.demo_data.generator import DemoChunk, GeneratorConfig, generate_chunks
from profiles.demo_data.names import COUNTRIES, NICKNAMES
from profiles.demo_data.writers import write_dataset

AS_OF = datetime.date(2025, 6, 1)
AS_OF_UTC = pd.Timestamp("2025-06-01", tz="UTC")
CRM_COLUMNS = [
    "crm_id", "email", "phone", "first_name", "last_name", "birth_date", "gender", "street",
    "city", "state", "postal_code", "country", "loyalty_id", "signup_at", "consent_email",
    "consent_sms", "consent_analytics", "consent_ads",
]  # fmt: skip
ORDER_COLUMNS = [
    "order_id", "user_id", "email", "placed_at", "currency", "total", "items", "category",
    "status",
]  # fmt: skip
EVENT_COLUMNS = [
    "message_id", "type", "event", "name", "user_id", "anonymous_id", "timestamp", "session_id",
    "properties", "context", "traits",
]  # fmt: skip
TRUTH_COLUMNS = ["record_kind", "record_id", "person_id", "persona"]
PEOPLE_COLUMNS = [
    "person_id", "persona", "first_name", "last_name", "gender", "birth_date", "email",
    "second_email", "phone", "country", "state", "city", "postal_code", "street", "user_id",
    "loyalty_id", "signup_date", "orders_per_year", "lapsed_on", "consent_email", "consent_sms",
    "consent_analytics", "consent_ads", "lookalike_of",
]  # fmt: skip
PERSONA_SHARES = {
    "trendsetter": 0.15, "deal_seeker": 0.25, "occasional": 0.30, "loyal": 0.20, "lapsed": 0.10,
}  # fmt: skip
ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"


def _concat(chunks: list[DemoChunk]) -> DemoChunk:
    def join(name: str) -> pd.DataFrame:
        return pd.concat([getattr(c, name) for c in chunks], ignore_index=True)

    return DemoChunk(
        people=join("people"), crm=join("crm"), orders=join("orders"), events=join("events"),
        truth=join("truth"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def config() -> GeneratorConfig:
    return GeneratorConfig(people=2000, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def chunks(config: GeneratorConfig) -> list[DemoChunk]:
    return list(generate_chunks(config, chunk_people=1000))


@pytest.fixture(scope="module")
def data(chunks: list[DemoChunk]) -> DemoChunk:
    return _concat(chunks)


@pytest.fixture(scope="module")
def people(data: DemoChunk) -> pd.DataFrame:
    return data.people.set_index("person_id")


def _with_person(frame: pd.DataFrame, id_column: str, truth: pd.DataFrame) -> pd.DataFrame:
    owner = truth.set_index("record_id")["person_id"]
    return frame.assign(person_id=owner.loc[frame[id_column]].to_numpy())


def _amount(text: str) -> float:
    """Parse "12.50", "1,234.50" and "1.234,50" (the formats orders.csv uses)."""
    if "," in text and (text.rfind(",") > text.rfind(".")):
        text = text.replace(".", "").replace(",", ".")
    return float(text.replace(",", ""))


def _placed(placed_at: pd.Series) -> pd.Series:
    """Instants of the ISO-8601-with-offset values (NaT for other formats and bad dates)."""
    iso = placed_at.where(placed_at.str.match(ISO_WITH_OFFSET))
    return pd.to_datetime(iso, utc=True, format="ISO8601", errors="coerce")


def _frames(chunk: DemoChunk) -> list[pd.DataFrame]:
    return [chunk.people, chunk.crm, chunk.orders, chunk.events, chunk.truth]


def test_same_config_and_chunk_size_give_identical_chunks() -> None:
    config = GeneratorConfig(people=300, seed=3, as_of=AS_OF)
    first = list(generate_chunks(config, chunk_people=150))
    second = list(generate_chunks(config, chunk_people=150))

    assert len(first) == len(second) == 2
    for a, b in zip(first, second, strict=True):
        for frame_a, frame_b in zip(_frames(a), _frames(b), strict=True):
            pd.testing.assert_frame_equal(frame_a, frame_b)


def test_another_seed_gives_other_people_records_and_events() -> None:
    a = next(generate_chunks(GeneratorConfig(people=300, seed=3, as_of=AS_OF)))
    b = next(generate_chunks(GeneratorConfig(people=300, seed=4, as_of=AS_OF)))

    assert (a.people["email"] != b.people["email"]).mean() > 0.9
    assert set(a.crm["crm_id"]).isdisjoint(set(b.crm["crm_id"]))
    assert set(a.events["message_id"]).isdisjoint(set(b.events["message_id"]))


def test_turning_events_off_changes_nothing_else(config: GeneratorConfig, data: DemoChunk) -> None:
    quiet = _concat(
        list(generate_chunks(dataclasses.replace(config, events=False), chunk_people=1000))
    )

    assert len(quiet.events) == 0
    assert list(quiet.events.columns) == EVENT_COLUMNS
    assert set(quiet.truth["record_kind"]) == {"crm", "order"}
    for name in ("people", "crm", "orders"):
        pd.testing.assert_frame_equal(getattr(quiet, name), getattr(data, name))


def test_columns_are_exactly_as_documented(data: DemoChunk) -> None:
    assert list(data.crm.columns) == CRM_COLUMNS
    assert list(data.orders.columns) == ORDER_COLUMNS
    assert list(data.events.columns) == EVENT_COLUMNS
    assert list(data.truth.columns) == TRUTH_COLUMNS
    assert list(data.people.columns) == PEOPLE_COLUMNS
    assert str(data.events["timestamp"].dtype) == "datetime64[ms, UTC]"


def test_chunks_partition_the_people_in_order(chunks: list[DemoChunk]) -> None:
    ids = pd.concat([c.people["person_id"] for c in chunks], ignore_index=True)

    assert [len(c.people) for c in chunks] == [1000, 1000]
    assert ids.tolist() == [f"p{i:08d}" for i in range(2000)]


def test_every_record_is_in_truth_once_with_its_persons_persona(data: DemoChunk) -> None:
    truth = data.truth
    expected = {
        "crm": data.crm["crm_id"], "order": data.orders["order_id"],
        "event": data.events["message_id"],
    }  # fmt: skip

    assert len(truth) == sum(len(ids) for ids in expected.values())
    assert truth["record_id"].is_unique
    for kind, ids in expected.items():
        assert set(truth.loc[truth["record_kind"] == kind, "record_id"]) == set(ids)
    merged = truth.merge(data.people[["person_id", "persona"]], on="person_id", how="left")
    assert (merged["persona_x"] == merged["persona_y"]).all()


def test_identifiers_are_unique_across_chunks(data: DemoChunk) -> None:
    people = data.people
    emails = pd.concat([people["email"], people.loc[people["second_email"] != "", "second_email"]])
    accounts = people.loc[people["user_id"] != "", "user_id"]

    assert emails.is_unique
    assert people["phone"].is_unique
    assert accounts.is_unique
    assert accounts.str.fullmatch(r"u\d{7}").all()
    assert data.crm["crm_id"].is_unique
    assert data.orders["order_id"].is_unique


def test_planted_duplicates_have_the_configured_share(data: DemoChunk) -> None:
    records = _with_person(data.crm, "crm_id", data.truth).groupby("person_id").size()

    assert records.index.size == 2000  # every person has a CRM record
    assert set(records.unique()) == {1, 2, 3}
    assert (records > 1).mean() == pytest.approx(0.12, abs=0.025)


def test_duplicate_records_vary_like_real_ones(data: DemoChunk, people: pd.DataFrame) -> None:
    crm = _with_person(data.crm, "crm_id", data.truth)
    extra = crm[crm.duplicated("person_id", keep=False)].join(
        people.add_suffix("_true"), on="person_id"
    )
    first = extra["first_name"].str.strip().str.lower()
    true_first = extra["first_name_true"].str.lower()
    true_last = extra["last_name_true"].str.lower()
    nickname = [
        f.title() in NICKNAMES.get(t, ())
        for f, t in zip(first, extra["first_name_true"], strict=True)
    ]
    typo = [
        Levenshtein.distance(a, b) == 1 or Levenshtein.distance(c, d) == 1
        for a, b, c, d in zip(
            first, true_first, extra["last_name"].str.strip().str.lower(), true_last, strict=True
        )
    ]

    assert sum(nickname) >= 5
    assert sum(typo) >= 10
    assert (first == true_last).sum() >= 5  # first and last name swapped
    assert (extra["city"].str.strip().str.lower() != extra["city_true"].str.lower()).sum() >= 10
    assert (extra["email"] == "").sum() >= 10
    assert extra.groupby("person_id")["phone"].nunique().gt(1).sum() >= 10


def test_every_crm_phone_is_the_persons_number_in_some_local_format(
    data: DemoChunk, people: pd.DataFrame
) -> None:
    crm = _with_person(data.crm, "crm_id", data.truth)
    crm = crm[crm["phone"] != ""].join(
        people[["phone", "country"]].add_suffix("_true"), on="person_id"
    )
    parsed = [
        phonenumbers.format_number(
            phonenumbers.parse(text, region), phonenumbers.PhoneNumberFormat.E164
        )
        for text, region in zip(crm["phone"], crm["country_true"], strict=True)
    ]

    assert parsed == crm["phone_true"].tolist()
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in people["phone"])
    us = crm.loc[crm["country_true"] == "US", "phone"]
    assert us.str.startswith("(").any()
    assert us.str.startswith("+1").any()
    assert us.str.fullmatch(r"\d{10}").any()
    assert crm.loc[crm["country_true"] == "DE", "phone"].str.startswith("0049").any()


def test_lookalikes_are_other_people_with_the_same_common_name_and_city(
    people: pd.DataFrame,
) -> None:
    twins = people[people["lookalike_of"] != ""]
    originals = people.loc[twins["lookalike_of"]]

    assert len(twins) == 20  # 1 % of each 1,000-person chunk
    assert not set(twins.index) & set(originals.index)
    for column in ("first_name", "last_name", "city", "country"):
        assert (twins[column].to_numpy() == originals[column].to_numpy()).all()
    for column in ("birth_date", "email", "phone"):
        assert (twins[column].to_numpy() != originals[column].to_numpy()).all()
    pools = {c.code: c for c in COUNTRIES}
    for _, row in originals.iterrows():
        spec = pools[row["country"]]
        given = spec.female_names if row["gender"] == "F" else spec.male_names
        assert row["first_name"] in given[:5]
        assert row["last_name"] in spec.last_names[:5]


def test_persona_shares_are_close_to_the_plan(people: pd.DataFrame) -> None:
    shares = people["persona"].value_counts(normalize=True)

    assert set(shares.index) == set(PERSONA_SHARES)
    for persona, share in PERSONA_SHARES.items():
        assert shares[persona] == pytest.approx(share, abs=0.03)


def test_personas_drive_orders_and_lapsed_people_stop_ordering(
    data: DemoChunk, people: pd.DataFrame
) -> None:
    orders = _with_person(data.orders, "order_id", data.truth).join(
        people[["persona"]], on="person_id"
    )
    orders = orders.assign(
        amount=orders["total"].map(_amount).abs(), placed=_placed(orders["placed_at"])
    )
    counts = orders.groupby("person_id").size().reindex(people.index, fill_value=0)
    per_persona = counts.groupby(people["persona"]).mean()
    by_persona = orders.groupby("persona")
    sale = by_persona["category"].apply(lambda c: (c == "sale").mean())
    new_season = by_persona["category"].apply(lambda c: (c == "new_season").mean())
    lapsed = orders[orders["persona"] == "lapsed"]
    lapse_days = (
        AS_OF_UTC - pd.to_datetime(people["lapsed_on"].replace("", None), utc=True)
    ).dt.days

    assert per_persona["loyal"] > per_persona["deal_seeker"] > per_persona["occasional"]
    assert per_persona["trendsetter"] > 2 * per_persona["occasional"]
    assert sale.idxmax() == "deal_seeker"
    assert new_season.idxmax() == "trendsetter"
    assert (
        by_persona["amount"].mean()["trendsetter"] > 3 * by_persona["amount"].mean()["deal_seeker"]
    )
    assert lapsed["placed"].notna().mean() > 0.8
    assert ((AS_OF_UTC - lapsed["placed"].dropna()).dt.days >= 150).all()
    assert lapse_days.dropna().between(150, 400).all()
    assert (people["lapsed_on"] != "").eq(people["persona"] == "lapsed").all()


def test_events_are_sorted_per_person_and_before_as_of(
    config: GeneratorConfig, data: DemoChunk
) -> None:
    events = _with_person(data.events, "message_id", data.truth)
    stamps = events["timestamp"]
    placed = _placed(data.orders["placed_at"]).dropna()

    assert (
        events.groupby("person_id", sort=False)["timestamp"]
        .apply(lambda t: t.is_monotonic_increasing)
        .all()
    )
    assert (stamps < AS_OF_UTC).all()
    assert len(placed) > 0.8 * len(data.orders)
    assert (placed < AS_OF_UTC).all()
    assert len(events) / config.people == pytest.approx(config.events_per_person, rel=0.2)


def test_order_completed_events_match_orders(data: DemoChunk) -> None:
    events = data.events
    completed = events[events["event"] == "Order Completed"]
    orders = data.orders.set_index("order_id")
    order_ids = [p["order_id"] for p in completed["properties"]]
    placed = _placed(orders.loc[order_ids, "placed_at"])
    iso = placed.notna().to_numpy()
    revenue = np.array([p["revenue"] for p in completed["properties"]])
    totals = orders.loc[order_ids, "total"].map(_amount).abs().to_numpy()
    lines = [
        sum(x["price"] * x["quantity"] for x in p["products"]) for p in completed["properties"]
    ]

    assert len(completed) > 100
    assert set(order_ids) <= set(orders.index)
    assert len(set(order_ids)) == len(order_ids)
    assert revenue == pytest.approx(totals)
    assert revenue == pytest.approx(np.array(lines))
    assert (placed[iso].to_numpy() == completed["timestamp"][iso].to_numpy()).all()
    users = [u or None for u in orders.loc[order_ids, "user_id"]]
    assert users == completed["user_id"].tolist()


def test_web_messages_say_which_page_they_happen_on(data: DemoChunk) -> None:
    web = data.events[data.events["session_id"].notna()]
    pages = [c["page"] for c in web["context"]]
    viewed = web[web["event"] == "Product Viewed"]
    page_rows = web[web["type"] == "page"]

    assert all(p["url"] == f"https://shop.example.com{p['path']}" for p in pages)
    assert {p["path"] for p in pages} >= {"/", "/account/login", "/checkout", "/checkout/complete"}
    assert all(
        c["page"]["path"] == f"/p/{p['product_id']}"
        for c, p in zip(viewed["context"], viewed["properties"], strict=True)
    )
    assert all(
        p["path"] == c["page"]["path"] and p["title"] == name
        for p, c, name in zip(
            page_rows["properties"], page_rows["context"], page_rows["name"], strict=True
        )
    )
    assert set(page_rows["name"]) == {
        "Home", "Category", "Product", "Login", "Checkout", "Order Confirmation",
    }  # fmt: skip
    assert web["context"].map(lambda c: c["sessionId"]).tolist() == web["session_id"].tolist()


def test_some_carts_are_abandoned(data: DemoChunk) -> None:
    events = data.events
    started = events[events["event"] == "Checkout Started"]["session_id"]
    completed = events[events["event"] == "Order Completed"]["session_id"]
    added = events[events["event"] == "Product Added"]

    assert 0 < len(set(started) - set(completed)) < len(set(started))
    assert added["properties"].map(lambda p: p["cart_id"].startswith("cart_")).all()


def test_identify_stitches_earlier_anonymous_browsing(
    data: DemoChunk, people: pd.DataFrame
) -> None:
    events = _with_person(data.events, "message_id", data.truth)
    identify = events[events["type"] == "identify"]
    first_anonymous = (
        events[events["user_id"].isna() & events["anonymous_id"].notna()]
        .groupby("anonymous_id")["timestamp"]
        .min()
    )

    assert len(identify) > 50
    assert identify["user_id"].notna().all()
    assert (
        first_anonymous.loc[identify["anonymous_id"]].to_numpy() < identify["timestamp"].to_numpy()
    ).all()
    truth = people.loc[identify["person_id"]]
    assert [t["email"] for t in identify["traits"]] == truth["email"].tolist()
    assert [t["first_name"] for t in identify["traits"]] == truth["first_name"].tolist()
    assert (truth["user_id"].to_numpy() == identify["user_id"].to_numpy()).all()


def test_consent_context_reports_the_persons_choices(data: DemoChunk, people: pd.DataFrame) -> None:
    events = _with_person(data.events, "message_id", data.truth)
    has_consent = events["context"].map(lambda c: "consent" in c)
    marked = events[has_consent]
    truth = people.loc[marked["person_id"]]
    preferences = pd.DataFrame([c["consent"]["categoryPreferences"] for c in marked["context"]])

    assert 0 < has_consent.mean() < 0.5
    assert preferences["analytics"].tolist() == truth["consent_analytics"].tolist()
    assert preferences["advertising"].tolist() == truth["consent_ads"].tolist()
    assert preferences["email"].tolist() == truth["consent_email"].tolist()


def test_email_events_only_reach_people_who_consented(
    data: DemoChunk, people: pd.DataFrame
) -> None:
    events = _with_person(data.events, "message_id", data.truth)
    email = events[events["event"].isin(["Email Opened", "Email Clicked"])]

    assert len(email) > 0
    assert people.loc[email["person_id"], "consent_email"].all()
    assert email["properties"].map(lambda p: set(p) == {"campaign_id", "email_id"}).all()


def test_more_events_per_person_give_a_longer_window() -> None:
    config = GeneratorConfig(people=600, seed=5, as_of=AS_OF, events_per_person=80.0)
    chunk = next(generate_chunks(config))
    oldest = chunk.events["timestamp"].min()

    assert len(chunk.events) / 600 == pytest.approx(80.0, rel=0.2)
    assert (AS_OF_UTC - oldest).days > 300


def test_crm_values_are_messy_like_a_real_export(data: DemoChunk) -> None:
    crm = data.crm
    birth = crm["birth_date"]
    parsed = pd.to_datetime(birth.where(birth.str.match(r"^\d{4}-\d{2}-\d{2}$")), errors="coerce")
    consent = pd.unique(
        crm[["consent_email", "consent_sms", "consent_analytics", "consent_ads"]].to_numpy().ravel()
    )

    assert birth.str.match(r"^\d{4}-\d{2}-\d{2}$").any()
    assert birth.str.match(r"^\d{2}/\d{2}/\d{4}$").any()
    assert birth.str.match(r"^[A-Z][a-z]+ \d{1,2}, \d{4}$").any()
    assert birth.str.match(r"^(31/02|30/02|31/04)/\d{4}$|^\d{4}-(02-30|13-01)$").any()
    assert (parsed > pd.Timestamp(AS_OF)).any()  # a birth date in the future
    assert set(consent) <= {"Y", "N", "yes", "no", "true", "false", "1", "0", "YES", "No", ""}
    assert {"DE", "Germany", "germany", "US", "United States", "USA"} <= set(crm["country"])
    assert {"NY", "New York", "new york"} <= set(crm["state"])
    assert crm["email"].str.contains(r"[A-Z]").any()
    assert crm["email"].str.match(r"^\s|.*\s$").any()
    stripped = crm["email"].str.strip()
    malformed = ~stripped.str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-zA-Z]+") & (stripped != "")
    assert 0 < malformed.mean() < 0.02
    assert (crm["email"] == "").mean() == pytest.approx(0.07, abs=0.04)
    assert (crm["phone"] == "").mean() == pytest.approx(0.15, abs=0.05)


def test_orders_are_messy_with_a_few_anomalies(data: DemoChunk) -> None:
    orders = data.orders

    assert {"EUR", "USD", "GBP", "XXX"} <= set(orders["currency"])
    assert set(orders["currency"]) & {"eur", "€", "Euro"}
    assert set(orders["currency"]) & {"$", "usd", "US$"}
    assert orders["total"].str.match(r"^\d{1,3}(\.\d{3})*,\d{2}$").any()
    assert orders["total"].str.startswith("-").any()
    assert orders["placed_at"].str.contains("-02-30T").any()
    assert orders["placed_at"].str.match(ISO_WITH_OFFSET).mean() > 0.8
    assert set(orders["status"]) == {"completed", "cancelled", "refunded"}
    assert orders["user_id"].str.fullmatch(r"(u\d{7})?").all()
    assert (orders["user_id"] == "").any()  # guest checkouts and store sales


def test_config_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="people"):
        GeneratorConfig(people=0, as_of=AS_OF)
    with pytest.raises(ValueError, match="duplicate_rate"):
        GeneratorConfig(people=10, as_of=AS_OF, duplicate_rate=1.5)
    with pytest.raises(ValueError, match="event_days"):
        GeneratorConfig(people=10, as_of=AS_OF, event_days=800)
    with pytest.raises(ValueError, match="chunk_people"):
        next(generate_chunks(GeneratorConfig(people=10, as_of=AS_OF), chunk_people=0))


def test_write_dataset_writes_every_file_and_a_matching_manifest(tmp_path: Path) -> None:
    config = GeneratorConfig(people=300, seed=11, as_of=AS_OF)
    calls: list[tuple[int, int]] = []
    manifest = write_dataset(
        config, tmp_path, progress=lambda done, total: calls.append((done, total)), chunk_people=200
    )
    expected = _concat(list(generate_chunks(config, chunk_people=200)))
    read = {
        name: pd.read_csv(tmp_path / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("crm", "orders", "truth", "people")
    }
    lines = (tmp_path / "events.ndjson").read_text(encoding="utf-8").splitlines()
    messages = [json.loads(line) for line in lines]

    assert calls == [(200, 300), (300, 300)]
    assert manifest.counts == {
        "crm.csv": len(expected.crm), "orders.csv": len(expected.orders),
        "truth.csv": len(expected.truth), "people.csv": 300,
        "events.ndjson": len(expected.events),
    }  # fmt: skip
    assert json.loads((tmp_path / "manifest.json").read_text()) == dataclasses.asdict(manifest)
    assert manifest.bytes["events.ndjson"] == (tmp_path / "events.ndjson").stat().st_size
    pd.testing.assert_frame_equal(read["crm"], expected.crm.astype(str))
    pd.testing.assert_frame_equal(read["orders"], expected.orders.astype(str))
    pd.testing.assert_frame_equal(read["truth"], expected.truth.astype(str))
    assert list(read["people"].columns) == PEOPLE_COLUMNS
    assert [m["messageId"] for m in messages] == expected.events["message_id"].tolist()
    completed = [
        m["properties"]["order_id"] for m in messages if m.get("event") == "Order Completed"
    ]
    assert completed
    assert set(completed) <= set(read["orders"]["order_id"])
    assert all(
        (m["timestamp"].endswith("Z") and "anonymousId" in m) or "userId" in m for m in messages
    )
    assert {m["type"] for m in messages} == {"page", "track", "identify"}
    assert all(("event" in m) == (m["type"] == "track") for m in messages)
    assert all(("name" in m) == (m["type"] == "page") for m in messages)
    assert all(("traits" in m) == (m["type"] == "identify") for m in messages)
