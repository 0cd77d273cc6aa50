"""Segments services: apply a segment's candidate set to its membership in SQL — one UPDATE for
the exits and one INSERT … SELECT for the entries, each RETURNING the profile ids — and announce
the change after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from cdp.core import jobs
from profiles import public as profiles_public
from segments.models import Segment, SegmentMembership

PUBLISH_CHUNK = 5_000  # ids per SEGMENT_MEMBERSHIP_CHANGED message


@dataclass(frozen=True, kw_only=True)
class MembershipDiff:
    entered_ids: list[int]
    exited_ids: list[int]

    @property
    def changed(self) -> bool:
        return bool(self.entered_ids or self.exited_ids)


def _current(segment_id: int, scope: Sequence[int] | None) -> QuerySet[SegmentMembership]:
    rows = SegmentMembership.objects.filter(segment_id=segment_id, exited_at__isnull=True)
    if scope is not None:
        rows = rows.filter(profile_id__in=list(scope))
    return rows


def _returning_ids(sql: str, params: Sequence[Any]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall())


def membership_apply(
    *,
    segment: Segment,
    candidates: QuerySet[Any],
    cause: str,
    now: datetime,
    scope: Sequence[int] | None = None,
) -> MembershipDiff:
    """Make the current members of `segment` (among `scope` profile ids, or all) equal to
    `candidates` (a profiles QuerySet): members not among them exit (exited_at = now), new ones
    enter with a new history row. Two set-based statements whatever the sizes; must run in the
    caller's transaction with the segment row locked. Idempotent: a second call changes nothing.
    """
    table = SegmentMembership._meta.db_table
    leaving = (
        _current(segment.pk, scope)
        .exclude(Exists(candidates.filter(pk=OuterRef("profile_id"))))
        .values("pk")
    )
    leaving_sql, leaving_params = leaving.query.sql_with_params()
    exited = _returning_ids(
        f"UPDATE {table} SET exited_at = %s, exited_by = %s "  # noqa: S608 (ORM-built SQL)
        f"WHERE id IN ({leaving_sql}) RETURNING profile_id",
        [now, cause, *leaving_params],
    )
    arriving = candidates.exclude(
        Exists(_current(segment.pk, scope).filter(profile_id=OuterRef("pk")))
    ).values("pk")
    arriving_sql, arriving_params = arriving.query.sql_with_params()
    entered = _returning_ids(
        f"INSERT INTO {table} (segment_id, entered_at, entered_by, exited_by, profile_id) "  # noqa: S608
        f"SELECT %s, %s, %s, %s, c.* FROM ({arriving_sql}) c RETURNING profile_id",
        [segment.pk, now, cause, "", *arriving_params],
    )
    return MembershipDiff(entered_ids=entered, exited_ids=exited)


def membership_publish(*, segment_id: int, diff: MembershipDiff) -> None:
    """Announce entries and exits on SEGMENT_MEMBERSHIP_CHANGED after commit, in messages of
    at most PUBLISH_CHUNK ids of each kind (a first refresh of a large segment is many)."""
    entered, exited = diff.entered_ids, diff.exited_ids
    for start in range(0, max(len(entered), len(exited)), PUBLISH_CHUNK):
        jobs.publish_on_commit(
            jobs.SEGMENT_MEMBERSHIP_CHANGED,
            segment_id=segment_id,
            entered_ids=entered[start : start + PUBLISH_CHUNK],
            exited_ids=exited[start : start + PUBLISH_CHUNK],
        )


def membership_replace_with_ids(
    *, segment: Segment, profile_ids: Sequence[int], cause: str, now: datetime
) -> MembershipDiff:
    """Make the members of a static segment exactly the active profiles among `profile_ids`
    (an uploaded list), with history. Same statements as membership_apply."""
    candidates = profiles_public.profiles_qs().filter(pk__in=list(profile_ids))
    return membership_apply(segment=segment, candidates=candidates, cause=cause, now=now)
