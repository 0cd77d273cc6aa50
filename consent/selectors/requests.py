"""Consent selectors: data-subject requests — one request, the queue by urgency, the chart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from consent.compute.deadlines import CHART_BUCKETS, Urgency, chart_bucket, urgency
from consent.models import DataSubjectRequest


@dataclass(frozen=True, kw_only=True)
class QueueRow:
    request: DataSubjectRequest
    urgency: Urgency | None  # None for closed requests
    identifiers: list[tuple[str, str]]  # masked


def _mask(kind: str, value: str) -> str:
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    if len(value) <= 4:
        return "****"
    return f"{value[:2]}***{value[-2:]}"


def identifiers_masked(identifiers: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """(type, masked value) pairs: enough to tell requests apart in a list, no more."""
    return [(str(pair[0]), _mask(str(pair[0]), str(pair[1]))) for pair in identifiers]


def dsr_get(*, request_id: int) -> DataSubjectRequest | None:
    return DataSubjectRequest.objects.filter(pk=request_id).select_related("handled_by").first()


def dsr_queue(
    *, now: datetime, states: Sequence[str] | None = None, kind: str | None = None
) -> list[QueueRow]:
    """Requests by urgency: open ones first by deadline (overdue at the top), then closed ones,
    newest first. Two queries at most whatever the number of rows."""
    requests = DataSubjectRequest.objects.annotate(
        is_closed=Case(
            When(state__in=DataSubjectRequest.OPEN_STATES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("is_closed", "due_at", "pk")
    if states:
        requests = requests.filter(state__in=list(states))
    if kind:
        requests = requests.filter(kind=kind)
    return [
        QueueRow(
            request=request,
            urgency=urgency(due=request.due_at, now=now) if request.is_open else None,
            identifiers=identifiers_masked(request.identifiers),
        )
        for request in requests[:500]
    ]


def dsr_list_due(*, now: datetime, within_days: int) -> QuerySet[DataSubjectRequest]:
    """Open requests due within `within_days` days or overdue, most urgent first."""
    return DataSubjectRequest.objects.filter(
        state__in=DataSubjectRequest.OPEN_STATES, due_at__lte=now + timedelta(days=within_days)
    ).order_by("due_at", "pk")


def dsr_chart_config(*, now: datetime) -> dict[str, Any]:
    """Chart.js config: open requests per deadline bucket, stacked by kind."""
    open_rows = DataSubjectRequest.objects.filter(
        state__in=DataSubjectRequest.OPEN_STATES
    ).values_list("kind", "due_at")
    counts: Counter[tuple[str, str]] = Counter(
        (kind, chart_bucket(urgency(due=due, now=now).days_left)) for kind, due in open_rows
    )
    labels = [label for label, _ in CHART_BUCKETS]
    kinds = [kind for kind, _ in DataSubjectRequest.Kind.choices]
    names = dict(DataSubjectRequest.Kind.choices)
    datasets = [
        {"label": names[kind], "data": [counts[(kind, label)] for label in labels]}
        for kind in kinds
        if any(counts[(kind, label)] for label in labels)
    ]
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "options": {
            "plugins": {"title": {"display": True, "text": "Open requests by time to deadline"}},
            "scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}},
        },
    }


def dsr_report_document(request: DataSubjectRequest) -> dict[str, Any]:
    """The proof of handling a request: kind, dates, who did what when, and the job's report
    (counts per table and keyed hashes: it identifies no one)."""
    return {
        "request_id": request.pk,
        "kind": request.kind,
        "regime": request.regime,
        "state": request.state,
        "received_at": request.received_at.isoformat(),
        "due_at": request.due_at.isoformat(),
        "extended": request.extended_at is not None,
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        "verification": request.verification_method,
        "steps": [
            {
                "at": step.at.isoformat(),
                "by": step.actor_label,
                "action": step.action,
                "details": step.details,
            }
            for step in request.steps.all()
        ],
        "report": request.report,
    }
