"""Campaigns services: the privacy handler — export a data subject's campaign data, and erase
it (unsent rows and per-person state deleted; the send log, assignments and conversions kept
as anonymous counts; audience export files rewritten without them)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.db import transaction

from campaigns.models import (
    Assignment,
    AudienceExport,
    CampaignMembership,
    Conversion,
    Recommendation,
    Send,
)
from cdp.core.privacy import ErasureReport, ExportPart, PrivacyHandler, Subject

from .exports import exports_erase

APP = "campaigns"
UNSENT = (Send.Status.QUEUED, Send.Status.SENDING)


def _emails(subject: Subject) -> set[str]:
    return {value.lower() for kind, value in subject.identifiers if kind == "email"}


def _rows(queryset: Any, *fields: str) -> list[dict[str, Any]]:
    return [
        {name: _plain(value) for name, value in row.items()} for row in queryset.values(*fields)
    ]


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _export_file_rows(subject: Subject) -> list[dict[str, Any]]:
    ids = {str(pid) for pid in subject.profile_ids}
    emails = _emails(subject)
    found = []
    for export in AudienceExport.objects.exclude(file=""):
        path = Path(export.file.path)
        if not path.exists():
            continue
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        for row in rows:
            profile_id, email = ([*row, "", ""])[:2]
            if profile_id in ids or email.lower() in emails:
                found.append({"export": export.file.name, "campaign_id": export.campaign_id})
    return found


def campaigns_export(subject: Subject) -> ExportPart:
    """Everything campaigns holds about the subject, as JSON-able tables."""
    ids = list(subject.profile_ids)
    return ExportPart(
        app=APP,
        tables={
            "assignments": _rows(
                Assignment.objects.filter(profile_id__in=ids),
                "campaign__name",
                "arm",
                "assigned_at",
            ),
            "sends": _rows(
                Send.objects.filter(profile_id__in=ids),
                "campaign__name",
                "kind",
                "arm",
                "status",
                "reason",
                "triggered_at",
                "sent_at",
            ),
            "conversions": _rows(
                Conversion.objects.filter(profile_id__in=ids),
                "campaign__name",
                "arm",
                "converted_at",
            ),
            "audience_memberships": _rows(
                CampaignMembership.objects.filter(profile_id__in=ids),
                "campaign__name",
                "is_member",
                "entry_count",
                "is_exported",
            ),
            "recommendations": _rows(
                Recommendation.objects.filter(profile_id__in=ids), "rank", "product_id", "category"
            ),
            "audience_export_files": _export_file_rows(subject),
        },
    )


@transaction.atomic
def campaigns_erase(subject: Subject) -> ErasureReport:
    """Remove the subject from campaigns. Idempotent (a second run finds nothing)."""
    ids = list(subject.profile_ids)
    unsent, _ = Send.objects.filter(profile_id__in=ids, status__in=UNSENT).delete()
    memberships, _ = CampaignMembership.objects.filter(profile_id__in=ids).delete()
    recommendations, _ = Recommendation.objects.filter(profile_id__in=ids).delete()
    sends = Send.objects.filter(profile_id__in=ids).update(
        profile_id=None, occurrence_key="erased", trigger_event_id=None, error=""
    )
    assignments = Assignment.objects.filter(profile_id__in=ids).update(profile_id=None)
    conversions = Conversion.objects.filter(profile_id__in=ids).update(
        profile_id=None, event_id=None
    )
    file_rows = exports_erase(profile_ids=ids, emails=_emails(subject))
    return ErasureReport(
        app=APP,
        deleted={
            "campaigns.send (unsent)": unsent,
            "campaigns.campaignmembership": memberships,
            "campaigns.recommendation": recommendations,
            "audience export file rows": file_rows,
        },
        anonymised={
            "campaigns.send": sends,
            "campaigns.assignment": assignments,
            "campaigns.conversion": conversions,
        },
    )


HANDLER = PrivacyHandler(app=APP, export=campaigns_export, erase=campaigns_erase, order=300)
