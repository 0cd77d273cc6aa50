"""Profiles selectors for identity resolution: the linkage records of live profiles (chunked
reads of golden traits, never model instances), their privacy guards (consent states,
verified identifiers), earlier decisions, and the review queue with its side-by-side view."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.fields.json import KT

import numpy as np
import pandas as pd

from consent import public as consent_public
from profiles.compute.linkage import RECORD_COLUMNS
from profiles.compute.linkage.records import JURISDICTION, RECORD_ID
from profiles.compute.resolution_guards import (
    GRANTED,
    IDENTIFIER_COMPARISONS,
    UNKNOWN,
    WITHDRAWN,
    RecordGuards,
)

from .models import (
    Identifier,
    MatchCandidate,
    MatchKey,
    Profile,
    QualityReport,
    ResolutionRun,
    TrackingPlan,
    TrackingViolation,
)
from .selectors import (
    ProfileDetail,
    mask_trait,
    profile_canonical,
    profile_detail,
)

# Record column -> golden trait it is read from.
FEATURE_TRAITS = {column: column for column in RECORD_COLUMNS if column != RECORD_ID}
FEATURE_TRAITS[JURISDICTION] = "country"
RECORD_FRAME_COLUMNS = (RECORD_ID, *FEATURE_TRAITS)
READ_CHUNK = 20_000  # ids per IN (...) list: under SQLite's variable limit


def _features_qs(profiles: QuerySet[Profile]) -> QuerySet[Profile]:
    annotations = {
        f"f_{column}": KT(f"traits__{trait}") for column, trait in FEATURE_TRAITS.items()
    }
    return profiles.annotate(**annotations).values_list(
        "pk", *(f"f_{column}" for column in FEATURE_TRAITS)
    )


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(RECORD_FRAME_COLUMNS))
    frame[RECORD_ID] = frame[RECORD_ID].astype(np.int64)
    return frame


def linkage_record_frames(
    *, profile_ids: Sequence[int] | None = None, chunk_size: int = 100_000
) -> Iterator[pd.DataFrame]:
    """Live profiles as linkage records (record_id = profile id, golden traits as columns,
    jurisdiction = country), in frames of at most `chunk_size` rows, in id order."""
    live = Profile.objects.filter(merged_into__isnull=True).order_by("pk")
    if profile_ids is not None:
        ids = sorted(set(profile_ids))
        for start in range(0, len(ids), READ_CHUNK):
            rows = list(_features_qs(live.filter(pk__in=ids[start : start + READ_CHUNK])))
            if rows:
                yield _frame(rows)
        return
    rows: list[tuple[Any, ...]] = []
    for row in _features_qs(live).iterator(chunk_size=READ_CHUNK):
        rows.append(row)
        if len(rows) >= chunk_size:
            yield _frame(rows)
            rows = []
    if rows:
        yield _frame(rows)


def linkage_records(*, profile_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """All of linkage_record_frames as one frame (empty frame with the columns when none)."""
    frames = list(linkage_record_frames(profile_ids=profile_ids))
    if not frames:
        return _frame([])
    return pd.concat(frames, ignore_index=True)


def _consent_matrix(
    record_ids: np.ndarray, wanted: np.ndarray | None = None
) -> tuple[np.ndarray, list[str]]:
    parts = []
    ids = (record_ids if wanted is None else wanted).tolist()
    for start in range(0, len(ids), READ_CHUNK):
        rows = (
            consent_public.consent_history_qs(ids[start : start + READ_CHUNK])
            .order_by()
            .values_list("profile_id", "purpose__key", "is_granted", "recorded_at", "pk")
        )
        parts.append(pd.DataFrame.from_records(list(rows), columns=["p", "k", "g", "t", "pk"]))
    ledger = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if ledger.empty:
        return np.full((record_ids.size, 0), UNKNOWN, dtype=np.int8), []
    latest = ledger.sort_values(["t", "pk"]).drop_duplicates(["p", "k"], keep="last")
    purposes = sorted(latest["k"].unique())
    matrix = np.full((record_ids.size, len(purposes)), UNKNOWN, dtype=np.int8)
    rows = pd.Index(record_ids).get_indexer(latest["p"].to_numpy())
    columns = pd.Index(purposes).get_indexer(latest["k"].to_numpy())
    matrix[rows, columns] = np.where(latest["g"].to_numpy(dtype=bool), GRANTED, WITHDRAWN)
    return matrix, purposes


def _verified(records: pd.DataFrame, whole_table: bool) -> np.ndarray:
    record_ids = records[RECORD_ID].to_numpy(dtype=np.int64)
    verified = np.zeros((record_ids.size, len(IDENTIFIER_COMPARISONS)), dtype=bool)
    rows = Identifier.objects.filter(is_verified=True, type__in=IDENTIFIER_COMPARISONS)
    if not whole_table:
        rows = rows.filter(profile_id__in=record_ids.tolist())
    found = set(rows.values_list("profile_id", "type", "value"))
    if not found:
        return verified
    for index, kind in enumerate(IDENTIFIER_COMPARISONS):
        values = records[kind].to_numpy(dtype=object)
        verified[:, index] = [
            (int(pid), kind, str(value).strip()) in found if value is not None else False
            for pid, value in zip(record_ids, values, strict=True)
        ]
    return verified


def record_guards(
    records: pd.DataFrame, *, whole_table: bool = False, only: np.ndarray | None = None
) -> RecordGuards:
    """Consent states (from consent.public's ledger, latest entry per purpose) and verified
    identifiers of the records' profiles. `whole_table` reads verified identifiers without an
    id filter (a full run); `only` limits the consent reads to those record ids (the others
    count as unknown: pass the records whose pairs the guards can change)."""
    record_ids = records[RECORD_ID].to_numpy(dtype=np.int64)
    consent, _ = _consent_matrix(record_ids, only)
    return RecordGuards(
        record_ids=record_ids, consent=consent, verified=_verified(records, whole_table)
    )


def rejected_pairs() -> pd.DataFrame:
    """Pairs a reviewer kept apart or whose merge was undone: never merged automatically."""
    rows = MatchCandidate.objects.filter(status=MatchCandidate.Status.REJECTED).values_list(
        "left_id", "right_id"
    )
    return pd.DataFrame.from_records(list(rows), columns=["left", "right"])


def profiles_touched_since(since: datetime) -> list[int]:
    """Live profiles created or changed (traits, merges) at or after `since`."""
    return list(
        Profile.objects.filter(merged_into__isnull=True)
        .filter(Q(updated_at__gte=since) | Q(created_at__gte=since))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def profiles_sample_ids(*, size: int) -> list[int]:
    """About `size` live profile ids spread evenly over the id range (an index range scan)."""
    bounds = Profile.objects.filter(merged_into__isnull=True).aggregate(
        low=Min("pk"), high=Max("pk"), total=Count("pk")
    )
    if not bounds["total"]:
        return []
    step = max(1, bounds["total"] // size)
    ids = (
        Profile.objects.filter(merged_into__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    if step == 1:
        return list(ids[:size])
    wanted = list(
        range(bounds["low"], bounds["high"] + 1, max(1, (bounds["high"] - bounds["low"]) // size))
    )
    return list(ids.filter(pk__in=wanted[: size * 2]))


def profiles_sharing_keys(
    keys: Iterable[int], *, exclude: Iterable[int], max_block_size: int
) -> list[int]:
    """Live profiles holding any of `keys`, skipping keys held by more than `max_block_size`
    profiles (as the engine skips oversized blocks)."""
    wanted = sorted(set(keys))
    excluded = set(exclude)
    found: set[int] = set()
    for start in range(0, len(wanted), READ_CHUNK):
        rows = MatchKey.objects.filter(
            key__in=wanted[start : start + READ_CHUNK], profile__merged_into__isnull=True
        ).values_list("key", "profile_id")
        frame = pd.DataFrame.from_records(list(rows), columns=["key", "profile_id"])
        if frame.empty:
            continue
        sizes = frame.groupby("key")["profile_id"].transform("size")
        found.update(frame.loc[sizes <= max_block_size, "profile_id"].tolist())
    return sorted(found - excluded)


def resolution_run_latest(*, modes: Sequence[str], succeeded: bool = True) -> ResolutionRun | None:
    runs = ResolutionRun.objects.filter(mode__in=list(modes))
    if succeeded:
        runs = runs.filter(state=ResolutionRun.State.SUCCEEDED)
    return runs.order_by("-created_at", "-pk").first()


def resolution_runs_qs() -> QuerySet[ResolutionRun]:
    return ResolutionRun.objects.order_by("-created_at", "-pk")


def review_queue_qs(*, status: str = MatchCandidate.Status.PENDING) -> QuerySet[MatchCandidate]:
    """Candidates in one status, most probable first, with both profiles' golden traits."""
    return (
        MatchCandidate.objects.filter(status=status)
        .select_related("left", "right")
        .only(
            "pk",
            "probability",
            "status",
            "reason",
            "created_at",
            "decided_at",
            "decided_by_label",
            "left__id",
            "left__traits",
            "left__merged_into_id",
            "right__id",
            "right__traits",
            "right__merged_into_id",
        )
        .order_by("-probability", "pk")
    )


def profile_label(traits: dict[str, Any], *, can_view_pii: bool) -> str:
    """Name (and email) of a profile for lists, masked for roles without PII access."""
    name = " ".join(str(traits[part]) for part in ("first_name", "last_name") if traits.get(part))
    email = str(traits.get("email") or "")
    if not can_view_pii:
        name, email = str(mask_trait("first_name", name)), str(mask_trait("email", email))
    return f"{name} <{email}>" if email else name


@dataclass(frozen=True, kw_only=True)
class FieldComparison:
    """One row of the side-by-side view: the values, the level and its weight in bits."""

    name: str
    left: str
    right: str
    level: str
    weight: float


@dataclass(frozen=True, kw_only=True)
class CandidateDetail:
    candidate: MatchCandidate
    left: ProfileDetail
    right: ProfileDetail
    fields: list[FieldComparison]
    total_weight: float


_FIELD_TRAITS = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "birth_date": ("birth_date",),
    "email": ("email",),
    "phone": ("phone",),
    "loyalty_id": ("loyalty_id",),
    "address": ("street", "postal_code", "city"),
}


