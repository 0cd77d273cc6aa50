"""Campaigns services: the dispatcher — claim due outbox rows in batches, read every fact a
decision needs in bulk, decide each row (campaigns.compute.decisions), record skips and
deferrals, and deliver the rest by email or webhook, with retries and a dead-letter list."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone

from campaigns.compute.decisions import DEFER, SKIP, decide, retry_delay
from campaigns.models import Campaign, CampaignMembership, Send, Variant
from campaigns.selectors.campaigns import (
    campaigns_by_ids,
    content_blocks_active,
    recommendations_for,
    variant_by_key,
)
from campaigns.selectors.people import email_of, order_stats

from .channel_email import EmailResult, email_message, emails_deliver
from .channel_webhook import WebhookJob, WebhookRequest, WebhookResult, webhook_client
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
    queued rows are claimed, and each row's state says what happened to it). The next
    batch is claimed while the last webhooks of the previous one are still on the wire;
    they are recorded before the new batch reads its facts (its caps count them).
    """
    size = batch_size or settings.CDP_SEND_BATCH_SIZE
    budget = settings.CDP_SEND_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    started = time.monotonic()
    totals: Counter[str] = Counter()
    window = _WebhookWindow()
    try:
        while time.monotonic() - started < budget:
            now = timezone.now()
            batch = sends_claim(batch_size=size, now=now)
            window.flush()
            if not batch:
                break
            totals["claimed"] += len(batch)
            totals.update(_process(batch, now, window))
    finally:
        window.flush()
    totals.update(window.counts)
    return DispatchOutcome(**totals)


def _process(batch: Sequence[Send], now: datetime, window: _WebhookWindow) -> Counter[str]:
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
        counts.update(_deliver_webhooks(webhook_rows, facts, now, window))
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
    variants = _variants(facts)
    items = []
    broken: list[tuple[Send, str]] = []
    for send in sends:
        campaign = facts.campaigns[send.campaign_id]
        person = people[send.profile_id]  # type: ignore[index]
        try:
            rendered = renderer.render(
                campaign=campaign,
                variant=variants[campaign.pk].get(send.arm),
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


def _variants(facts: BatchFacts) -> dict[int, dict[str, Variant]]:
    """Each campaign's variants by key (prefetched: no query)."""
    return {pk: variant_by_key(campaign) for pk, campaign in facts.campaigns.items()}


def _record_render_errors(broken: Sequence[tuple[Send, str]], now: datetime) -> int:
    by_error: dict[str, list[int]] = defaultdict(list)
    for send, error in broken:
        by_error[error[:300]].append(send.pk)
    for error, ids in by_error.items():
        _update_sending(
            ids,
            status=Send.Status.FAILED,
            reason=Send.Reason.RENDER_ERROR,
            error=error,
            finished_at=now,
            lease_until=None,
        )
    return len(broken)


def _message_payload(
    send: Send,
    campaign: Campaign,
    variant: Variant | None,
    facts: BatchFacts,
    renderer: MessageRenderer,
    person: Person,
) -> dict[str, Any]:
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


def _deliver_webhooks(
    sends: Sequence[Send], facts: BatchFacts, now: datetime, window: _WebhookWindow
) -> Counter[str]:
    """Render and submit the rows chunk by chunk: a chunk is rendered while the two before
    it are on the wire, and recorded as soon as it is answered."""
    messages = [send for send in sends if send.kind == Send.Kind.MESSAGE]
    renderer, people = _renderer_and_people(messages, facts, now)
    variants = _variants(facts)
    counts: Counter[str] = Counter()
    for start in range(0, len(sends), window.chunk):
        posted: list[Send] = []
        requests_: list[WebhookRequest] = []
        broken: list[tuple[Send, str]] = []
        for send in sends[start : start + window.chunk]:
            campaign = facts.campaigns[send.campaign_id]
            try:
                if send.kind == Send.Kind.MESSAGE:
                    person = people[send.profile_id]  # type: ignore[index]
                    variant = variants[campaign.pk].get(send.arm)
                    payload = _message_payload(send, campaign, variant, facts, renderer, person)
                else:
                    payload = _audience_payload(send, campaign, facts)
            except RENDER_ERRORS as exc:
                broken.append((send, f"{type(exc).__name__}: {exc}"))
                continue
            posted.append(send)
            requests_.append(_webhook_request(send, campaign, payload))
        counts["failed"] += _record_render_errors(broken, now)
        window.submit(posted, requests_, now)
    return counts


def _webhook_request(send: Send, campaign: Campaign, payload: dict[str, Any]) -> WebhookRequest:
    return WebhookRequest(
        url=campaign.webhook_url,
        secret=campaign.webhook_secret,
        delivery_id=str(send.delivery_id),
        attempt=send.attempts + 1,
        payload=payload,
    )


class _WebhookWindow:
    """Webhook chunks on the wire, at most two at a time, recorded in order as they are
    answered. A worker killed mid-batch has therefore delivered at most two chunks it did
    not record (re-sent after the lease with the same X-CDP-Delivery id).

    A chunk is `max(64, 8 × threads)` requests: enough to keep every thread busy while the
    dispatcher records the chunk before.
    """

    def __init__(self) -> None:
        self.chunk = max(64, 8 * settings.CDP_WEBHOOK_THREADS)
        self.counts: Counter[str] = Counter()
        self._pending: deque[tuple[list[Send], WebhookJob, datetime]] = deque()

    def submit(self, sends: list[Send], requests_: list[WebhookRequest], now: datetime) -> None:
        if not sends:
            return
        while len(self._pending) >= 2:
            self._record_oldest()
        self._pending.append((sends, webhook_client().submit(requests_), now))

    def flush(self) -> None:
        """Wait for every chunk on the wire and record it."""
        while self._pending:
            self._record_oldest()

    def _record_oldest(self) -> None:
        sends, job, now = self._pending.popleft()
        results = webhook_client().results(job)
        _record_webhooks_sent(
            [send for send, result in zip(sends, results, strict=True) if result.is_ok],
            timezone.now(),
        )
        self.counts.update(
            _record_failures(sends, results, now, max_attempts=settings.CDP_WEBHOOK_MAX_ATTEMPTS)
        )


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
    at once for a rejection) mark them failed: the dead-letter list. Rows with the same
    outcome are updated together (one UPDATE per outcome, not per row)."""
    counts: Counter[str] = Counter()
    outcomes: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
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
            values: dict[str, Any] = {
                "status": Send.Status.QUEUED,
                "attempts": attempt,
                "due_at": now + delay,
                "error": result.error,
                "claimed_at": None,
                "lease_until": None,
            }
            counts["retrying"] += 1
        else:
            reason = Send.Reason.RETRIES_EXHAUSTED if result.is_retryable else Send.Reason.REJECTED
            values = {
                "status": Send.Status.FAILED,
                "attempts": attempt,
                "reason": reason,
                "error": result.error,
                "finished_at": now,
                "lease_until": None,
            }
            counts["failed"] += 1
            logger.warning(
                "send_dead_lettered", extra={"send_id": send.pk, "campaign_id": send.campaign_id}
            )
        outcomes[tuple(values.items())].append(send.pk)
    for values_items, ids in outcomes.items():
        _update_sending(ids, **dict(values_items))
    return counts


def _update_sending(send_ids: Sequence[int], **values: Any) -> None:
    Send.objects.filter(pk__in=list(send_ids), status=Send.Status.SENDING).update(**values)
