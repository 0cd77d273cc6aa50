from datetime import UTC, datetime, timedelta

import pytest

from cdp.core.models import AuditEvent
from consent.models import Purpose, RetentionRule
from consent.services.retention import retention_purge
from profiles.models import Event, Order, TraitValue
from profiles.services.ingest import events_ingest

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 6, 1, tzinfo=UTC)


def _at(days_ago):
    return (NOW - timedelta(days=days_ago)).isoformat()


@pytest.fixture
def history(source_and_key, django_capture_on_commit_callbacks):
    source, _ = source_and_key
    messages = [
        {"type": "page", "userId": "u1", "messageId": "page-old", "timestamp": _at(400)},
        {"type": "page", "userId": "u1", "messageId": "page-new", "timestamp": _at(100)},
        {"type": "track", "userId": "u1", "messageId": "view-old", "event": "Product Viewed",
         "timestamp": _at(400)},
        {"type": "track", "userId": "u1", "messageId": "order-old", "event": "Order Completed",
         "timestamp": _at(400), "properties": {"order_id": "O1", "total": 5}},
        {"type": "identify", "userId": "u1", "messageId": "id-old", "timestamp": _at(400),
         "traits": {"first_name": "Ada"}},
    ]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(source_id=source.pk, messages=messages, options=None)


def test_the_default_rule_purges_page_views_older_than_13_months(history):
    purged = retention_purge(now=NOW)

    rule = RetentionRule.objects.get(name="Raw page views")
    assert purged == {rule.pk: 1}
    assert sorted(Event.objects.values_list("message_id", flat=True)) == [
        "id-old",
        "order-old",
        "page-new",
        "view-old",
    ]
    audit = AuditEvent.objects.get(action="consent.retention.purge")
    assert (audit.target_id, audit.details["deleted_events"]) == (str(rule.pk), 1)
    rule.refresh_from_db()
    assert (rule.last_run_at, rule.last_purged) == (NOW, 1)


def test_an_analytics_rule_purges_behaviour_but_keeps_orders_and_account_events(history):
    RetentionRule.objects.create(
        name="Analytics 90 days", purpose=Purpose.objects.get(key="analytics"), keep_days=90
    )

    purged = retention_purge(now=NOW)

    assert sum(purged.values()) == 3  # page-old (by either rule), page-new, view-old
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["id-old", "order-old"]
    assert Order.objects.get().order_id == "O1"
    assert TraitValue.objects.get().value == "Ada"  # provenance rows outlive their event


def test_purging_again_deletes_nothing_and_inactive_rules_do_nothing(history):
    RetentionRule.objects.update(is_active=False)

    assert retention_purge(now=NOW) == {}
    RetentionRule.objects.update(is_active=True)
    retention_purge(now=NOW)
    assert retention_purge(now=NOW) == {RetentionRule.objects.get().pk: 0}
    assert Event.objects.count() == 4


def test_a_rule_needs_a_target():
    from django.core.exceptions import ValidationError

    rule = RetentionRule(name="Everything", keep_days=30)
    with pytest.raises(ValidationError):
        rule.full_clean()