def _shown(traits: dict[str, Any], names: Sequence[str], can_view_pii: bool) -> str:
    values = [traits.get(name) for name in names]
    if not can_view_pii:
        values = [mask_trait(name, value) for name, value in zip(names, values, strict=True)]
    return ", ".join(str(value) for value in values if value not in (None, ""))


def candidate_detail(*, candidate_id: int, can_view_pii: bool) -> CandidateDetail | None:
    """A candidate pair side by side: both profiles (masked unless allowed) and the
    field-by-field comparison with each field's contribution to the score."""
    candidate = (
        MatchCandidate.objects.select_related("left", "right", "merge")
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        return None
    # A side merged since the pair was scored is shown as the profile that holds it now.
    left_now, right_now = profile_canonical(candidate.left), profile_canonical(candidate.right)
    left = profile_detail(profile_id=left_now.pk, can_view_pii=can_view_pii)
    right = profile_detail(profile_id=right_now.pk, can_view_pii=can_view_pii)
    if left is None or right is None:
        return None
    fields = []
    for name, part in (candidate.contributions or {}).items():
        if not isinstance(part, dict):
            continue
        traits = _FIELD_TRAITS.get(name, (name,))
        fields.append(
            FieldComparison(
                name=name,
                left=_shown(left_now.traits, traits, can_view_pii),
                right=_shown(right_now.traits, traits, can_view_pii),
                level=str(part.get("level", "")),
                weight=float(part.get("weight", 0.0)),
            )
        )
    return CandidateDetail(
        candidate=candidate,
        left=left,
        right=right,
        fields=fields,
        total_weight=candidate.match_weight,
    )


def tracking_plan_get(*, source_id: int) -> TrackingPlan | None:
    return TrackingPlan.objects.filter(source_id=source_id).first()


def tracking_violations_qs(*, source_id: int | None = None) -> QuerySet[TrackingViolation]:
    """The violations inbox, most recent first (optionally of one source)."""
    rows = TrackingViolation.objects.select_related("source").order_by("-last_seen_at", "-pk")
    return rows if source_id is None else rows.filter(source_id=source_id)


def quality_report_latest(*, source_id: int) -> QualityReport | None:
    return QualityReport.objects.filter(source_id=source_id).order_by("-created_at", "-pk").first()


def quality_reports_qs(*, source_id: int) -> QuerySet[QualityReport]:
    return QualityReport.objects.filter(source_id=source_id).order_by("-created_at", "-pk")
