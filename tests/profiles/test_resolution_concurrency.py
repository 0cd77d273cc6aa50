"""Concurrent ingestion of the same person from two sources ends in one profile."""

from __future__ import annotations

import threading

from django.db import connection

import pytest

from cdp.core.actor import SYSTEM
from profiles.models import Event, Identifier, Profile
from profiles.services.ingest import events_ingest
from profiles.services.sources import source_create

# Needs PostgreSQL: real row locks and concurrent transactions on separate connections (SQLite
# serialises writers, so the race cannot happen there).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _send(source_id: int, message: dict, barrier: threading.Barrier, failures: list) -> None:
    try:
        barrier.wait(timeout=10)
        events_ingest(source_id=source_id, messages=[message])  # processed eagerly on commit
    except Exception as exc:  # reported by the test, not swallowed
        failures.append(exc)
    finally:
        connection.close()


@pytest.mark.parametrize("round_number", range(5))
def test_two_sources_sending_the_same_person_at_once_make_one_profile(round_number):
    crm, _ = source_create(name=f"crm-{round_number}", kind="crm", actor=SYSTEM)
    shop, _ = source_create(name=f"shop-{round_number}", kind="shop", actor=SYSTEM)
    email = f"ada{round_number}@example.com"
    messages = [
        (crm.pk, {"type": "identify", "userId": f"crm-{round_number}", "traits": {"email": email}}),
        (
            shop.pk,
            {"type": "identify", "anonymousId": f"a-{round_number}", "traits": {"email": email}},
        ),
    ]
    barrier = threading.Barrier(len(messages))
    failures: list[Exception] = []
    threads = [
        threading.Thread(target=_send, args=(source_id, message, barrier, failures))
        for source_id, message in messages
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    owner = Identifier.objects.get(type="email", value=email).profile_id
    assert Profile.objects.filter(merged_into__isnull=True).count() == 1
    assert set(Identifier.objects.values_list("profile_id", flat=True)) == {owner}
    assert set(Event.objects.values_list("status", "profile_id")) == {("processed", owner)}
