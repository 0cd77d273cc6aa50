"""Segments services: batch scoring written onto profiles — RFM quantile scores and segments
(compute.rfm), lifecycle stages (compute.lifecycle), custom computed traits — and the nightly
jobs that run them with progress in a JobRun row."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

import numpy as np
import pandas as pd

from cdp.core.models import JobRun
from profiles import public as profiles_public
from segments.compute import lifecycle, rfm
from segments.models import ComputedTrait, Segment

logger = logging.getLogger(__name__)

_COLUMNS = ("profile_id", "orders_count", "lifetime_value", "first_order_at", "last_order_at")
_CHUNK = 50_000


def custom_trait_specs(keys: Sequence[str] | None = None) -> list[Any]:
    """The custom computed traits (all, or those of `keys`) as profiles.public specs."""
    traits = ComputedTrait.objects.order_by("key")
    if keys is not None:
        traits = traits.filter(key__in=list(keys))
    return [
        profiles_public.CustomTraitSpec(
            key=trait.key,
            event=trait.event,
            property=trait.property,
            aggregate=trait.aggregate,
            window_days=trait.window_days,
        )
        for trait in traits
    ]


def lifecycle_thresholds() -> lifecycle.LifecycleThresholds:
    """Thresholds from settings.CDP_LIFECYCLE_THRESHOLDS (new_days, active_days, lapsed_days,
    loyal_min_orders), defaults otherwise."""
    return lifecycle.LifecycleThresholds(**getattr(settings, "CDP_LIFECYCLE_THRESHOLDS", {}))


def _frames(profile_ids: Sequence[int] | None) -> Any:
    rows = profiles_public.computed_traits_qs().filter(profile__merged_into__isnull=True)
    if profile_ids is not None:
        rows = rows.filter(profile_id__in=list(profile_ids))
    buffer: list[tuple[Any, ...]] = []
    for row in rows.order_by("profile_id").values_list(*_COLUMNS).iterator(chunk_size=10_000):
        buffer.append(row)
        if len(buffer) >= _CHUNK:
            yield _frame(buffer)
            buffer = []
    if buffer:
        yield _frame(buffer)


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(_COLUMNS))
    frame["profile_id"] = frame["profile_id"].astype("int64")
    frame["lifetime_value"] = frame["lifetime_value"].astype("float64")
    for column in ("first_order_at", "last_order_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _stages(frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    clipped = frame.assign(
        frequency=frame["orders_count"],
        first_order_at=frame["first_order_at"].where(frame["first_order_at"] <= as_of, as_of),
        last_order_at=frame["last_order_at"].where(frame["last_order_at"] <= as_of, as_of),
    )
    stages = lifecycle.lifecycle_stages(clipped, as_of=as_of, thresholds=lifecycle_thresholds())
    return pd.DataFrame({"profile_id": frame["profile_id"], "lifecycle_stage": stages})


def lifecycle_refresh(
    *, profile_ids: Sequence[int] | None = None, now: datetime | None = None
) -> int:
    """Write the lifecycle stage of `profile_ids` (None: every active profile) from their
    computed traits. Idempotent. Returns the number of profiles written."""
    as_of = pd.Timestamp(now or timezone.now())
    written = 0
    for frame in _frames(profile_ids):
        written += profiles_public.computed_scores_write(
            scores=_stages(frame, as_of), scored_at=as_of.to_pydatetime()
        )
    return written


def rfm_table(frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The rfm.RFM_COLUMNS frame of the buyers in a computed-traits frame."""
    buyers = frame.loc[frame["orders_count"] > 0]
    return pd.DataFrame(
        {
            rfm.PROFILE_ID: buyers["profile_id"].to_numpy(dtype=np.int64),
            rfm.RECENCY_DAYS: (as_of - buyers["last_order_at"]).dt.total_seconds().to_numpy()
            / rfm.SECONDS_PER_DAY,
            rfm.FREQUENCY: buyers["orders_count"].to_numpy(dtype=np.int64),
            rfm.MONETARY: buyers["lifetime_value"].to_numpy(dtype=np.float64),
        }
    )


def rfm_rescore(
    *, now: datetime | None = None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Score every active buyer R, F, M 1–5 by quantile against all buyers, name their RFM
    segment, and write scores and lifecycle stages onto the profiles (non-buyers: no scores,
    stage "prospect"). Then ask for a refresh of the ready-made RFM segments. Idempotent for
    the same data and time. Returns the number of profiles written."""
    as_of = pd.Timestamp(now or timezone.now())
    frames = list(_frames(None))
    everyone = pd.concat(frames, ignore_index=True) if frames else _frame([])
    scores = rfm.rfm_scores(rfm_table(everyone, as_of), bins=5)
    scores[rfm.RFM_SEGMENT] = rfm.rfm_segments(scores)
    merged = everyone[["profile_id"]].merge(scores, on="profile_id", how="left")
    result = pd.DataFrame(
        {
            "profile_id": merged["profile_id"],
            "r_score": merged[rfm.R_SCORE],
            "f_score": merged[rfm.F_SCORE],
            "m_score": merged[rfm.M_SCORE],
            "rfm_segment": merged[rfm.RFM_SEGMENT].fillna(""),
        }
    ).merge(_stages(everyone, as_of), on="profile_id")
    written = 0
    total = len(result)
    for start in range(0, total, _CHUNK):
        written += profiles_public.computed_scores_write(
            scores=result.iloc[start : start + _CHUNK], scored_at=as_of.to_pydatetime()
        )
        if progress is not None:
            progress(written, total)
    Segment.objects.filter(origin=Segment.Origin.RFM).update(next_refresh_at=timezone.now())
    logger.info("rfm_rescored", extra={"profiles": written})
    return written


def job_run(kind: str, work: Callable[[Callable[[int, int], None]], int]) -> JobRun:
    """Run `work(progress)` recording state and progress in a JobRun row the admin polls."""
    run = JobRun.objects.create(kind=kind, state=JobRun.State.RUNNING, started_at=timezone.now())

    def progress(done: int, total: int) -> None:
        JobRun.objects.filter(pk=run.pk).update(progress_done=done, progress_total=total)

    try:
        count = work(progress)
    except Exception as exc:
        JobRun.objects.filter(pk=run.pk).update(
            state=JobRun.State.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    JobRun.objects.filter(pk=run.pk).update(
        state=JobRun.State.SUCCEEDED, result={"profiles": count}, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def computed_traits_recompute_job() -> JobRun:
    """Nightly: every built-in computed trait of every active profile, then the custom ones."""

    def work(progress: Callable[[int, int], None]) -> int:
        count = profiles_public.computed_traits_recompute_all(progress=progress)
        specs = custom_trait_specs()
        profiles_public.custom_traits_refresh(traits=specs, drop_others=True)
        return count

    return job_run("computed_traits_recompute", work)


def rfm_rescore_job() -> JobRun:
    """Nightly, after the recompute: RFM scores and lifecycle stages of every profile."""
    return job_run("rfm_rescore", lambda progress: rfm_rescore(progress=progress))


def custom_traits_compute(*, keys: Sequence[str]) -> int:
    """Compute the custom traits `keys` for every profile (after a definition changed)."""
    specs = custom_trait_specs(keys)
    return profiles_public.custom_traits_refresh(traits=specs) if specs else 0
