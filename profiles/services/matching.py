"""Profiles services: store what a linkage run decided — match candidates with their score
breakdown (upserted, earlier human decisions kept), merges of the auto-merge clusters through
the bulk merge path, and the blocking keys of live profiles for matching on arrival."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

import numpy as np
import pandas as pd

from cdp.core.actor import SYSTEM
from profiles.compute.linkage import BlockingRule
from profiles.compute.linkage.clustering import REASON, RECORD_ID, SURVIVOR_ID
from profiles.compute.linkage.comparisons import NAMES_SWAPPED
from profiles.compute.linkage.fellegi_sunter import MATCH_PROBABILITY, MATCH_WEIGHT
from profiles.compute.linkage.records import LEFT, RIGHT
from profiles.compute.match_keys import KEY, match_key_frame
from profiles.models import MatchCandidate, MatchKey, ProfileMerge

from .bulk_merge import BulkMergeOutcome, PlannedCluster, profiles_merge_bulk
from .bulk_sql import rows_update

MERGE_CHUNK_CLUSTERS = 2_000
MERGE_THREADS = 2
WRITE_CHUNK = 5_000
AUTO_MERGE = "auto_merge"
Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    return None


def contributions_of(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """Per scored pair: {comparison: {"level", "weight"}} and names_swapped, JSON-able."""
    names = [column[: -len("_level")] for column in scored.columns if column.endswith("_level")]
    levels = {name: scored[f"{name}_level"].astype(str).to_numpy() for name in names}
    weights = {name: scored[f"{name}_weight"].to_numpy(dtype=np.float64) for name in names}
    swapped = (
        scored[NAMES_SWAPPED].to_numpy(dtype=bool)
        if NAMES_SWAPPED in scored
        else np.zeros(len(scored), dtype=bool)
    )
    out = []
    for row in range(len(scored)):
        entry: dict[str, Any] = {
            name: {"level": str(levels[name][row]), "weight": round(float(weights[name][row]), 3)}
            for name in names
        }
        entry[NAMES_SWAPPED] = bool(swapped[row])
        out.append(entry)
    return out


EXPLAINS = "explains"


def cluster_pairs(scored: pd.DataFrame, clusters: pd.DataFrame, auto_merge: float) -> pd.DataFrame:
    """Scored pairs inside each auto-merge cluster at or above `auto_merge`, each with the
    profile whose merge it explains (`explains`: the end that is not the survivor; the right
    end when neither is)."""
    survivor_of = pd.Series(
        clusters[SURVIVOR_ID].to_numpy(), index=clusters[RECORD_ID].to_numpy(), dtype=np.int64
    )
    a = survivor_of.reindex(scored[LEFT].to_numpy()).to_numpy()
    b = survivor_of.reindex(scored[RIGHT].to_numpy()).to_numpy()
    inside = pd.notna(a) & (a == b) & (scored[MATCH_PROBABILITY].to_numpy() >= auto_merge)
    pairs = scored.loc[inside].copy()
    pairs[SURVIVOR_ID] = a[inside].astype(np.int64)
    pairs[EXPLAINS] = np.where(pairs[LEFT] == pairs[SURVIVOR_ID], pairs[RIGHT], pairs[LEFT])
    neither = (pairs[LEFT] != pairs[SURVIVOR_ID]) & (pairs[RIGHT] != pairs[SURVIVOR_ID])
    pairs.loc[neither, EXPLAINS] = pairs.loc[neither, RIGHT]
    return pairs.reset_index(drop=True)


def _best_evidence(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per absorbed profile: its pair with the survivor, else its strongest pair in the cluster."""
    direct = pairs[(pairs[LEFT] == pairs[SURVIVOR_ID]) | (pairs[RIGHT] == pairs[SURVIVOR_ID])]
    indirect = pairs[(pairs[LEFT] != pairs[SURVIVOR_ID]) & (pairs[RIGHT] != pairs[SURVIVOR_ID])]
    both_ends = pd.concat(
        [
            direct.assign(rank=0),
            indirect.assign(rank=1, **{EXPLAINS: indirect[LEFT]}),
            indirect.assign(rank=1, **{EXPLAINS: indirect[RIGHT]}),
        ],
        ignore_index=True,
    )
    ordered = both_ends.sort_values(
        [EXPLAINS, "rank", MATCH_PROBABILITY], ascending=[True, True, False]
    )
    return ordered.drop_duplicates(EXPLAINS).set_index(EXPLAINS)


