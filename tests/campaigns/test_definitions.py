"""Campaign definitions: validation before any write, locks after launch, lifecycle."""

from datetime import time

import pytest

from campaigns.models import Campaign, Variant
from campaigns.services.definitions import (
    VariantSpec,
    campaign_create,
    campaign_update,
    content_block_save,
)
from campaigns.services.lifecycle import campaign_delete, campaign_launch, campaign_pause
from cdp.core.errors import ConflictError, InvalidInputError
from cdp.core.models import AuditEvent
from tests.campaigns.conftest import ACTOR

pytestmark = pytest.mark.django_db

BASE = {"name": "C", "trigger": "event", "trigger_event": "Checkout Started", "channel": "email"}


@pytest.mark.parametrize(
    ("_case", "fields", "field"),
    [
        ("no event", {"trigger_event": ""}, "trigger_event"),
        ("bad filter", {"trigger_filters": [["total", "~", 3]]}, "trigger_filters"),
        ("entry without segment", {"trigger": "segment_entry"}, "segment_id"),
        ("unknown segment", {"segment_id": 999}, "segment_id"),
        (
            "schedule without time",
            {"trigger": "schedule", "schedule_recurrence": "daily"},
            "schedule_time",
        ),
        ("once without date", {"trigger": "schedule", "schedule_time": time(9)}, "schedule_date"),
        ("webhook without url", {"channel": "webhook"}, "webhook_url"),
        ("unknown purpose", {"purpose_key": "telepathy"}, "purpose_key"),
        ("bad zone", {"timezone": "Mars/Olympus"}, "timezone"),
        ("half quiet hours", {"quiet_start": time(22)}, "quiet_end"),
        ("holdout too big", {"holdout_share": 0.7}, "holdout_share"),
    ],
)
def test_invalid_settings_are_refused_and_nothing_is_written(_case, fields, field):
    with pytest.raises(InvalidInputError) as raised:
        campaign_create(actor=ACTOR, fields={**BASE, **fields})

    assert field in raised.value.details
    assert Campaign.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_template_that_does_not_compile_is_refused():
    with pytest.raises(InvalidInputError, match=r"a\.body_text"):
        campaign_create(
            actor=ACTOR, fields=BASE, variants=[VariantSpec(key="a", body_text="{% if %}")]
        )

    assert Campaign.objects.count() == 0


def test_templates_cannot_include_files_or_load_libraries():
    for source in ('{% include "admin/base.html" %}', "{% load static %}"):
        with pytest.raises(InvalidInputError):
            campaign_create(
                actor=ACTOR, fields=BASE, variants=[VariantSpec(key="a", body_text=source)]
            )


def test_the_experiment_is_locked_after_launch_but_content_is_not():
    campaign = campaign_create(
        actor=ACTOR,
        fields=BASE,
        variants=[
            VariantSpec(key="a", subject="s", body_text="t"),
            VariantSpec(key="b", subject="s", body_text="t"),
        ],
    )
    campaign_launch(campaign_id=campaign.pk, actor=ACTOR)

    with pytest.raises(ConflictError, match="holdout_share"):
        campaign_update(campaign_id=campaign.pk, actor=ACTOR, fields={"holdout_share": 0.2})
    with pytest.raises(ConflictError, match="Variant keys and weights"):
        campaign_update(
            campaign_id=campaign.pk,
            actor=ACTOR,
            fields={},
            variants=[
                VariantSpec(key="a", weight=3, subject="s", body_text="t"),
                VariantSpec(key="b", subject="s", body_text="t"),
            ],
        )
    campaign_update(
        campaign_id=campaign.pk,
        actor=ACTOR,
        fields={"goal_event": "Signed Up"},
        variants=[
            VariantSpec(key="a", subject="new", body_text="t"),
            VariantSpec(key="b", subject="s", body_text="t"),
        ],
    )

    assert Variant.objects.get(key="a").subject == "new"
    assert Campaign.objects.get().goal_event == "Signed Up"
    assert Campaign.objects.get().holdout_share == 0.0


def test_launch_needs_a_complete_email_variant_and_happens_once():
    campaign = campaign_create(
        actor=ACTOR, fields=BASE, variants=[VariantSpec(key="a", subject="s")]
    )

    with pytest.raises(InvalidInputError, match="subject and a body"):
        campaign_launch(campaign_id=campaign.pk, actor=ACTOR)
    campaign_update(
        campaign_id=campaign.pk,
        actor=ACTOR,
        fields={},
        variants=[VariantSpec(key="a", subject="s", body_text="b")],
    )
    campaign_launch(campaign_id=campaign.pk, actor=ACTOR)
    with pytest.raises(ConflictError):
        campaign_launch(campaign_id=campaign.pk, actor=ACTOR)
    assert AuditEvent.objects.filter(action="campaigns.campaign.launch").count() == 1


def test_only_drafts_can_be_deleted():
    draft = campaign_create(
        actor=ACTOR, fields=BASE, variants=[VariantSpec(key="a", subject="s", body_text="b")]
    )
    live = campaign_create(
        actor=ACTOR,
        fields={**BASE, "name": "live"},
        variants=[VariantSpec(key="a", subject="s", body_text="b")],
    )
    campaign_launch(campaign_id=live.pk, actor=ACTOR)
    campaign_pause(campaign_id=live.pk, actor=ACTOR)

    campaign_delete(campaign_id=draft.pk, actor=ACTOR)
    with pytest.raises(ConflictError):
        campaign_delete(campaign_id=live.pk, actor=ACTOR)

    assert list(Campaign.objects.values_list("name", flat=True)) == ["live"]


def test_content_block_rules_are_validated():
    with pytest.raises(InvalidInputError):
        content_block_save(
            actor=ACTOR, key="x", fields={"name": "X", "conditions": [["a", "??", 1]], "body": "b"}
        )
    block = content_block_save(
        actor=ACTOR,
        key="x",
        fields={"name": "X", "conditions": [["monetary", ">=", 500]], "body": "b"},
    )
    assert block.conditions == [["monetary", ">=", 500]]
