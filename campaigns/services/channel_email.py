"""Campaigns services: the email channel — Django's email backend (SMTP in production), one
connection per batch, RFC 8058 one-click unsubscribe headers, and hand-over marks per small
group so a worker's death never causes a second email (at-most-once)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import Send

from .rendering import RenderedMessage


@dataclass(frozen=True, kw_only=True)
class EmailResult:
    is_ok: bool
    is_retryable: bool = False
    error: str = ""


def email_message(
    *, rendered: RenderedMessage, to: str, delivery_id: str
) -> EmailMultiAlternatives:
    """The message with List-Unsubscribe (one-click URL) and List-Unsubscribe-Post headers,
    and a Message-ID derived from the delivery id."""
    sender = settings.DEFAULT_FROM_EMAIL
    domain = sender.rsplit("@", 1)[-1].rstrip(">").strip() or "cdp.local"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sender,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{rendered.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": f"<{delivery_id}@{domain}>",
            "X-CDP-Delivery": delivery_id,
        },
    )
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    return message


def email_connection() -> BaseEmailBackend:
    """A connection of CDP_CAMPAIGN_EMAIL_BACKEND (default: EMAIL_BACKEND)."""
    options: dict[str, Any] = {}
    if settings.CDP_CAMPAIGN_EMAIL_FILE_PATH:
        options["file_path"] = settings.CDP_CAMPAIGN_EMAIL_FILE_PATH
    return get_connection(
        backend=settings.CDP_CAMPAIGN_EMAIL_BACKEND or None, fail_silently=False, **options
    )


def _classify(exc: Exception) -> EmailResult:
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return EmailResult(is_ok=False, error=type(exc).__name__)
    code = getattr(exc, "smtp_code", None)
    permanent = isinstance(code, int) and 500 <= code < 600
    return EmailResult(is_ok=False, is_retryable=not permanent, error=type(exc).__name__)


def emails_deliver(
    items: Sequence[tuple[Send, EmailMultiAlternatives]],
) -> list[EmailResult]:
    """Hand the messages to the backend over one connection, CDP_EMAIL_GROUP_SIZE at a
    time: the group's rows are marked `attempt_started_at` before the hand-over and the
    accepted ones `sent` right after. Marking one group sent and the next one started is a
    single commit, so a group costs one commit, not two.

    A worker killed in between leaves rows the sweeper marks `outcome_unknown` instead of
    resending them: never a duplicate, at most one group in doubt. Results in input order.
    """
    results: list[EmailResult] = []
    size = max(1, settings.CDP_EMAIL_GROUP_SIZE)
    groups = [items[start : start + size] for start in range(0, len(items), size)]
    if not groups:
        return results
    connection = email_connection()
    try:
        connection.open()
        _mark_started(groups[0])
        for index, group in enumerate(groups):
            outcome = [_hand_over(connection, send, message) for send, message in group]
            following = groups[index + 1] if index + 1 < len(groups) else ()
            with transaction.atomic():
                _mark_sent(group, outcome)
                _mark_started(following)
            results.extend(outcome)
    finally:
        connection.close()
    return results


def _mark_started(items: Sequence[tuple[Send, EmailMultiAlternatives]]) -> None:
    if items:
        Send.objects.filter(
            pk__in=[send.pk for send, _ in items], status=Send.Status.SENDING
        ).update(attempt_started_at=timezone.now())


def _mark_sent(
    items: Sequence[tuple[Send, EmailMultiAlternatives]], results: Sequence[EmailResult]
) -> None:
    now = timezone.now()
    accepted = [send.pk for (send, _), result in zip(items, results, strict=True) if result.is_ok]
    if not accepted:
        return
    Send.objects.filter(pk__in=accepted, status=Send.Status.SENDING).update(
        status=Send.Status.SENT,
        sent_at=now,
        finished_at=now,
        lease_until=None,
        attempts=F("attempts") + 1,
        error="",
    )


def _hand_over(
    connection: BaseEmailBackend, send: Send, message: EmailMultiAlternatives
) -> EmailResult:
    try:
        connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as exc:
        Send.objects.filter(pk=send.pk).update(attempt_started_at=None)  # not handed over
        connection.close()  # the next message opens a fresh connection
        return _classify(exc)
    return EmailResult(is_ok=True)
