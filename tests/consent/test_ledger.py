from datetime import UTC, datetime

import pytest

from cdp.core.errors import InvalidInputError
from cdp.core.models import AuditEvent
from consent.models import ConsentEvent, ConsentState, ProcessingRestriction
from consent.public import consent_allows, consent_granted_exists
from consent.services.ledger import (
    ConsentChoice,
    consent_change,
    consent_profiles_merged,
    consent_profiles_unmerged,
    consent_record,
)
from consent.services.restrictions import restriction_add, restriction_lift
from profiles.models import Profile

pytestmark = pytest.mark.django_db

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)


def _states(profile_id):
    return dict(
        ConsentState.objects.filter(profile_id=profile_id).values_list("purpose__key", "is_granted")
    )


def test_grant_then_withdraw_appends_and_the_state_follows_the_latest(actor):
    consent_change(
        profile_id=7, purpose_keys=["email_marketing"], is_granted=True, source="api", actor=actor
    )
    consent_change(
        profile_id=7, purpose_keys=["email_marketing"], is_granted=False, source="api", actor=actor
    )

    assert list(
        ConsentEvent.objects.order_by("pk").values_list("purpose__key", "is_granted", "source")
    ) == [("email_marketing", True, "api"), ("email_marketing", False, "api")]
    assert _states(7) == {"email_marketing": False}
    assert list(AuditEvent.objects.order_by("pk").values_list("action", "target_id")) == [
        ("consent.consent.grant", "7"),
        ("consent.consent.withdraw", "7"),
    ]


def test_recording_the_current_state_again_adds_nothing():
    choice = [ConsentChoice(purpose_key="analytics", is_granted=True)]
    consent_record(profile_id=3, choices=choice, source="web", recorded_at=T1)
    consent_record(profile_id=3, choices=choice, source="web", recorded_at=T2)

    assert ConsentEvent.objects.count() == 1


def test_an_older_choice_arriving_late_is_kept_in_the_ledger_but_does_not_win():
    consent_record(
        profile_id=3,
        choices=[ConsentChoice(purpose_key="analytics", is_granted=False)],
        source="web",
        recorded_at=T2,
    )
    consent_record(
        profile_id=3,
        choices=[ConsentChoice(purpose_key="analytics", is_granted=True)],
        source="crm",
        recorded_at=T1,
    )

    assert ConsentEvent.objects.count() == 2
    assert _states(3) == {"analytics": False}


def test_unknown_purposes_are_refused_and_nothing_is_recorded(actor):
    with pytest.raises(InvalidInputError) as error:
        consent_change(
            profile_id=1,
            purpose_keys=["analytics", "telepathy"],
            is_granted=True,
            source="api",
            actor=actor,
        )

    assert error.value.details == {"purposes": ["telepathy"]}
    assert ConsentEvent.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("_case", "purpose", "state", "restriction", "allowed"),
    [
        ("consent purpose, never asked", "email_marketing", None, None, False),
        ("consent purpose, granted", "email_marketing", True, None, True),
        ("consent purpose, withdrawn", "email_marketing", False, None, False),
        ("contract purpose, never asked", "service", None, None, True),
        ("contract purpose, objected to", "service", False, None, False),
        ("objection stops marketing", "email_marketing", True, "objection", False),
        ("objection leaves analytics", "analytics", True, "objection", True),
        ("objection leaves service", "service", None, "objection", True),
        ("restriction stops analytics", "analytics", True, "restriction", False),
        ("restriction stops service", "service", None, "restriction", False),
        ("unknown purpose", "telepathy", None, None, False),
    ],
)
def test_consent_allows_and_the_sql_condition_agree(_case, purpose, state, restriction, allowed):
    profile = Profile.objects.create()
    other = Profile.objects.create()
    if state is not None:
        consent_record(
            profile_id=profile.pk,
            choices=[ConsentChoice(purpose_key=purpose, is_granted=state)],
            source="test",
        )
    if restriction:
        restriction_add(profile_ids=[profile.pk], kind=restriction)

    in_sql = Profile.objects.filter(
        consent_granted_exists(purpose_key=purpose, profile_ref="pk"), pk=profile.pk
    ).exists()

    assert consent_allows(profile_id=profile.pk, purpose_key=purpose) is allowed
    assert in_sql is allowed
    # The other person is unaffected by this one's choices.
    other_allowed = purpose == "service"
    assert consent_allows(profile_id=other.pk, purpose_key=purpose) is other_allowed


def test_an_objection_withdraws_marketing_in_the_ledger_and_lifting_it_restores_nothing_else(
    actor,
):
    consent_record(
        profile_id=5,
        choices=[
            ConsentChoice(purpose_key="email_marketing", is_granted=True),
            ConsentChoice(purpose_key="analytics", is_granted=True),
        ],
        source="web",
    )
    (row_id,) = restriction_add(profile_ids=[5], kind="objection", request_id=None)

    assert _states(5) == {
        "email_marketing": False,
        "sms_marketing": False,
        "advertising": False,
        "analytics": True,
    }
    assert restriction_add(profile_ids=[5], kind="objection") == []  # idempotent
    assert restriction_lift(restriction_id=row_id, actor=actor) is True
    assert restriction_lift(restriction_id=row_id, actor=actor) is False
    assert consent_allows(profile_id=5, purpose_key="email_marketing") is False  # still withdrawn


def test_ledger_and_restrictions_follow_a_merge_and_go_back_on_unmerge():
    consent_record(
        profile_id=2,
        choices=[ConsentChoice(purpose_key="email_marketing", is_granted=True)],
        source="web",
    )
    restriction_add(profile_ids=[2], kind="objection")

    objected = {"email_marketing": False, "sms_marketing": False, "advertising": False}
    consent_profiles_merged(survivor_id=1, absorbed_id=2)
    assert _states(1) == objected
    assert ProcessingRestriction.objects.get().profile_id == 1

    consent_profiles_unmerged(survivor_id=1, restored_id=2, origin_ids=[2])
    assert _states(1) == {}
    assert _states(2) == objected
    assert ProcessingRestriction.objects.get().profile_id == 2
