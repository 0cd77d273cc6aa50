"""Segments services (ML): write a model's scores to the profiles (one upserted ProfileScore per
profile and model, with its decile), drop scores of profiles no longer scored, and refill the
segments made from the scores."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

import numpy as np

from segments.models import ProfileScore

from .materialise import score_segments_materialise

WRITE_BATCH = 5_000
DECILES = 10


def deciles(scores: np.ndarray) -> np.ndarray:
    """Decile per score, 1 = the highest tenth (equal-sized groups, ties by position)."""
    values = np.asarray(scores, dtype=np.float64)
    n = len(values)
    order = np.argsort(-values, kind="stable")
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n) * DECILES // max(n, 1) + 1
    return out


def _optional(values: np.ndarray | None, position: int) -> float | None:
    if values is None:
        return None
    value = float(values[position])
    return value if np.isfinite(value) else None


def scores_write(
    *,
    model_id: int,
    run_id: int,
    profile_ids: np.ndarray,
    scores: np.ndarray,
    now: datetime,
    probability_alive: np.ndarray | None = None,
    expected_purchases: np.ndarray | None = None,
) -> int:
    """Upsert the scores of `profile_ids` for the model (deciles over this set), delete the
    model's scores of profiles not in it, and refill its score segments; one transaction.
    Idempotent: writing the same scores again changes nothing but computed_at. Returns rows."""
    ids = np.asarray(profile_ids, dtype=np.int64)
    values = np.asarray(scores, dtype=np.float64)
    ranks = deciles(values)
    with transaction.atomic():
        for start in range(0, len(ids), WRITE_BATCH):
            rows = [
                ProfileScore(
                    model_id=model_id,
                    profile_id=int(ids[i]),
                    run_id=run_id,
                    score=float(values[i]),
                    decile=int(ranks[i]),
                    probability_alive=_optional(probability_alive, i),
                    expected_purchases=_optional(expected_purchases, i),
                    computed_at=now,
                )
                for i in range(start, min(start + WRITE_BATCH, len(ids)))
            ]
            ProfileScore.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["model", "profile"],
                update_fields=[
                    "run",
                    "score",
                    "decile",
                    "probability_alive",
                    "expected_purchases",
                    "computed_at",
                ],
            )
        ProfileScore.objects.filter(model_id=model_id).exclude(computed_at=now).delete()
        score_segments_materialise(model_id=model_id, now=now)
    return len(ids)
