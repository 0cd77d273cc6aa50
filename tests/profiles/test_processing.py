import pytest

from consent.models import ConsentEvent, ConsentState
from profiles.models import Event, Identifier, Order, Profile, ProfileMerge, ProfileTrait
from profiles.services.ingest import events_ingest

pytestmark = pytest.mark.django_db


def _ingest(source, *messages):
    return events_ingest(source_id=source.pk, messages=list(messages))


def test_identify_creates_a_profile_with_identifiers_and_traits_with_provenance(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "identify",
                "userId": "u1",
                "anonymousId": "a1",
                "messageId": "m1",
                "timestamp": "2026-01-02T03:04:05Z",
                "traits": {
                    "email": " Ada@Example.COM ",
                    "first_name": "ada",
                    "country": "germany",
                    "phone": "+49 30 1234567",
                },
            },
        )

    profile = Profile.objects.get()
    assert sorted(profile.identifiers.values_list("type", "value")) == [
        ("anonymous_id", "a1"),
        ("email", "ada@example.com"),
        ("phone", "+49301234567"),
        ("user_id", "u1"),
    ]
    assert profile.traits == {
        "email": "ada@example.com",
        "first_name": "Ada",
        "country": "DE",
        "phone": "+49301234567",
    }
    golden = ProfileTrait.objects.select_related("chosen__event").get(name="first_name")
    assert golden.chosen.event.message_id == "m1"
    assert golden.chosen.source == source
    assert golden.chosen.observed_at.isoformat() == "2026-01-02T03:04:05+00:00"
    assert Event.objects.get().status == Event.Status.PROCESSED


def test_anonymous_browsing_is_stitched_to_the_user_on_identify(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {"type": "page", "anonymousId": "anon-7", "name": "Home"},
            {"type": "track", "anonymousId": "anon-7", "event": "Product Viewed"},
        )
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "identify",
                "anonymousId": "anon-7",
                "userId": "u7",
                "traits": {"email": "u7@example.com"},
            },
        )

    profile = Profile.objects.get()
    assert profile.events.count() == 3
    assert Identifier.objects.get(type="user_id").profile == profile


def test_two_profiles_that_turn_out_to_share_an_identifier_are_merged(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "identify",
                "anonymousId": "a1",
                "traits": {"email": "x@example.com"},
                "timestamp": "2026-01-01T00:00:00Z",
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "identify",
                "userId": "u2",
                "traits": {"phone": "+1 212 555 0142"},
                "timestamp": "2026-01-02T00:00:00Z",
            },
        )
    assert Profile.objects.filter(merged_into=None).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "identify",
                "userId": "u2",
                "traits": {"email": "x@example.com"},
                "timestamp": "2026-01-03T00:00:00Z",
            },
        )

    survivor = Profile.objects.get(merged_into=None)
    merge = ProfileMerge.objects.get()
    assert (merge.survivor, merge.reason) == (survivor, "shared_identifier")
    assert survivor.identifiers.count() == 4
    assert survivor.events.count() == 3
    assert survivor.traits == {"email": "x@example.com", "phone": "+12125550142"}


def test_two_signed_up_users_are_never_merged_on_a_shared_anonymous_id(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(source, {"type": "identify", "userId": "alice", "anonymousId": "shared-device"})
        _ingest(source, {"type": "identify", "userId": "bob"})
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {"type": "track", "userId": "bob", "anonymousId": "shared-device", "event": "Viewed"},
        )

    assert Profile.objects.filter(merged_into=None).count() == 2
    assert ProfileMerge.objects.count() == 0
    bob = Identifier.objects.get(type="user_id", value="bob").profile
    assert bob.events.filter(event="Viewed").count() == 1


def test_order_completed_becomes_an_order_in_base_currency(
    source_and_key, django_capture_on_commit_callbacks, settings
):
    settings.CDP_BASE_CURRENCY = "EUR"
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "track",
                "userId": "u1",
                "event": "Order Completed",
                "properties": {
                    "order_id": "o-1",
                    "total": "100.00",
                    "currency": "usd",
                    "products": [{"quantity": 2, "category": "shoes"}],
                },
            },
        )
        _ingest(
            source,
            {
                "type": "track",
                "userId": "u1",
                "event": "Order Completed",
                "messageId": "dup",
                "properties": {"order_id": "o-1", "total": 5},
            },
        )

    order = Order.objects.get()
    assert (
        order.currency,
        str(order.total),
        str(order.total_base),
        order.items,
        order.category,
    ) == ("USD", "100.00", str(settings.CDP_CURRENCY_RATES["USD"] * 100), 2, "shoes")
    assert order.profile == Identifier.objects.get(value="u1").profile


def test_consent_in_event_context_is_recorded_in_the_ledger(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "track",
                "userId": "u1",
                "event": "Consent Given",
                "context": {
                    "ip": "1.2.3.4",
                    "consent": {
                        "categoryPreferences": {
                            "Analytics": True,
                            "Advertising": False,
                            "Unknown": True,
                        }
                    },
                },
            },
        )

    profile = Profile.objects.get()
    states = dict(
        ConsentState.objects.filter(profile_id=profile.pk).values_list("purpose__key", "is_granted")
    )
    assert states == {"analytics": True, "advertising": False}
    entry = ConsentEvent.objects.get(purpose__key="analytics")
    assert entry.evidence["ip"] == "1.2.3.4"
    assert entry.evidence["event_id"] == Event.objects.get().pk


