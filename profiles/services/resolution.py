"""Profiles services: the identity-resolution job — over all live profiles (train the model,
block, score, decide, merge), over those touched since the last run, or over the profiles one
processed batch touched (matched on arrival through the stored blocking keys). The
ResolutionRun row is the job: state, progress, parameters, model, counts, timings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

import numpy as np
import pandas as pd

from cdp.core.actor import Actor
from cdp.core.errors import NotFoundError
from profiles.compute.linkage import (
    ModelParams,
    candidate_pairs_against,
    link,
    score_pairs,
)
from profiles.compute.linkage.clustering import REASON, RECORD_ID, SURVIVOR_ID
from profiles.compute.linkage.fellegi_sunter import MATCH_PROBABILITY
from profiles.compute.linkage.records import LEFT, RIGHT
from profiles.compute.match_keys import KEY, match_key_frame
from profiles.compute.resolution_guards import guard_decisions
from profiles.models import ResolutionRun
from profiles.selectors_matching import (
    linkage_records,
    profiles_sample_ids,
    profiles_sharing_keys,
    profiles_touched_since,
    record_guards,
    rejected_pairs,
    resolution_run_latest,
)

from .matching import (
    candidates_write,
    cluster_pairs,
    clusters_merge,
    match_keys_replace,
    planned_clusters,
)
from .resolution_runs import (
    RunSettings,
    resolution_run_request,
    run_claim,
    run_last_finished_start,
)

logger = logging.getLogger(__name__)

BACKGROUND_RECORDS = 20_000  # profiles sampled for term frequencies when scoring a few
BACKGROUND_SECONDS = 600.0
_background_cache: dict[str, tuple[float, pd.DataFrame]] = {}
Listener = Callable[[str, int, int], None]


class _Recorder:
    """Progress and timings written to the run row as the job goes (visible to the UI)."""

    def __init__(self, run: ResolutionRun, listener: Listener | None = None) -> None:
        self.run = run
        self.listener = listener
        self.mark = time.perf_counter()
        self.started = self.mark

    def stage(self, name: str, done: int | None = None, total: int | None = None) -> None:
        now = time.perf_counter()
        self.run.timings[name] = round(self.run.timings.get(name, 0.0) + now - self.mark, 3)
        self.mark = now
        fields = {"stage": name, "timings": self.run.timings, "updated_at": timezone.now()}
        if done is not None:
            fields["progress_done"] = done
        if total is not None:
            fields["progress_total"] = total
        ResolutionRun.objects.filter(pk=self.run.pk).update(**fields)
        if self.listener is not None:
            self.listener(name, done or 0, total or 0)

    def total_seconds(self) -> float:
        return round(time.perf_counter() - self.started, 3)


def resolution_run_execute(*, run_id: int, listener: Listener | None = None) -> str:
    """Run a queued resolution job to the end. Idempotent: a run not queued is skipped
    ("skipped"); a failure is recorded on the row ("failed") and not raised.

    Raises NotFoundError for an unknown run id.
    """
    if not ResolutionRun.objects.filter(pk=run_id).exists():
        raise NotFoundError(f"No resolution run with id {run_id}.")
    run = run_claim(run_id)
    if run is None:
        return "skipped"
    recorder = _Recorder(run, listener)
    try:
        counts = _execute(run, recorder)
    except Exception as exc:  # recorded on the row; the task does not retry bad data
        logger.exception("resolution_run_failed", extra={"run_id": run.pk})
        ResolutionRun.objects.filter(pk=run.pk).update(
            state=ResolutionRun.State.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            timings=run.timings,
        )
        return ResolutionRun.State.FAILED
    run.timings["total"] = recorder.total_seconds()
    ResolutionRun.objects.filter(pk=run.pk).update(
        state=ResolutionRun.State.SUCCEEDED,
        stage="done",
        counts=counts,
        model_params=run.model_params,
        blocking_stats=run.blocking_stats,
        timings=run.timings,
        finished_at=timezone.now(),
        progress_done=run.progress_total or 1,
        progress_total=run.progress_total or 1,
    )
    return ResolutionRun.State.SUCCEEDED


def _execute(run: ResolutionRun, recorder: _Recorder) -> dict[str, Any]:
    settings = RunSettings.from_dict(run.parameters)
    if run.mode == ResolutionRun.Mode.FULL:
        return _full(run, settings, recorder)
    trained = resolution_run_latest(modes=[ResolutionRun.Mode.FULL])
    if trained is None or not trained.model_params:
        return {"skipped": "no trained model yet: run a full resolution first"}
    params = ModelParams.from_dict(trained.model_params)
    run.model_params = {"trained_by_run": trained.pk}
    if run.mode == ResolutionRun.Mode.INCREMENTAL:
        return _incremental(run, settings, params, recorder)
    return _arrivals(run, settings, params, recorder)


def _full(run: ResolutionRun, settings: RunSettings, recorder: _Recorder) -> dict[str, Any]:
    records = linkage_records()
    recorder.stage("reading", total=len(records))
    if len(records) < 2:
        return {"records": len(records)}
    result = link(
        records,
        settings.config,
        random_state=settings.random_state,
        on_stage=lambda name: recorder.stage(name),
    )
    scored = result.scored_pairs
    reviewable = scored[MATCH_PROBABILITY].to_numpy() >= settings.config.thresholds.review
    involved = np.union1d(scored[LEFT].to_numpy()[reviewable], scored[RIGHT].to_numpy()[reviewable])
    guards = record_guards(records, whole_table=True, only=involved)
    recorder.stage("reading_guards")
    run.model_params = result.params.to_dict()
    run.blocking_stats = result.blocking_stats.to_dict(orient="records")
    decisions = guard_decisions(
        result.scored_pairs,
        records,
        guards,
        settings.config.thresholds,
        rejected_pairs=rejected_pairs(),
        min_person_weight=settings.min_person_weight,
        identity_fields=settings.config.identity_fields,
    )
    recorder.stage("guarding")
    counts = _write(run, result.scored_pairs, decisions, settings, recorder)
    counts["match_keys"] = match_keys_replace(
        records=_golden_after(records, decisions.clusters),
        rules=settings.config.rules,
        replace_all=True,
    )
    recorder.stage("storing_keys")
    counts.update(decisions.counts)
    counts["candidate_pairs"] = len(result.scored_pairs)
    return counts


def _write(
    run: ResolutionRun,
    scored: pd.DataFrame,
    decisions: Any,
    settings: RunSettings,
    recorder: _Recorder,
) -> dict[str, Any]:
    pairs = cluster_pairs(scored, decisions.clusters, settings.config.thresholds.auto_merge)
    planned = planned_clusters(decisions.clusters, pairs, run_id=run.pk)
    recorder.stage("planning", done=0, total=len(planned))
    merge_ids, skipped = clusters_merge(
        planned, progress=lambda done, total: recorder.stage("merging", done=done, total=total)
    )
    recorder.stage("merging", done=len(planned), total=len(planned))
    review = decisions.review_pairs[[LEFT, RIGHT, REASON]].merge(
        scored, on=[LEFT, RIGHT], how="left"
    )
    written = candidates_write(run_id=run.pk, review=review, merged=pairs, merge_ids=merge_ids)
    recorder.stage("writing_candidates")
    return {"merges": len(merge_ids), "skipped_clusters": len(skipped), **written}


def _score_new(
    run: ResolutionRun,
    settings: RunSettings,
    params: ModelParams,
    new: pd.DataFrame,
    existing: pd.DataFrame,
    recorder: _Recorder,
) -> dict[str, Any]:
    pairs, stats = candidate_pairs_against(
        new, existing, settings.config.rules, max_block_size=settings.config.max_block_size
    )
    run.blocking_stats = stats.to_dict(orient="records")
    recorder.stage("blocking")
    counts: dict[str, Any] = {"new_records": len(new), "candidate_pairs": len(pairs)}
    involved = set(pairs[LEFT].tolist()) | set(pairs[RIGHT].tolist())
    if pairs.empty:
        return counts
    records = pd.concat([new, existing], ignore_index=True)
    scored = score_pairs(pairs, _with_background(records), params)
    recorder.stage("scoring")
    subset = records[records[RECORD_ID].isin(involved)].reset_index(drop=True)
    decisions = guard_decisions(
        scored,
        subset,
        record_guards(subset),
        settings.config.thresholds,
        rejected_pairs=rejected_pairs(),
        min_person_weight=settings.min_person_weight,
        identity_fields=settings.config.identity_fields,
    )
    recorder.stage("guarding")
    counts.update(_write(run, scored, decisions, settings, recorder))
    counts.update(decisions.counts)
    clusters = decisions.clusters
    absorbed = clusters.loc[clusters[RECORD_ID] != clusters[SURVIVOR_ID], RECORD_ID].tolist()
    keyed = _golden_after(records[records[RECORD_ID].isin(set(new[RECORD_ID]))], clusters)
    counts["match_keys"] = match_keys_replace(
        records=keyed, rules=settings.config.rules, drop_profile_ids=absorbed
    )
    return counts


def _with_background(records: pd.DataFrame) -> pd.DataFrame:
    """`records` plus an even sample of other live profiles, so that term frequencies (how
    common a name or city is) are those of the population, not of a block of namesakes."""
    if len(records) >= BACKGROUND_RECORDS:
        return records
    background = _background_sample()
    background = background[~background[RECORD_ID].isin(set(records[RECORD_ID]))]
    return pd.concat([records, background], ignore_index=True)


def _background_sample() -> pd.DataFrame:
    """All live profiles while there are at most BACKGROUND_RECORDS; beyond, an even sample of
    that many, kept for BACKGROUND_SECONDS per process (one read per ten minutes, not per
    batch)."""
    sample = profiles_sample_ids(size=BACKGROUND_RECORDS)
    if len(sample) < BACKGROUND_RECORDS:
        return linkage_records(profile_ids=sample)
    cached = _background_cache.get("sample")
    if cached is not None and time.monotonic() - cached[0] < BACKGROUND_SECONDS:
        return cached[1]
    frame = linkage_records(profile_ids=sample)
    _background_cache["sample"] = (time.monotonic(), frame)
    return frame


def _golden_after(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """`records` as they stand after the merges: absorbed ones gone, survivors re-read."""
    members = set(clusters[RECORD_ID].tolist())
    survivors = sorted(set(clusters[SURVIVOR_ID].tolist()))
    untouched = records[~records[RECORD_ID].isin(members)]
    return pd.concat(
        [untouched, linkage_records(profile_ids=survivors)], ignore_index=True
    ).drop_duplicates(RECORD_ID)


def _incremental(
    run: ResolutionRun, settings: RunSettings, params: ModelParams, recorder: _Recorder
) -> dict[str, Any]:
    since = run.since or run_last_finished_start()
    if since is None:
        return {"skipped": "no earlier run: nothing to be incremental against"}
    touched = set(profiles_touched_since(since))
    recorder.stage("finding_touched", total=len(touched))
    if not touched:
        return {"new_records": 0}
    records = linkage_records()
    recorder.stage("reading")
    is_new = records[RECORD_ID].isin(touched).to_numpy()
    return _score_new(
        run,
        settings,
        params,
        records[is_new].reset_index(drop=True),
        records[~is_new].reset_index(drop=True),
        recorder,
    )


def _arrivals(
    run: ResolutionRun, settings: RunSettings, params: ModelParams, recorder: _Recorder
) -> dict[str, Any]:
    new = linkage_records(profile_ids=run.profile_ids)
    if new.empty:
        return {"new_records": 0}
    keys = match_key_frame(new, settings.config.rules)[KEY].tolist()
    existing_ids = profiles_sharing_keys(
        keys, exclude=new[RECORD_ID].tolist(), max_block_size=settings.config.max_block_size
    )
    existing = linkage_records(profile_ids=existing_ids)
    recorder.stage("reading", total=len(new))
    if existing.empty and len(new) < 2:
        match_keys_replace(records=new, rules=settings.config.rules)
        return {"new_records": len(new), "candidate_pairs": 0}
    return _score_new(run, settings, params, new, existing, recorder)


def resolution_run_now(
    *,
    mode: str,
    actor: Actor,
    settings: RunSettings | None = None,
    since: datetime | None = None,
    listener: Listener | None = None,
) -> ResolutionRun:
    """Queue and execute a run in this process (manage.py resolve_identities); returns it.
    `listener(stage, done, total)` hears each finished stage."""
    run = resolution_run_request(mode=mode, actor=actor, settings=settings, since=since, kick=False)
    resolution_run_execute(run_id=run.pk, listener=listener)
    run.refresh_from_db()
    return run
