"""The dispatcher's batch consent check agrees with consent.public.consent_allows for every
kind of person: granted, withdrawn, never asked, restricted, objecting; any purpose."""

import pytest

from campaigns.selectors.people import consent_allowed
from consent.models import ProcessingRestriction
from consent.public import consent_allows
from consent.services.restrictions import restriction_add

pytestmark = pytest.mark.django_db

PURPOSES = ("email_marketing", "advertising", "service", "analytics", "no_such_purpose")


def test_the_batch_check_equals_consent_allows_person_by_person(person):
    granted = person("granted")
    withdrawn = person("withdrawn", email_consent=False)
    never = person("never", email_consent=None)
    restricted = person("restricted")
    objecting = person("objecting", consents={"advertising": True})
    restriction_add(profile_ids=[restricted], kind=ProcessingRestriction.Kind.RESTRICTION)
    restriction_add(profile_ids=[objecting], kind=ProcessingRestriction.Kind.OBJECTION)
    everyone = [granted, withdrawn, never, restricted, objecting]

    for purpose in PURPOSES:
        expected = {pid for pid in everyone if consent_allows(profile_id=pid, purpose_key=purpose)}
        assert consent_allowed(everyone, purpose_key=purpose) == expected, purpose
    assert consent_allowed(everyone, purpose_key="email_marketing") == {granted}
    # An objection stops marketing only; a restriction stops everything.
    assert consent_allowed(everyone, purpose_key="service") == {
        granted,
        withdrawn,
        never,
        objecting,
    }