def test_processing_twice_is_idempotent(source_and_key, django_capture_on_commit_callbacks):
    from profiles.services.processing import events_process

    source, _ = source_and_key
    result = _ingest(source, {"type": "identify", "userId": "u1", "traits": {"plan": "gold"}})
    first = events_process(event_ids=result.event_ids)
    second = events_process(event_ids=result.event_ids)

    assert (first.processed, second.processed, second.skipped) == (1, 0, 1)
    assert Profile.objects.count() == 1
    assert ProfileTrait.objects.get().value == "gold"


def test_invalid_trait_values_are_left_out_not_guessed(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"email": "not-an-email", "birth_date": "31/02/1990", "plan": "gold"},
            },
        )

    assert Profile.objects.get().traits == {"plan": "gold"}
    assert not Identifier.objects.filter(type="email").exists()


def _known_people(source, capture, count):
    with capture(execute=True):
        _ingest(
            source,
            *[
                {
                    "type": "identify",
                    "userId": f"p{i}",
                    "anonymousId": f"a{i}",
                    "messageId": f"i{i}",
                    "timestamp": "2026-01-01T00:00:00Z",
                }
                for i in range(count)
            ],
        )
    return dict(Identifier.objects.filter(type="user_id").values_list("value", "profile_id"))


def test_plain_events_of_known_people_are_processed_in_bulk(
    source_and_key, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from profiles.services.processing import events_process

    source, _ = source_and_key
    owners = _known_people(source, django_capture_on_commit_callbacks, 20)
    Profile.objects.filter(pk=owners["p3"]).update(last_seen_at="2030-01-01T00:00:00Z")
    result = _ingest(
        source,
        *[
            {
                "type": "track" if i % 2 else "page",
                "event": "Viewed",
                "name": "Home",
                # userId, anonymousId or both: all name the same known person.
                **({"userId": f"p{i % 20}"} if i % 3 else {}),
                **({"anonymousId": f"a{i % 20}"} if i % 3 != 1 else {}),
                "messageId": f"e{i}",
                "timestamp": f"2026-05-{1 + i % 28:02d}T10:00:00Z",
            }
            for i in range(200)
        ],
    )

    # Set-based: a fixed number of statements for 200 events, not ~7 per event.
    with django_assert_max_num_queries(25):
        outcome = events_process(event_ids=result.event_ids)

    assert (outcome.processed, outcome.failed) == (200, 0)
    rows = Event.objects.filter(message_id__startswith="e").values_list(
        "message_id", "status", "profile_id", "origin_profile_id"
    )
    assert {
        (message_id, status, profile_id, origin) for message_id, status, profile_id, origin in rows
    } == {(f"e{i}", "processed", owners[f"p{i % 20}"], owners[f"p{i % 20}"]) for i in range(200)}
    newest = Profile.objects.get(pk=owners["p7"]).last_seen_at
    assert newest.isoformat() == "2026-05-28T10:00:00+00:00"  # e27: the latest of p7's events
    # Never moved backwards.
    assert Profile.objects.get(pk=owners["p3"]).last_seen_at.year == 2030


def test_in_one_batch_unknown_browsing_then_identify_is_stitched_in_order(
    source_and_key, django_capture_on_commit_callbacks
):
    source, _ = source_and_key
    owners = _known_people(source, django_capture_on_commit_callbacks, 1)
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {
                "type": "page",
                "anonymousId": "new-device",
                "messageId": "x1",
                "name": "Home",
                "timestamp": "2026-05-01T10:00:00Z",
            },
            {
                "type": "track",
                "userId": "p0",
                "messageId": "x2",
                "event": "Viewed",
                "timestamp": "2026-05-01T10:01:00Z",
            },
            {
                "type": "identify",
                "anonymousId": "new-device",
                "userId": "p0",
                "messageId": "x3",
                "timestamp": "2026-05-01T10:02:00Z",
            },
        )

    # The page made a profile of its own (it came first), which identify then merged.
    merge = ProfileMerge.objects.get()
    assert merge.survivor_id == owners["p0"]
    assert set(
        Event.objects.filter(message_id__startswith="x").values_list("profile_id", flat=True)
    ) == {owners["p0"]}
    assert Event.objects.get(message_id="x1").origin_profile_id == merge.absorbed_id


def test_plain_events_of_a_restricted_person_still_go_through_consent(
    source_and_key, django_capture_on_commit_callbacks
):
    from consent.models import ProcessingRestriction

    source, _ = source_and_key
    owners = _known_people(source, django_capture_on_commit_callbacks, 2)
    ProcessingRestriction.objects.create(
        profile_id=owners["p0"], origin_profile_id=owners["p0"], kind="restriction"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(
            source,
            {"type": "track", "userId": "p0", "messageId": "r0", "event": "Viewed"},
            {"type": "track", "userId": "p1", "messageId": "r1", "event": "Viewed"},
        )

    statuses = dict(
        Event.objects.filter(message_id__in=["r0", "r1"]).values_list("message_id", "status")
    )
    assert statuses == {"r0": "dropped", "r1": "processed"}
    assert Event.objects.get(message_id="r1").profile_id == owners["p1"]


def test_the_process_events_command_works_through_pending_events_up_to_a_limit(
    source_and_key, capsys
):
    from django.core.management import call_command

    source, _ = source_and_key
    _ingest(  # not processed: no on-commit callbacks run here
        source,
        *[
            {"type": "track", "userId": f"u{i % 5}", "messageId": f"c{i}", "event": "Viewed"}
            for i in range(30)
        ],
    )
    assert Event.objects.filter(status="pending").count() == 30

    call_command("process_events", "--batch", "10", "--limit", "20", "--no-progress")
    assert Event.objects.filter(status="pending").count() == 10
    assert capsys.readouterr().out.startswith("Processed 20 events, 0 failed attempts in ")

    call_command("process_events", "--no-progress")
    assert Event.objects.filter(status="pending").count() == 0
    assert Profile.objects.count() == 5
