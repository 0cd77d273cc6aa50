"""Segments services: refresh a segment's membership from its rule tree (scheduled, on demand,
or the first snapshot of a static segment), the sweeper that finds segments due, and uploaded
static lists."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import DomainError, InvalidInputError, NotFoundError
from profiles import public as profiles_public
from segments.compute.cron import CronError, next_run, parse_cron
from segments.models import Segment, SegmentMembership, SegmentSizePoint
from segments.selectors.membership import segments_lock
from segments.selectors.rules import evaluation_settings, rule_tree_profiles_qs

from .membership import (
    MembershipDiff,
    membership_apply,
    membership_publish,
    membership_replace_with_ids,
)

logger = logging.getLogger(__name__)


class RefreshOutcome(enum.StrEnum):
    DONE = "done"
    SKIPPED = "skipped"  # locked by another worker, archived or deleted
    NOT_DUE = "not_due"  # a duplicate delivery: already refreshed for this version and time
    FAILED = "failed"


def _next_refresh(segment: Segment, now: datetime) -> datetime | None:
    if not segment.is_dynamic:
        return None
    try:
        return next_run(parse_cron(segment.refresh_cron), now)
    except CronError:
        return None


def _is_due(segment: Segment, now: datetime, force: bool) -> bool:
    if force or segment.refreshed_version < segment.definition_version:
        return True
    return (
        segment.is_dynamic
        and segment.next_refresh_at is not None
        and segment.next_refresh_at <= now
    )


def _record(segment: Segment, diff: MembershipDiff, now: datetime, started: float) -> None:
    segment.size = SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).count()
    SegmentSizePoint.objects.create(
        segment=segment,
        measured_at=now,
        size=segment.size,
        entered=len(diff.entered_ids),
        exited=len(diff.exited_ids),
    )
    segment.last_refreshed_at = now
    segment.next_refresh_at = _next_refresh(segment, now)
    segment.refreshed_version = segment.definition_version
    segment.last_refresh_ms = int((time.monotonic() - started) * 1000)
    segment.refresh_error = ""
    segment.save(
        update_fields=[
            "size",
            "last_refreshed_at",
            "next_refresh_at",
            "refreshed_version",
            "last_refresh_ms",
            "refresh_error",
            "updated_at",
        ]
    )


def segment_refresh(*, segment_id: int, force: bool = False) -> RefreshOutcome:
    """Recompute a segment's members from its rule tree: one INSERT … SELECT for entries, one
    UPDATE for exits, a size point, and SEGMENT_MEMBERSHIP_CHANGED after commit.

    Runs when due (its cron time came, or its definition changed) or when `force`d. Idempotent:
    a duplicate delivery finds it not due; a worker that finds the row locked skips it (the
    sweeper retries). Uploaded static lists are never recomputed. A tree that no longer compiles
    (e.g. a segment it names was deleted) is recorded in `refresh_error`, not retried.
    """
    started = time.monotonic()
    with transaction.atomic():
        segment = segments_lock(segment_id=segment_id, skip_locked=True)
        if segment is None or segment.is_archived or segment.origin == Segment.Origin.UPLOAD:
            return RefreshOutcome.SKIPPED
        now = timezone.now()
        if not _is_due(segment, now, force):
            return RefreshOutcome.NOT_DUE
        try:
            with evaluation_settings():
                candidates = rule_tree_profiles_qs(segment.rule_tree, now=now)
                cause = (
                    SegmentMembership.Cause.REFRESH
                    if segment.is_dynamic
                    else SegmentMembership.Cause.SNAPSHOT
                )
                diff = membership_apply(
                    segment=segment, candidates=candidates, cause=cause, now=now
                )
        except (KeyError, TypeError, ValueError, DomainError) as exc:
            logger.warning("segment_refresh_failed", extra={"segment_id": segment_id})
            segment.refresh_error = f"{type(exc).__name__}: {exc}"[:500]
            segment.next_refresh_at = _next_refresh(segment, now)
            segment.save(update_fields=["refresh_error", "next_refresh_at", "updated_at"])
            return RefreshOutcome.FAILED
        _record(segment, diff, now, started)
        membership_publish(segment_id=segment.pk, diff=diff)
    logger.info(
        "segment_refreshed",
        extra={
            "segment_id": segment_id,
            "entered": len(diff.entered_ids),
            "exited": len(diff.exited_ids),
        },
    )
    return RefreshOutcome.DONE


def segments_refresh_sweep(*, now: datetime | None = None) -> list[int]:
    """Ask for a refresh of every segment that is due: dynamic ones whose next_refresh_at has
    come, and any whose definition changed since its last refresh. Returns their ids.

    Safe to run any time: segment_refresh checks again under a lock."""
    now = now or timezone.now()
    due = Segment.objects.filter(is_archived=False).exclude(origin=Segment.Origin.UPLOAD)
    due = due.filter(
        Q(kind=Segment.Kind.DYNAMIC, next_refresh_at__lte=now)
        | Q(refreshed_version__lt=F("definition_version"))
    )
    ids = list(due.order_by("next_refresh_at", "pk").values_list("pk", flat=True))
    for segment_id in ids:
        jobs.publish_on_commit(jobs.SEGMENT_REFRESH_REQUESTED, segment_id=segment_id)
    return ids


@transaction.atomic
def segment_upload_members(
    *, segment_id: int, identifiers: Sequence[tuple[str, str]], actor: Actor
) -> MembershipDiff:
    """Replace the members of an uploaded static segment with the profiles owning the given
    (type, normalised value) identifiers. Unknown identifiers are ignored (counted in the audit
    row). Raises NotFoundError, or InvalidInputError for a dynamic segment. Idempotent."""
    segment = segments_lock(segment_id=segment_id, skip_locked=False)
    if segment is None:
        raise NotFoundError(f"No segment with id {segment_id}.")
    if segment.kind != Segment.Kind.STATIC or segment.origin != Segment.Origin.UPLOAD:
        raise InvalidInputError("Only an uploaded static segment takes a list of members.")
    now = timezone.now()
    found = list(profiles_public.profiles_by_identifiers(identifiers).values_list("pk", flat=True))
    diff = membership_replace_with_ids(
        segment=segment, profile_ids=found, cause=SegmentMembership.Cause.UPLOAD, now=now
    )
    _record(segment, diff, now, time.monotonic())
    audit_record(
        actor=actor,
        action="segments.segment.upload",
        target=segment,
        details={"given": len(identifiers), "matched": len(found)},
    )
    membership_publish(segment_id=segment.pk, diff=diff)
    return diff
