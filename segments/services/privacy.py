"""Segments services: a data subject's segment memberships — exported with their history, and
erased (current and past rows) when the person is erased."""

from __future__ import annotations

from cdp.core.privacy import ErasureReport, ExportPart, Subject
from segments.models import SegmentMembership

APP = "segments"


def memberships_export(subject: Subject) -> ExportPart:
    """Every stay of the subject's profiles in a segment: segment name, entered, exited."""
    rows = (
        SegmentMembership.objects.filter(profile_id__in=list(subject.profile_ids))
        .select_related("segment")
        .order_by("entered_at", "pk")
    )
    return ExportPart(
        app=APP,
        tables={
            "segment_memberships": [
                {
                    "profile_id": row.profile_id,
                    "segment": row.segment.name,
                    "entered_at": row.entered_at.isoformat(),
                    "exited_at": row.exited_at.isoformat() if row.exited_at else None,
                    "entered_by": row.entered_by,
                    "exited_by": row.exited_by,
                }
                for row in rows
            ]
        },
    )


def memberships_erase(subject: Subject) -> ErasureReport:
    """Delete every membership row (current and history) of the subject's profiles.

    Idempotent: a second run deletes nothing. Segment sizes are corrected by the next refresh.
    """
    deleted, _ = SegmentMembership.objects.filter(profile_id__in=list(subject.profile_ids)).delete()
    return ErasureReport(app=APP, deleted={"segments_segmentmembership": deleted})