def planned_clusters(
    clusters: pd.DataFrame, pairs: pd.DataFrame, *, run_id: int
) -> list[PlannedCluster]:
    """One PlannedCluster per auto-merge cluster; each merge's details name its evidence."""
    best = _best_evidence(pairs)
    contributions = dict(zip(best.index, contributions_of(best), strict=True))
    planned = []
    for survivor, members in clusters.groupby(SURVIVOR_ID, sort=True)[RECORD_ID]:
        absorbed = tuple(sorted(int(m) for m in members if int(m) != int(survivor)))
        details = {}
        for member in absorbed:
            row = best.loc[member] if member in best.index else None
            details[member] = {
                "rule": "match_score",
                "run_id": run_id,
                "probability": None if row is None else float(row[MATCH_PROBABILITY]),
                "match_weight": None if row is None else round(float(row[MATCH_WEIGHT]), 3),
                "pair": None if row is None else [int(row[LEFT]), int(row[RIGHT])],
                "contributions": contributions.get(member, {}),
            }
        planned.append(
            PlannedCluster(
                survivor_id=int(survivor),
                absorbed_ids=absorbed,
                reason=ProfileMerge.Reason.MATCH_SCORE,
                details=details,
            )
        )
    return planned


def _merge_chunk(chunk: Sequence[PlannedCluster], threaded: bool) -> BulkMergeOutcome:
    try:
        return profiles_merge_bulk(clusters=chunk, actor=SYSTEM)
    finally:
        if threaded:
            connection.close()  # each worker thread has its own connection


def clusters_merge(
    planned: Sequence[PlannedCluster], *, progress: Progress = _no_progress
) -> tuple[dict[int, int], list[int]]:
    """Merge the clusters in chunks (one transaction each); absorbed id -> merge id, and the
    survivors of clusters skipped because a member was no longer live.

    On PostgreSQL, outside a transaction, two threads merge alternate chunks: the clusters are
    disjoint, so their transactions touch disjoint rows, and while one waits for the database
    (psycopg2 releases the GIL) the other prepares its chunk.
    """
    chunks = [
        planned[start : start + MERGE_CHUNK_CLUSTERS]
        for start in range(0, len(planned), MERGE_CHUNK_CLUSTERS)
    ]
    threaded = (
        connection.vendor == "postgresql" and not connection.in_atomic_block and len(chunks) > 1
    )
    merge_ids: dict[int, int] = {}
    skipped: list[int] = []
    done = 0
    if threaded:
        with ThreadPoolExecutor(max_workers=MERGE_THREADS) as pool:
            outcomes = pool.map(lambda chunk: _merge_chunk(chunk, True), chunks)
            for chunk, outcome in zip(chunks, outcomes, strict=True):
                merge_ids.update(outcome.merge_ids)
                skipped += outcome.skipped_clusters
                done += len(chunk)
                progress(done, len(planned))
        return merge_ids, skipped
    for chunk in chunks:
        outcome = _merge_chunk(chunk, False)
        merge_ids.update(outcome.merge_ids)
        skipped += outcome.skipped_clusters
        done += len(chunk)
        progress(done, len(planned))
    return merge_ids, skipped


def _existing(pairs: pd.DataFrame) -> dict[tuple[int, int], MatchCandidate]:
    found: dict[tuple[int, int], MatchCandidate] = {}
    wanted = set(zip(pairs[LEFT].tolist(), pairs[RIGHT].tolist(), strict=True))
    lefts = sorted({left for left, _ in wanted})
    for start in range(0, len(lefts), WRITE_CHUNK):
        for row in MatchCandidate.objects.filter(left_id__in=lefts[start : start + WRITE_CHUNK]):
            key = (row.left_id, row.right_id)
            if key in wanted:
                found[key] = row
    return found


