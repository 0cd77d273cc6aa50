"""Segments services (ML): clusters and score bands as ready-made static segments — created on
first use, their members rewritten (with history, in SQL) whenever assignments or scores change,
so rule trees ("member of segment …") and campaign audiences use them like any other segment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from profiles import public as profiles_public
from segments.models import (
    Cluster,
    ClusterAssignment,
    ProfileScore,
    ScoreSegment,
    Segment,
    SegmentMembership,
    SegmentSizePoint,
)
from segments.selectors.membership import segments_lock
from segments.services.membership import MembershipDiff, membership_apply, membership_publish

# Segments whose members a model writes: their own origin once the segments app has one (it
# would skip them in refreshes as it skips uploads); until then "upload", which the refresh
# sweeper already leaves alone (a rule-tree snapshot would overwrite the members).
ML_ORIGIN = getattr(Segment.Origin, "MODEL", Segment.Origin.UPLOAD)
ML_CAUSE = SegmentMembership.Cause.REFRESH


def _free_name(base: str, *, exclude_id: int | None = None) -> str:
    name = base[:190]
    taken = Segment.objects.exclude(pk=exclude_id) if exclude_id else Segment.objects.all()
    candidate, number = name, 2
    while taken.filter(name=candidate).exists():
        candidate = f"{name} ({number})"
        number += 1
    return candidate


def ml_segment_create(*, name: str, description: str) -> Segment:
    """A new static segment for a model to fill (name made unique with a number suffix)."""
    return Segment.objects.create(
        name=_free_name(name),
        description=description,
        kind=Segment.Kind.STATIC,
        origin=ML_ORIGIN,
        rule_tree={},
        refreshed_version=1,
        definition_version=1,
        next_refresh_at=None,
    )


def ml_segment_rename(*, segment_id: int, name: str) -> None:
    """Give a model's segment a new (unique) name."""
    Segment.objects.filter(pk=segment_id).update(name=_free_name(name, exclude_id=segment_id))


def _record_size(segment: Segment, diff: MembershipDiff, now: datetime) -> None:
    segment.size = SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).count()
    SegmentSizePoint.objects.create(
        segment=segment,
        measured_at=now,
        size=segment.size,
        entered=len(diff.entered_ids),
        exited=len(diff.exited_ids),
    )
    segment.last_refreshed_at = now
    segment.refresh_error = ""
    segment.save(update_fields=["size", "last_refreshed_at", "refresh_error", "updated_at"])


def ml_segment_fill(
    *,
    segment_id: int,
    candidates: QuerySet[Any],
    now: datetime,
    scope: Sequence[int] | None = None,
) -> MembershipDiff:
    """Make the members of a model's segment (among `scope`, or all) equal to `candidates` (a
    profiles QuerySet): two set-based statements, a size point, SEGMENT_MEMBERSHIP_CHANGED
    after commit. Must run inside the caller's transaction. Idempotent."""
    segment = segments_lock(segment_id=segment_id, skip_locked=False)
    if segment is None:
        return MembershipDiff(entered_ids=[], exited_ids=[])
    if scope is not None:
        candidates = candidates.filter(pk__in=list(scope))
    diff = membership_apply(
        segment=segment, candidates=candidates, cause=ML_CAUSE, now=now, scope=scope
    )
    if diff.changed or scope is None:
        _record_size(segment, diff, now)
        membership_publish(segment_id=segment.pk, diff=diff)
    return diff


def cluster_candidates(cluster_id: int) -> QuerySet[Any]:
    """Active profiles assigned to the cluster (a profiles QuerySet, for membership_apply)."""
    assigned = ClusterAssignment.objects.filter(cluster_id=cluster_id).values("profile_id")
    return profiles_public.profiles_qs().filter(pk__in=assigned)


def clusters_materialise(
    *, run_id: int, now: datetime, scope: Sequence[int] | None = None
) -> dict[int, MembershipDiff]:
    """Fill the segment of every cluster of a run (creating missing ones, noise excluded).
    Returns the membership change per cluster id."""
    diffs: dict[int, MembershipDiff] = {}
    clusters = Cluster.objects.filter(run_id=run_id, index__gte=0).select_related("run__definition")
    for cluster in clusters.order_by("index"):
        if cluster.segment_id is None:
            definition = cluster.run.definition
            segment = ml_segment_create(
                name=f"{definition.name if definition else 'Clusters'}: {cluster.name}",
                description=f"Cluster {cluster.index} of clustering '{definition}'.",
            )
            cluster.segment = segment
            cluster.save(update_fields=["segment"])
        diffs[cluster.pk] = ml_segment_fill(
            segment_id=cluster.segment_id,
            candidates=cluster_candidates(cluster.pk),
            now=now,
            scope=scope,
        )
    return diffs


def segment_empty(*, segment_id: int, now: datetime) -> MembershipDiff:
    """Every member leaves (a cluster that a retrain retired)."""
    return ml_segment_fill(
        segment_id=segment_id, candidates=profiles_public.profiles_qs().none(), now=now
    )


def score_candidates(score_segment: ScoreSegment) -> QuerySet[Any]:
    """Active profiles whose latest score of the model is in the band."""
    scores = ProfileScore.objects.filter(model_id=score_segment.model_id)
    if score_segment.top_deciles is not None:
        scores = scores.filter(decile__lte=score_segment.top_deciles)
    if score_segment.min_score is not None:
        scores = scores.filter(score__gte=score_segment.min_score)
    return profiles_public.profiles_qs().filter(pk__in=scores.values("profile_id"))


def score_segments_materialise(*, model_id: int, now: datetime) -> dict[int, MembershipDiff]:
    """Fill every segment made from the model's scores. Returns the change per segment id."""
    return {
        band.segment_id: ml_segment_fill(
            segment_id=band.segment_id, candidates=score_candidates(band), now=now
        )
        for band in ScoreSegment.objects.filter(model_id=model_id).order_by("pk")
    }
