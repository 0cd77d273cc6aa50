"""The schedule runner: one run per occurrence, each person queued at the send time on their
own clock (or the fixed zone), idempotent."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from campaigns.models import Campaign, ScheduleRun, Send
from campaigns.services.schedules import schedules_run

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)


@pytest.fixture
def people(person):
    with time_machine.travel(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), tick=False):
        return {
            "berlin": person("berlin", traits={"timezone": "Europe/Berlin"}),
            "ny": person("ny", traits={"timezone": "America/New_York"}),
            "none": person("none"),
        }


def _schedule(make_campaign, **fields):
    defaults = {
        "trigger": Campaign.Trigger.SCHEDULE,
        "schedule_recurrence": "once",
        "schedule_date": DAY,
        "schedule_time": time(9),
    }
    with time_machine.travel(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), tick=False):
        return make_campaign(**{**defaults, **fields})


def test_each_person_is_due_at_nine_on_their_own_clock(make_campaign, people):
    _schedule(make_campaign)

    with time_machine.travel(datetime(2026, 3, 1, 20, 0, tzinfo=UTC), tick=False):
        assert schedules_run() == 3
        assert schedules_run() == 0  # the run is done

    due = dict(Send.objects.values_list("profile_id", "due_at"))
    assert due == {
        people["berlin"]: datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        people["ny"]: datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
        people["none"]: datetime(2026, 3, 2, 9, 0, tzinfo=UTC),  # CDP_CAMPAIGN_DEFAULT_TIMEZONE
    }
    assert set(Send.objects.values_list("occurrence_key", flat=True)) == {"schedule:once"}
    assert ScheduleRun.objects.get().queued == 3


def test_a_fixed_zone_sends_everyone_at_the_same_instant(make_campaign, people):
    _schedule(make_campaign, timezone="America/New_York")

    with time_machine.travel(datetime(2026, 3, 2, 13, 59, tzinfo=UTC), tick=False):
        assert schedules_run() == 0
    with time_machine.travel(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), tick=False):
        assert schedules_run() == 3

    assert set(Send.objects.values_list("due_at", flat=True)) == {
        datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    }


def test_a_crashed_run_is_redone_without_duplicates(make_campaign, people):
    campaign = _schedule(make_campaign, timezone="UTC")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        schedules_run()
        ScheduleRun.objects.update(state=ScheduleRun.State.RUNNING)  # as if the worker died
        schedules_run()

    assert Send.objects.filter(campaign=campaign).count() == 3


def test_daily_schedules_queue_each_day_once(make_campaign, people):
    _schedule(make_campaign, timezone="UTC", schedule_recurrence="daily")

    for offset in (0, 1):
        with time_machine.travel(
            datetime(2026, 3, 2, 9, 5, tzinfo=UTC) + timedelta(days=offset), tick=False
        ):
            schedules_run()
            schedules_run()

    assert sorted(set(Send.objects.values_list("occurrence_key", flat=True))) == [
        "schedule:2026-03-02",
        "schedule:2026-03-03",
    ]
    assert Send.objects.count() == 6
