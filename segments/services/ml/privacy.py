"""Segments services (ML): a data subject's cluster assignments and model scores — exported
for access requests and deleted on erasure. Stored models hold no row of any one person except
the KNN reference sample of a pipeline that uses KNN imputation (numbers only, no ids)."""

from __future__ import annotations

from cdp.core.privacy import ErasureReport, ExportPart, Subject
from segments.models import ClusterAssignment, ProfileScore

APP = "segments.ml"


def ml_export(subject: Subject) -> ExportPart:
    """Every cluster the subject's profiles are in and every score they have."""
    ids = list(subject.profile_ids)
    assignments = (
        ClusterAssignment.objects.filter(profile_id__in=ids)
        .select_related("definition", "cluster")
        .order_by("profile_id", "definition_id")
    )
    scores = (
        ProfileScore.objects.filter(profile_id__in=ids)
        .select_related("model")
        .order_by("profile_id", "model_id")
    )
    return ExportPart(
        app=APP,
        tables={
            "cluster_assignments": [
                {
                    "profile_id": row.profile_id,
                    "clustering": row.definition.name,
                    "cluster": row.cluster.name,
                    "assigned_at": row.assigned_at.isoformat(),
                }
                for row in assignments
            ],
            "model_scores": [
                {
                    "profile_id": row.profile_id,
                    "model": row.model.name,
                    "target": row.model.target,
                    "score": row.score,
                    "decile": row.decile,
                    "probability_alive": row.probability_alive,
                    "expected_purchases": row.expected_purchases,
                    "computed_at": row.computed_at.isoformat(),
                }
                for row in scores
            ],
        },
    )


def ml_erase(subject: Subject) -> ErasureReport:
    """Delete the subject's assignments and scores. Idempotent (a second run deletes 0)."""
    ids = list(subject.profile_ids)
    assignments, _ = ClusterAssignment.objects.filter(profile_id__in=ids).delete()
    scores, _ = ProfileScore.objects.filter(profile_id__in=ids).delete()
    return ErasureReport(
        app=APP,
        deleted={
            ClusterAssignment._meta.db_table: assignments,
            ProfileScore._meta.db_table: scores,
        },
    )
