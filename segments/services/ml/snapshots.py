"""Segments services (ML): time-based training snapshots for churn/propensity — pure functions
(no ORM) shared by the training service and bench/ml.py.

The held-out test snapshot has its cutoff one horizon before today, so its outcome window ends
today. Training pools several earlier snapshots (monthly by default): each has features up to
its own cutoff and labels in the horizon after it, and the latest one's outcome window ends
where the test features begin — so no training label comes from the test period. Pooling adds
examples of the same customers at other moments (more data for the trees, steadier logistic
fits); cross-validation folds then mix snapshots of a person, so CV figures are a little
optimistic and the time-based test is the figure to trust.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from segments.compute import prediction as pr

TRAINING_SNAPSHOTS = 6
SNAPSHOT_STEP_DAYS = 30


def snapshot_cutoffs(
    *,
    today: datetime,
    horizon_days: int,
    snapshots: int = TRAINING_SNAPSHOTS,
    step_days: int = SNAPSHOT_STEP_DAYS,
) -> tuple[list[datetime], datetime]:
    """(training cutoffs, newest first; the test cutoff), all at `today`'s time of day."""
    test = today - timedelta(days=horizon_days)
    newest = test - timedelta(days=horizon_days)
    return [newest - timedelta(days=step_days * i) for i in range(snapshots)], test


def merge_frames(
    parts: list[pr.TrainingFrame], *, cutoff: datetime, horizon_days: int, target: str
) -> pr.TrainingFrame | None:
    """One TrainingFrame of several (snapshots or profile ranges); None when all are empty.
    `cutoff` is the newest cutoff among them (the leakage check against the test uses it)."""
    kept = [part for part in parts if len(part.labels)]
    if not kept:
        return None
    return pr.TrainingFrame(
        features=pd.concat([part.features for part in kept], ignore_index=True),
        labels=np.concatenate([part.labels for part in kept]),
        cutoff=pd.Timestamp(cutoff),
        horizon_days=horizon_days,
        target=target,
    )


def pooled_training_frame(
    orders: pd.DataFrame,
    activity: pd.DataFrame | None,
    *,
    cutoffs: list[datetime],
    horizon_days: int,
    target: str,
) -> pr.TrainingFrame | None:
    """The training snapshots at `cutoffs` (newest first) pooled into one frame."""
    parts = [
        pr.build_training_frame(
            orders, activity, cutoff=pd.Timestamp(cutoff), horizon_days=horizon_days, target=target
        )
        for cutoff in cutoffs
    ]
    return merge_frames(parts, cutoff=cutoffs[0], horizon_days=horizon_days, target=target)
