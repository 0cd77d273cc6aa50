"""Campaigns services: the dispatcher — claim due outbox rows in batches, read every fact a
decision needs in bulk, decide each row (campaigns.compute.decisions), record skips and
deferrals, and deliver the rest by email or webhook, with retries and a dead-letter list."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone

from campaigns.compute.decisions import DEFER, SKIP, decide, retry_delay
from campaigns.models import Campaign, CampaignMembership, Send
from campaigns.selectors.campaigns import (
    campaigns_by_ids,
    content_blocks_active,
    recommendations_for,
    variant_by_key,
)
from campaigns.selectors.people import email_of, order_stats

from .channel_email import EmailResult, email_message, emails_deliver
from .channel_webhook import WebhookRequest, WebhookResult, webhook_client
from .facts import BatchFacts, batch_facts_gather, send_facts
from .outbox import sends_claim
from .rendering import MessageRenderer, Person

logger = logging.getLogger(__name__)
# What a marketer's template can raise while rendering one message (the row fails, the batch
# goes on).
RENDER_ERRORS = (TemplateSyntaxError, TemplateDoesNotExist, ValueError, TypeError, KeyError)


@dataclass(frozen=True, kw_only=True)
class DispatchOutcome:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    retrying: int = 0
    failed: int = 0


def sends_dispatch(
    *, batch_size: int | None = None, time_budget: float | None = None
) -> DispatchOutcome:
    """Claim and process due rows batch after batch until none is due or the time budget
    (CDP_SEND_TIME_BUDGET_SECONDS) is spent; the beat sweeper continues any rest.

    Safe to run on many workers at once (claims skip locked rows) and to replay (only
    queued rows are claimed, and each row's state says what happened to it).
    """
    size = batch_size or settings.CDP_SEND_BATCH_SIZE
    budget = settings.CDP_SEND_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    started = time.monotonic()
    totals: Counter[str] = Counter()
    while time.monotonic() - started < budget:
        now = timezone.now()
        batch = sends_claim(batch_size=size, now=now)
        if not batch:
            break
        totals["claimed"] += len(batch)
        totals.update(_process(batch, now))
    return DispatchOutcome(**totals)


def _process(batch: Sequence[Send], now: datetime) -> Counter[str]:
    campaigns = campaigns_by_ids({send.campaign_id for send in batch})
    facts = batch_facts_gather(batch=batch, campaigns=campaigns, now=now)
    decided: dict[str, list[Send]] = defaultdict(list)
    deferred: dict[datetime, list[int]] = defaultdict(list)
    skipped: dict[str, list[int]] = defaultdict(list)
    for send in batch:
        decision = decide(send_facts(send, facts))
        if decision.action == SKIP:
            skipped[decision.reason].append(send.pk)
        elif decision.action == DEFER and decision.send_at is not None:
            deferred[decision.send_at].append(send.pk)
        else:
            decided[_route(send, campaigns[send.campaign_id])].append(send)
            facts.note_sent(send, now)
    counts: Counter[str] = Counter()
    counts["skipped"] = _record_skips(skipped, now)
    counts["deferred"] = _record_deferrals(deferred)
    if decided["email"]:
        counts.update(_deliver_email(decided["email"], facts, now))
    webhook_rows = decided["webhook"] + decided["audience"]
    if webhook_rows:
        counts.update(_deliver_webhooks(webhook_rows, facts, now))
    return counts


def _route(send: Send, campaign: Campaign) -> str:
    if send.kind != Send.Kind.MESSAGE:
        return "audience"
    return "email" if campaign.channel == Campaign.Channel.EMAIL else "webhook"


def _record_skips(skipped: dict[str, list[int]], now: datetime) -> int:
    total = 0
    for reason, ids in skipped.items():
        total += Send.objects.filter(pk__in=ids, status=Send.Status.SENDING).update(
            status=Send.Status.SKIPPED, reason=reason, finished_at=now, lease_until=None
        )
    return total


def _record_deferrals(deferred: dict[datetime, list[int]]) -> int:
    total = 0
    for send_at, ids in deferred.items():
        total += Send.objects.filter(pk__in=ids, status=Send.Status.SENDING).update(
            status=Send.Status.QUEUED,
            due_at=send_at,
            reason=Send.Reason.QUIET_HOURS,
            claimed_at=None,
            lease_until=None,
        )
    return total


def _renderer_and_people(
    sends: Sequence[Send], facts: BatchFacts, now: datetime
) -> tuple[MessageRenderer, dict[int, Person]]:
    ids = [send.profile_id for send in sends if send.profile_id is not None]
    features = order_stats(ids, now=now)
    recommended = recommendations_for(ids)
    people = {
        profile_id: Person(
            profile_id=profile_id,
            traits=facts.traits.get(profile_id, {}),
            features=features.get(profile_id, {}),
            recommendations=recommended.get(profile_id, []),
        )
        for profile_id in ids
    }
    return MessageRenderer(content_blocks_active()), people


def _deliver_email(sends: Sequence[Send], facts: BatchFacts, now: datetime) -> Counter[str]:
    renderer, people = _renderer_and_people(sends, facts, now)
    items = []
    broken: list[tuple[Send, str]] = []
    for send in sends:
        campaign = facts.campaigns[send.campaign_id]
        person = people[send.profile_id]  # type: ignore[index]
        try:
            rendered = renderer.render(
                campaign=campaign,
                variant=variant_by_key(campaign).get(send.arm),
                person=person,
                delivery_id=str(send.delivery_id),
            )
        except RENDER_ERRORS as exc:
            broken.append((send, f"{type(exc).__name__}: {exc}"))
            continue
        to = email_of(dict(person.traits))
        message = email_message(rendered=rendered, to=to, delivery_id=str(send.delivery_id))
        items.append((send, message))
    results = emails_deliver(items)
    counts = _record_failures(
        [send for send, _ in items], results, now, max_attempts=settings.CDP_EMAIL_MAX_ATTEMPTS
    )
    counts["failed"] += _record_render_errors(broken, now)
    return counts


def _record_render_errors(broken: Sequence[tuple[Send, str]], now: datetime) -> int:
    for send, error in broken:
        _update_sending(
            send,
            status=Send.Status.FAILED,
            reason=Send.Reason.RENDER_ERROR,
            error=error[:300],
            finished_at=now,
            lease_until=None,
        )
    return len(broken)


def _message_payload(
    send: Send, campaign: Campaign, facts: BatchFacts, renderer: MessageRenderer, person: Person
) -> dict[str, Any]:
    variant = variant_by_key(campaign).get(send.arm)
    content = None
    if variant is not None and (variant.subject or variant.body_text or variant.body_html):
        rendered = renderer.render(
            campaign=campaign, variant=variant, person=person, delivery_id=str(send.delivery_id)
        )
        content = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
    traits = facts.traits.get(send.profile_id or 0, {})
    return {
        "type": "campaign.message",
        "delivery_id": str(send.delivery_id),
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "variant": send.arm,
        "profile_id": send.profile_id,
        "traits": {name: traits[name] for name in campaign.webhook_traits if name in traits},
        "content": content,
        "occurrence": send.occurrence_key,
        "triggered_at": send.triggered_at,
    }


def _audience_payload(send: Send, campaign: Campaign, facts: BatchFacts) -> dict[str, Any]:
    email = email_of(facts.traits.get(send.profile_id or 0, {}))
    action = "add" if send.kind == Send.Kind.AUDIENCE_ADD else "remove"
    return {
        "type": f"audience.{action}",
        "delivery_id": str(send.delivery_id),
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "profile_id": send.profile_id,
        "email": email or None,
        # Ad platforms match on the SHA-256 of the normalised address (their convention).
        "email_sha256": hashlib.sha256(email.lower().encode()).hexdigest() if email else None,
    }


def _deliver_webhooks(sends: Sequence[Send], facts: BatchFacts, now: datetime) -> Counter[str]:
    messages = [send for send in sends if send.kind == Send.Kind.MESSAGE]
    renderer, people = _renderer_and_people(messages, facts, now)
    posted: list[Send] = []
    requests_ = []
    broken: list[tuple[Send, str]] = []
    for send in sends:
        campaign = facts.campaigns[send.campaign_id]
        try:
            if send.kind == Send.Kind.MESSAGE:
                person = people[send.profile_id]  # type: ignore[index]
                payload = _message_payload(send, campaign, facts, renderer, person)
            else:
                payload = _audience_payload(send, campaign, facts)
        except RENDER_ERRORS as exc:
            broken.append((send, f"{type(exc).__name__}: {exc}"))
            continue
        posted.append(send)
        requests_.append(
            WebhookRequest(
                url=campaign.webhook_url,
                secret=campaign.webhook_secret,
                delivery_id=str(send.delivery_id),
                attempt=send.attempts + 1,
                payload=payload,
            )
        )
    counts: Counter[str] = Counter()
    # Record outcomes every chunk (the next one already in flight), so a worker killed
    # mid-batch re-sends at most two chunks — with the same X-CDP-Delivery id.
    chunk = max(64, 8 * settings.CDP_WEBHOOK_THREADS)
    chunks = webhook_client().post_chunks(requests_, chunk=chunk)
    for start, results in zip(range(0, len(posted), chunk), chunks, strict=True):
        sends_part = posted[start : start + chunk]
        _record_webhooks_sent(
            [send for send, result in zip(sends_part, results, strict=True) if result.is_ok],
            timezone.now(),
        )
        counts.update(
            _record_failures(
                sends_part, results, now, max_attempts=settings.CDP_WEBHOOK_MAX_ATTEMPTS
            )
        )
    counts["failed"] += _record_render_errors(broken, now)
    return counts


def _record_webhooks_sent(sent: Sequence[Send], now: datetime) -> None:
    if not sent:
        return
    Send.objects.filter(pk__in=[send.pk for send in sent], status=Send.Status.SENDING).update(
        status=Send.Status.SENT,
        sent_at=now,
        finished_at=now,
        lease_until=None,
        attempts=F("attempts") + 1,
        error="",
    )
    for kind, exported in ((Send.Kind.AUDIENCE_ADD, True), (Send.Kind.AUDIENCE_REMOVE, False)):
        by_campaign: dict[int, list[int]] = defaultdict(list)
        for send in sent:
            if send.kind == kind and send.profile_id is not None:
                by_campaign[send.campaign_id].append(send.profile_id)
        for campaign_id, profile_ids in by_campaign.items():
            CampaignMembership.objects.filter(
                campaign_id=campaign_id, profile_id__in=profile_ids
            ).update(is_exported=exported)


def _record_failures(
    sends: Sequence[Send],
    results: Sequence[EmailResult | WebhookResult],
    now: datetime,
    *,
    max_attempts: int,
) -> Counter[str]:
    """Count successes; retry retryable failures with backoff until max_attempts, then (or
    at once for a rejection) mark them failed: the dead-letter list."""
    counts: Counter[str] = Counter()
    for send, result in zip(sends, results, strict=True):
        if result.is_ok:
            counts["sent"] += 1
            continue
        attempt = send.attempts + 1
        if result.is_retryable and attempt < max_attempts:
            delay = retry_delay(
                attempt,
                base_seconds=settings.CDP_WEBHOOK_BACKOFF_SECONDS,
                max_seconds=settings.CDP_WEBHOOK_BACKOFF_MAX_SECONDS,
            )
            _update_sending(
                send,
                status=Send.Status.QUEUED,
                attempts=attempt,
                due_at=now + delay,
                error=result.error,
                claimed_at=None,
                lease_until=None,
            )
            counts["retrying"] += 1
            continue
        reason = Send.Reason.RETRIES_EXHAUSTED if result.is_retryable else Send.Reason.REJECTED
        _update_sending(
            send,
            status=Send.Status.FAILED,
            attempts=attempt,
            reason=reason,
            error=result.error,
            finished_at=now,
            lease_until=None,
        )
        counts["failed"] += 1
        logger.warning(
            "send_dead_lettered", extra={"send_id": send.pk, "campaign_id": send.campaign_id}
        )
    return counts


def _update_sending(send: Send, **values: Any) -> None:
    Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(**values)