def candidates_write(
    *,
    run_id: int,
    review: pd.DataFrame,
    merged: pd.DataFrame,
    merge_ids: dict[int, int],
) -> dict[str, int]:
    """Upsert candidates: review pairs stay or become pending (a decided pair is never reopened),
    auto-merged pairs are recorded as merged with their merge. Idempotent."""
    review = review.assign(status=MatchCandidate.Status.PENDING)
    merged = merged.assign(
        status=MatchCandidate.Status.MERGED, **{REASON: AUTO_MERGE}
    ).drop_duplicates([LEFT, RIGHT])
    rows = pd.concat([merged, review], ignore_index=True).drop_duplicates([LEFT, RIGHT])
    existing = _existing(rows)
    contributions = contributions_of(rows)
    now = timezone.now()
    create, update = [], []
    for index, row in enumerate(rows.itertuples(index=False)):
        key = (int(getattr(row, LEFT)), int(getattr(row, RIGHT)))
        status = row.status
        merge_id = None
        if status == MatchCandidate.Status.MERGED:
            merge_id = merge_ids.get(int(getattr(row, EXPLAINS)))
        values = {
            "probability": float(getattr(row, MATCH_PROBABILITY)),
            "match_weight": float(getattr(row, MATCH_WEIGHT, 0.0) or 0.0),
            "contributions": contributions[index],
            "reason": str(getattr(row, REASON)),
        }
        current = existing.get(key)
        if current is None:
            create.append(_new_candidate(key, status, values, run_id, merge_id, now))
        elif current.status == MatchCandidate.Status.PENDING and _changed(current, status, values):
            _apply(current, status, values, run_id, merge_id, now)
            update.append(current)
    MatchCandidate.objects.bulk_create(create, batch_size=WRITE_CHUNK, ignore_conflicts=True)
    rows_update(
        MatchCandidate,
        update,
        [
            "probability",
            "match_weight",
            "contributions",
            "reason",
            "status",
            "run",
            "merge",
            "decided_at",
            "decided_by_label",
            "updated_at",
        ],
    )
    return {"candidates_created": len(create), "candidates_updated": len(update)}


def _new_candidate(
    key: tuple[int, int],
    status: str,
    values: dict[str, Any],
    run_id: int,
    merge_id: int | None,
    now: Any,
) -> MatchCandidate:
    merged = status == MatchCandidate.Status.MERGED
    return MatchCandidate(
        left_id=key[0],
        right_id=key[1],
        status=status,
        run_id=run_id,
        merge_id=merge_id,
        decided_at=now if merged else None,
        decided_by_label="system" if merged else "",
        **values,
    )


def _changed(current: MatchCandidate, status: str, values: dict[str, Any]) -> bool:
    return status != current.status or any(
        getattr(current, name) != value for name, value in values.items()
    )


def _apply(
    current: MatchCandidate,
    status: str,
    values: dict[str, Any],
    run_id: int,
    merge_id: int | None,
    now: Any,
) -> None:
    for name, value in values.items():
        setattr(current, name, value)
    current.run_id = run_id
    if status == MatchCandidate.Status.MERGED:
        current.status, current.merge_id = status, merge_id
        current.decided_at, current.decided_by_label = now, "system"
    current.updated_at = now


def match_keys_replace(
    *,
    records: pd.DataFrame,
    rules: Sequence[BlockingRule],
    drop_profile_ids: Sequence[int] = (),
    replace_all: bool = False,
) -> int:
    """Store the blocking keys of `records` (golden records of live profiles): a profile's keys
    are those of its golden record. With `replace_all` every stored key is replaced; else
    the keys of the records' profiles and of `drop_profile_ids` (absorbed) are. Idempotent.
    Returns the keys stored."""
    frame = (
        match_key_frame(records, rules) if len(records) else pd.DataFrame({RECORD_ID: [], KEY: []})
    )
    keys = pd.DataFrame(
        {
            "profile_id": frame[RECORD_ID].to_numpy(dtype=np.int64),
            KEY: frame[KEY].to_numpy(dtype=np.int64),
        }
    )
    touched = sorted(set(records[RECORD_ID].tolist()) | set(drop_profile_ids))
    with transaction.atomic():
        if replace_all and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {connection.ops.quote_name(MatchKey._meta.db_table)}")
        elif replace_all:
            MatchKey.objects.all().delete()
        else:
            for start in range(0, len(touched), WRITE_CHUNK):
                MatchKey.objects.filter(
                    profile_id__in=touched[start : start + WRITE_CHUNK]
                ).delete()
        _insert_keys(keys)
    return len(keys)


def _insert_keys(keys: pd.DataFrame) -> None:
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        keys[["profile_id", KEY]].to_csv(buffer, index=False, header=False)
        buffer.seek(0)
        table = connection.ops.quote_name(MatchKey._meta.db_table)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f'COPY {table} ("profile_id", "key") FROM STDIN WITH (FORMAT csv)', buffer
            )
        return
    MatchKey.objects.bulk_create(
        (MatchKey(profile_id=int(p), key=int(k)) for p, k in keys.itertuples(index=False)),
        batch_size=WRITE_CHUNK,
    )
