"""Campaigns services: the outbox — queue rows exactly once per (campaign, person, trigger
occurrence), claim due rows for a worker, and recover rows a dead worker left `sending`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, Send
from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record

from .assignment import assignments_ensure

logger = logging.getLogger(__name__)
CHUNK = 5_000


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """One trigger occurrence for one person: what to queue."""

    profile_id: int
    key: str
    triggered_at: datetime
    due_at: datetime
    trigger_event_id: int | None = None


def sends_enqueue(
    *, campaign: Campaign, occurrences: Sequence[Occurrence], kind: str = Send.Kind.MESSAGE
) -> int:
    """Queue one outbox row per occurrence (assigning arms first) and kick the dispatcher
    after commit for rows already due. Returns how many occurrences were offered.

    Idempotent: the unique key (campaign, profile, occurrence) drops replays silently, so a
    trigger delivered twice (broker redelivery, sweeper overlap) queues one row.
    """
    if not occurrences:
        return 0
    now = timezone.now()
    arms = assignments_ensure(
        campaign=campaign, profile_ids=[item.profile_id for item in occurrences], at=now
    )
    rows = [
        Send(
            campaign=campaign,
            profile_id=item.profile_id,
            occurrence_key=item.key,
            kind=kind,
            arm=arms[item.profile_id],
            triggered_at=item.triggered_at,
            due_at=item.due_at,
            trigger_event_id=item.trigger_event_id,
            created_at=now,
        )
        for item in occurrences
    ]
    with transaction.atomic():
        Send.objects.bulk_create(rows, ignore_conflicts=True, batch_size=CHUNK)
        if any(item.due_at <= now for item in occurrences):
            jobs.publish_on_commit(jobs.CAMPAIGN_SENDS_DUE, campaign_ids=[campaign.pk])
    return len(rows)


def sends_claim(*, batch_size: int, now: datetime) -> list[Send]:
    """Claim up to `batch_size` due rows of active campaigns: lock them (skip_locked, so
    workers never claim the same row), mark them `sending` with a lease, commit.

    One statement — WITH due AS (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) UPDATE … RETURNING
    … — instead of a locking SELECT, an UPDATE and a SELECT of the rows (PostgreSQL, and
    SQLite from 3.35, where FOR UPDATE is left out: it locks the whole file anyway).
    Rows of paused campaigns stay queued until resumed.
    """
    lease_until = now + timedelta(seconds=settings.CDP_SEND_LEASE_SECONDS)
    quote = connection.ops.quote_name
    table, pk = quote(Send._meta.db_table), quote(Send._meta.pk.column)
    columns = ", ".join(quote(field.column) for field in Send._meta.concrete_fields)
    with transaction.atomic():  # FOR UPDATE is compiled only inside a transaction
        due = (
            Send.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=Send.Status.QUEUED,
                due_at__lte=now,
                campaign__status=Campaign.Status.ACTIVE,
            )
            .order_by("due_at", "pk")
            .values("pk")[:batch_size]
        )
        due_sql, due_params = due.query.sql_with_params()
        # MATERIALIZED: the locking SELECT runs exactly once (never rescanned per row).
        claimed = Send.objects.raw(
            f"WITH due (id) AS MATERIALIZED ({due_sql}) "  # noqa: S608 (identifiers from the model)
            f"UPDATE {table} SET status = %s, claimed_at = %s, lease_until = %s, "
            f"attempt_started_at = NULL WHERE {pk} IN (SELECT id FROM due) RETURNING {columns}",
            [*due_params, Send.Status.SENDING.value, now, lease_until],
        )
        rows = list(claimed)
    return sorted(rows, key=lambda send: (send.due_at, send.pk))


@dataclass(frozen=True, kw_only=True)
class RecoverOutcome:
    requeued: int
    unknown: int


def sends_recover(*, now: datetime | None = None) -> RecoverOutcome:
    """Recover rows left `sending` past their lease by a worker that died.

    Rows never handed to a channel, and webhook/audience rows (receivers deduplicate on
    X-CDP-Delivery: at-least-once with an idempotency key) go back to the queue. Email rows
    already handed to the mail server cannot be checked with it: they are marked failed with
    reason `outcome_unknown` and never resent (at-most-once: no duplicate emails).
    Idempotent; kicks the dispatcher when it requeued anything.
    """
    now = now or timezone.now()
    stale = Send.objects.filter(status=Send.Status.SENDING, lease_until__lt=now)
    handed_over = Q(campaign__channel=Campaign.Channel.EMAIL, kind=Send.Kind.MESSAGE) & Q(
        attempt_started_at__isnull=False
    )
    with transaction.atomic():
        unknown = Send.objects.filter(
            pk__in=list(stale.filter(handed_over).values_list("pk", flat=True))
        ).update(
            status=Send.Status.FAILED,
            reason=Send.Reason.OUTCOME_UNKNOWN,
            error="worker lost after handing the message to the mail server",
            finished_at=now,
            lease_until=None,
        )
        requeued = Send.objects.filter(
            pk__in=list(stale.exclude(handed_over).values_list("pk", flat=True))
        ).update(status=Send.Status.QUEUED, claimed_at=None, lease_until=None)
        if requeued:
            jobs.publish_on_commit(jobs.CAMPAIGN_SENDS_DUE, campaign_ids=[])
    if requeued or unknown:
        logger.warning("sends_recovered", extra={"requeued": requeued, "unknown": unknown})
    return RecoverOutcome(requeued=requeued, unknown=unknown)


def sends_due_count(*, now: datetime, limit: int = 100_000) -> int:
    """How many queued rows of active campaigns are due (capped at `limit`)."""
    due = Send.objects.filter(
        status=Send.Status.QUEUED, due_at__lte=now, campaign__status=Campaign.Status.ACTIVE
    )
    return len(due.values_list("pk", flat=True)[:limit])


def sends_due_sweep(*, now: datetime | None = None, fanout: int = 4) -> int:
    """Beat: kick dispatch tasks for due rows (delays that came due, lost kicks). Returns
    the number of due rows seen; publishes one kick per batch-worth, at most `fanout`."""
    now = now or timezone.now()
    due = sends_due_count(now=now)
    if due:
        kicks = min(fanout, max(1, due // (settings.CDP_SEND_BATCH_SIZE * 4)))
        for _ in range(kicks):
            jobs.publish_on_commit(jobs.CAMPAIGN_SENDS_DUE, campaign_ids=[])
    return due


@transaction.atomic
def dead_letters_retry(*, send_ids: Sequence[int], actor: Actor) -> int:
    """Put failed sends back in the queue, due now, with a fresh attempt count (an explicit
    decision: an `outcome_unknown` email retried may arrive twice). Returns rows requeued."""
    now = timezone.now()
    count = Send.objects.filter(pk__in=list(send_ids), status=Send.Status.FAILED).update(
        status=Send.Status.QUEUED,
        reason="",
        error="",
        attempts=0,
        due_at=now,
        finished_at=None,
        attempt_started_at=None,
        claimed_at=None,
        lease_until=None,
    )
    audit_record(
        actor=actor,
        action="campaigns.dead_letter.retry",
        target_type="campaigns.send",
        details={"count": count, "send_ids": sorted(send_ids)[:100]},
    )
    if count:
        jobs.publish_on_commit(jobs.CAMPAIGN_SENDS_DUE, campaign_ids=[])
    return count
