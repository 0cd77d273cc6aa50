"""Configurable survivorship: a rule per trait, a trust override per source, provenance of every
golden value, and re-applying a changed rule to existing profiles."""

from __future__ import annotations

import pytest

from cdp.core.actor import Actor
from cdp.core.errors import InvalidInputError
from profiles.models import Profile, ProfileTrait, SurvivorshipRule
from profiles.services.golden import golden_traits_reapply
from profiles.services.ingest import events_ingest
from profiles.services.processing import events_process
from profiles.services.sources import source_create
from profiles.services.survivorship import survivorship_cache_clear, survivorship_rule_set

pytestmark = pytest.mark.django_db

ADMIN = Actor(user_id=None, label="admin")


@pytest.fixture(autouse=True)
def _fresh_survivorship_cache():
    survivorship_cache_clear()
    yield
    survivorship_cache_clear()


@pytest.fixture
def sources():
    crm, _ = source_create(name="crm", kind="crm", trust=80, actor=ADMIN)
    web, _ = source_create(name="web", kind="http", trust=40, actor=ADMIN)
    return crm, web


def _observe(source, when: str, **traits) -> None:
    stored = events_ingest(
        source_id=source.pk,
        messages=[
            {
                "type": "identify",
                "userId": "u1",
                "messageId": f"{source.name}-{when}",
                "timestamp": when,
                "traits": traits,
            }
        ],
    )
    events_process(event_ids=stored.event_ids)


def _golden(name: str) -> ProfileTrait:
    return ProfileTrait.objects.select_related("chosen__source").get(name=name)


def test_default_keeps_the_most_trusted_source(sources):
    crm, web = sources
    _observe(crm, "2025-01-01T00:00:00Z", city="Leeds")
    _observe(web, "2025-03-01T00:00:00Z", city="York")

    golden = _golden("city")

    assert (golden.value, golden.rule, golden.chosen.source.name) == (
        "Leeds",
        "most_trusted",
        "crm",
    )


@pytest.mark.parametrize(
    ("_case", "rule", "expected"),
    [
        ("longest_non_empty", "longest", "12 Long Road"),
        ("most_recent_of_the_top_trust", "most_recent", "12 Long Rd"),
    ],
)
def test_a_rule_per_trait_chooses_among_equally_trusted_values(sources, _case, rule, expected):
    crm, _ = sources
    survivorship_rule_set(trait="street", rule=rule, actor=ADMIN)
    _observe(crm, "2025-01-01T00:00:00Z", street="12 Long Road")
    other, _ = source_create(name="crm2", kind="crm", trust=80, actor=ADMIN)
    _observe(other, "2025-02-01T00:00:00Z", street="12 Long Rd")

    golden = _golden("street")

    assert (golden.value, golden.rule) == (expected, rule)


def test_most_recent_never_overwrites_a_more_trusted_value(sources):
    crm, web = sources
    survivorship_rule_set(trait="city", rule="most_recent", actor=ADMIN)
    _observe(crm, "2025-01-01T00:00:00Z", city="Leeds")
    _observe(web, "2025-06-01T00:00:00Z", city="York")

    assert _golden("city").value == "Leeds"


def test_a_source_trust_override_applies_to_one_trait_only(sources):
    crm, web = sources
    survivorship_rule_set(trait="phone", source_id=web.pk, trust=95, actor=ADMIN)
    _observe(crm, "2025-01-01T00:00:00Z", phone="+442079460018", city="Leeds")
    _observe(web, "2025-02-01T00:00:00Z", phone="+442079460999", city="York")

    assert _golden("phone").chosen.source == web
    assert _golden("city").chosen.source == crm


def test_every_golden_value_names_its_source_record_time_and_rule(sources):
    crm, web = sources
    _observe(crm, "2025-01-01T00:00:00Z", first_name="Ada", city="Leeds")
    _observe(web, "2025-02-01T00:00:00Z", last_name="Lovelace", city="York")

    rows = ProfileTrait.objects.select_related("chosen__source", "chosen__event")

    assert sorted(
        (row.name, row.chosen.source.name, row.chosen.record_ref, row.rule) for row in rows
    ) == [
        ("city", "crm", "crm-2025-01-01T00:00:00Z", "most_trusted"),
        ("first_name", "crm", "crm-2025-01-01T00:00:00Z", "most_trusted"),
        ("last_name", "web", "web-2025-02-01T00:00:00Z", "most_trusted"),
    ]
    assert all(row.chosen.event.message_id == row.chosen.record_ref for row in rows)


def test_reapplying_a_changed_rule_updates_existing_profiles(sources):
    crm, _ = sources
    other, _ = source_create(name="crm2", kind="crm", trust=80, actor=ADMIN)
    _observe(crm, "2025-01-01T00:00:00Z", street="12 Long Road")
    _observe(other, "2025-02-01T00:00:00Z", street="12 Long Rd")
    assert _golden("street").value == "12 Long Rd"  # default: same trust, the most recent

    survivorship_rule_set(trait="street", rule="longest", actor=ADMIN)
    done = golden_traits_reapply(trait="street")

    assert done == 1
    assert _golden("street").value == "12 Long Road"
    assert Profile.objects.get().traits["street"] == "12 Long Road"


@pytest.mark.parametrize(
    ("_case", "arguments"),
    [
        ("unknown_rule", {"trait": "city", "rule": "loudest"}),
        ("override_without_trust", {"trait": "city", "source_id": 1}),
        ("no_trait", {"trait": " ", "rule": "longest"}),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_stored(sources, _case, arguments):
    with pytest.raises(InvalidInputError):
        survivorship_rule_set(actor=ADMIN, **arguments)

    assert not SurvivorshipRule.objects.exists()
