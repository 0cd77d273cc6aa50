"""Consent services: deadline reminders — a daily digest to privacy officers of requests due
within a week or overdue (ids, kinds and dates only: no personal data in email)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cdp.core.actor import SYSTEM
from cdp.core.audit import audit_record
from cdp.core.roles import PRIVACY_OFFICER
from consent.compute.deadlines import DUE_SOON_DAYS, urgency
from consent.models import DataSubjectRequest
from consent.selectors import dsr_list_due


def _officer_emails() -> list[str]:
    users = (
        get_user_model()
        .objects.filter(groups__name=PRIVACY_OFFICER, is_active=True)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def dsr_deadlines_remind(*, now: datetime | None = None) -> int:
    """Email one digest of open requests due within DUE_SOON_DAYS days or overdue that were
    not reminded today; mark them. Idempotent per day. Returns the number of requests listed."""
    now = now or timezone.now()
    today = now.date()
    with transaction.atomic():
        due = list(
            dsr_list_due(now=now, within_days=DUE_SOON_DAYS)
            .select_for_update()
            .exclude(reminded_on=today)
        )
        if not due:
            return 0
        lines = []
        for request in due:
            left = urgency(due=request.due_at, now=now)
            status = "OVERDUE" if left.is_overdue else f"{left.days_left} day(s) left"
            lines.append(
                f"#{request.pk} {request.get_kind_display()} ({request.get_regime_display()}), "
                f"due {request.due_at:%Y-%m-%d}: {status}"
            )
        DataSubjectRequest.objects.filter(pk__in=[r.pk for r in due]).update(reminded_on=today)
        audit_record(
            actor=SYSTEM,
            action="consent.dsr.remind",
            details={"request_ids": [request.pk for request in due]},
        )
    recipients = _officer_emails()
    if recipients:
        queue = settings.CDP_PUBLIC_URL.rstrip("/") + reverse(
            "admin:consent_datasubjectrequest_queue"
        )
        send_mail(
            subject=f"CDP: {len(due)} privacy request(s) due soon or overdue",
            message="\n".join([*lines, "", f"Queue: {queue}"]),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    return len(due)
