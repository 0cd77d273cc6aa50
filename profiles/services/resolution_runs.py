"""Profiles services: the life of a resolution run row — its settings (thresholds, blocking
rules, guards; inherited from the last full run), queueing it (and on arrival of a processed
batch), claiming it for one worker, and the beat sweep over stale and lost runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cdp.core import jobs
from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import InvalidInputError
from profiles.compute.linkage import DEFAULT_RULES, LinkageConfig, Thresholds
from profiles.compute.resolution_guards import DEFAULT_MIN_PERSON_WEIGHT
from profiles.models import ResolutionRun
from profiles.selectors_matching import resolution_run_latest

RANDOM_STATE = 20_240_601
STALE_RUNNING = timedelta(hours=2)
STALE_QUEUED = timedelta(minutes=5)
KEEP_ARRIVAL_RUNS = timedelta(days=7)
_RULES_BY_NAME = {rule.name: rule for rule in DEFAULT_RULES}


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """What a run is asked to do (stored in ResolutionRun.parameters)."""

    config: LinkageConfig
    min_person_weight: float = DEFAULT_MIN_PERSON_WEIGHT
    random_state: int = RANDOM_STATE

    def to_dict(self) -> dict[str, Any]:
        return {
            "linkage": self.config.to_dict(),
            "min_person_weight": self.min_person_weight,
            "random_state": self.random_state,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        if not data:
            return cls(config=LinkageConfig())
        return cls(
            config=LinkageConfig.from_dict(data["linkage"]),
            min_person_weight=float(data.get("min_person_weight", DEFAULT_MIN_PERSON_WEIGHT)),
            random_state=int(data.get("random_state", RANDOM_STATE)),
        )


def run_settings_build(
    *,
    thresholds: dict[str, Any] | None = None,
    blocking_rules: Sequence[str] | None = None,
    max_block_size: int | None = None,
    min_person_weight: float | None = None,
) -> RunSettings:
    """Settings for a run from the last full run's (or the defaults), with overrides.

    Raises InvalidInputError for bad thresholds or unknown blocking rule names.
    """
    base = resolution_run_latest(modes=[ResolutionRun.Mode.FULL])
    current = RunSettings.from_dict(base.parameters if base else {})
    config = current.config
    try:
        merged = {**config.thresholds.to_dict(), **(thresholds or {})}
        new_thresholds = Thresholds.from_dict(merged)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"Bad thresholds: {exc}") from exc
    rules = config.rules
    if blocking_rules is not None:
        unknown = sorted(set(blocking_rules) - set(_RULES_BY_NAME))
        if unknown or not blocking_rules:
            raise InvalidInputError(
                f"Unknown blocking rules {unknown}; choose from {sorted(_RULES_BY_NAME)}."
            )
        rules = tuple(_RULES_BY_NAME[name] for name in blocking_rules)
    config = LinkageConfig(
        rules=rules,
        max_block_size=max_block_size or config.max_block_size,
        comparisons=config.comparisons,
        thresholds=new_thresholds,
        u_sample_pairs=config.u_sample_pairs,
        em_max_pairs=config.em_max_pairs,
        em_max_iterations=config.em_max_iterations,
        tf_minimum_u=config.tf_minimum_u,
        identity_fields=config.identity_fields,
    )
    weight = current.min_person_weight if min_person_weight is None else min_person_weight
    return RunSettings(config=config, min_person_weight=weight)


def resolution_run_request(
    *,
    mode: str,
    actor: Actor,
    settings: RunSettings | None = None,
    since: datetime | None = None,
    profile_ids: Sequence[int] = (),
    kick: bool = True,
) -> ResolutionRun:
    """Queue a run and kick it after commit (RESOLUTION_REQUESTED; `kick=False` leaves it for
    the caller to execute). Audited for users.

    Raises InvalidInputError for an unknown mode.
    """
    if mode not in ResolutionRun.Mode.values:
        raise InvalidInputError(f"Unknown mode {mode!r}; use {', '.join(ResolutionRun.Mode)}.")
    settings = settings or run_settings_build()
    with transaction.atomic():
        run = ResolutionRun.objects.create(
            mode=mode,
            since=since,
            profile_ids=sorted(set(profile_ids)),
            parameters=settings.to_dict(),
            created_by_id=actor.user_id,
        )
        if not actor.is_system:
            audit_record(
                actor=actor,
                action="profiles.resolution.start",
                target=run,
                details={"mode": mode},
            )
        if kick:
            jobs.publish_on_commit(jobs.RESOLUTION_REQUESTED, run_id=run.pk)
    return run


def resolution_arrivals_enqueue(*, profile_ids: Sequence[int]) -> int | None:
    """After a processed batch: queue matching of its profiles on arrival, once a model has
    been trained by a full run (before that, nothing to score with). Returns the run id."""
    if not profile_ids or resolution_run_latest(modes=[ResolutionRun.Mode.FULL]) is None:
        return None
    run = resolution_run_request(
        mode=ResolutionRun.Mode.ARRIVALS,
        actor=Actor(user_id=None, label="system"),
        profile_ids=profile_ids,
    )
    return run.pk


def run_claim(run_id: int) -> ResolutionRun | None:
    """Move the run from queued to running; None when another worker has it or it is done."""
    with transaction.atomic():
        run = ResolutionRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None or run.state != ResolutionRun.State.QUEUED:
            return None
        run.state, run.started_at, run.stage = ResolutionRun.State.RUNNING, timezone.now(), ""
        run.save(update_fields=["state", "started_at", "stage", "updated_at"])
    return run


def run_last_finished_start() -> datetime | None:
    latest = resolution_run_latest(modes=[ResolutionRun.Mode.FULL, ResolutionRun.Mode.INCREMENTAL])
    return None if latest is None else latest.started_at


def resolution_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: fail runs whose worker died, re-kick queued runs whose message was lost, forget
    arrival runs older than a week, and queue an incremental run when a model exists and
    none is waiting. Safe to run any time."""
    now = now or timezone.now()
    failed = ResolutionRun.objects.filter(
        state=ResolutionRun.State.RUNNING, updated_at__lt=now - STALE_RUNNING
    ).update(state=ResolutionRun.State.FAILED, error="worker lost", finished_at=now)
    stale = list(
        ResolutionRun.objects.filter(
            state=ResolutionRun.State.QUEUED, created_at__lt=now - STALE_QUEUED
        ).values_list("pk", flat=True)
    )
    for run_id in stale:
        jobs.publish_on_commit(jobs.RESOLUTION_REQUESTED, run_id=run_id)
    ResolutionRun.objects.filter(
        mode=ResolutionRun.Mode.ARRIVALS,
        state=ResolutionRun.State.SUCCEEDED,
        created_at__lt=now - KEEP_ARRIVAL_RUNS,
    ).delete()
    queued = 0
    waiting = ResolutionRun.objects.filter(
        Q(state=ResolutionRun.State.QUEUED) | Q(state=ResolutionRun.State.RUNNING),
        mode__in=[ResolutionRun.Mode.FULL, ResolutionRun.Mode.INCREMENTAL],
    ).exists()
    if not waiting and resolution_run_latest(modes=[ResolutionRun.Mode.FULL]) is not None:
        resolution_run_request(
            mode=ResolutionRun.Mode.INCREMENTAL, actor=Actor(user_id=None, label="system")
        )
        queued = 1
    return {"failed": failed, "rekicked": len(stale), "queued": queued}
