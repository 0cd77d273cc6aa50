"""Campaigns services: audience export files — a CSV of the consenting audience (holdout
left out) under MEDIA_ROOT, and its rewrite when a person is erased."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable
from pathlib import Path

from django.core.files.base import ContentFile
from django.utils import timezone

from campaigns.compute.assignment import HOLDOUT
from campaigns.models import AudienceExport
from campaigns.selectors.audience import audience_ids_qs
from campaigns.selectors.campaigns import campaign_get
from campaigns.selectors.people import consent_allowed, email_of, traits_of
from cdp.core.actor import SYSTEM, Actor
from cdp.core.audit import audit_record

from .assignment import assignments_ensure

logger = logging.getLogger(__name__)
COLUMNS = ("profile_id", "email", "email_sha256")
CHUNK = 5_000


def _rows(campaign_id: int) -> Iterable[list[str]]:
    campaign = campaign_get(campaign_id=campaign_id)
    ids = list(audience_ids_qs(campaign))
    now = timezone.now()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        arms = assignments_ensure(campaign=campaign, profile_ids=chunk, at=now)
        allowed = consent_allowed(chunk, purpose_key=campaign.purpose_key)
        traits = traits_of(chunk)
        for profile_id in chunk:
            if profile_id not in allowed or arms.get(profile_id) == HOLDOUT:
                continue
            email = email_of(traits.get(profile_id, {}))
            digest = hashlib.sha256(email.lower().encode()).hexdigest() if email else ""
            yield [str(profile_id), email, digest]


def audience_export_write(*, campaign_id: int, actor: Actor = SYSTEM) -> AudienceExport:
    """Write the campaign's consenting audience as CSV (profile_id, email, email_sha256) and
    record it. Consent is checked per person now; the holdout is never exported."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    count = 0
    for row in _rows(campaign_id):
        writer.writerow(row)
        count += 1
    export = AudienceExport(campaign_id=campaign_id, rows=count)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    export.file.save(
        f"campaign-{campaign_id}-{stamp}.csv", ContentFile(buffer.getvalue().encode()), save=False
    )
    export.save()
    audit_record(
        actor=actor,
        action="campaigns.audience.export",
        target=export,
        details={"campaign_id": campaign_id, "rows": count},
    )
    return export


def exports_erase(*, profile_ids: Iterable[int], emails: Iterable[str]) -> int:
    """Rewrite every export file without the rows of these people (by profile id or email).
    Returns the number of rows removed. Idempotent."""
    ids = {str(pid) for pid in profile_ids}
    addresses = {email.lower() for email in emails if email}
    removed = 0
    for export in AudienceExport.objects.exclude(file=""):
        path = Path(export.file.path)
        if not path.exists():
            continue
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        kept = [rows[0]] + [
            row for row in rows[1:] if row[0] not in ids and row[1].lower() not in addresses
        ]
        gone = len(rows) - len(kept)
        if gone:
            with path.open("w", newline="") as handle:
                csv.writer(handle).writerows(kept)
            AudienceExport.objects.filter(pk=export.pk).update(rows=len(kept) - 1)
            removed += gone
    return removed
