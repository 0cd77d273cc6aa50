"""Compute layer: privacy and feedback guards around the linkage decisions (pure numpy/pandas).

The linkage engine decides merges from scores, jurisdictions and identity conflicts. The
profiles app adds three guards that need data the engine does not model:

- consent: two records conflict when one granted a purpose the other withdrew (unknown on
  either side is no conflict, so partly known consent does not block true duplicates);
- unverified identifiers: a pair that shares an email, phone or loyalty id that is not
  verified on both records, while the fields describing the person (names, birth date,
  address) do not support the match, could hand one person's data to whoever typed their
  address: it is reviewed, never merged automatically;
- earlier decisions: a pair a reviewer rejected (or a merge that was undone) is never
  merged again; a cluster that would join such a pair is sent to review.

`guard_decisions` applies them by capping guarded pairs below the auto-merge threshold before
the engine's `decide_links` (so clusters form without them), then demotes clusters whose
members hold conflicting consent, and relabels review reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdp.core.frames import require_columns

from .linkage import LinkageDecisions, Thresholds, decide_links
from .linkage.clustering import CLUSTER_ID, REASON, RECORD_ID, SURVIVOR_ID
from .linkage.fellegi_sunter import MATCH_PROBABILITY
from .linkage.records import LEFT, RIGHT, positions_of

CONSENT_CONFLICT = "consent_conflict"
UNVERIFIED_IDENTIFIER = "unverified_identifier"
PREVIOUSLY_REJECTED = "previously_rejected"
GUARD_REASONS = (CONSENT_CONFLICT, UNVERIFIED_IDENTIFIER, PREVIOUSLY_REJECTED)

IDENTIFIER_COMPARISONS = ("email", "phone", "loyalty_id")
PERSON_COMPARISONS = ("first_name", "last_name", "birth_date", "address")
DEFAULT_MIN_PERSON_WEIGHT = 4.0  # bits: the person fields must favour the match 16 to 1

UNKNOWN, WITHDRAWN, GRANTED = -1, 0, 1
_BELOW = 1e-9


@dataclass(frozen=True, kw_only=True, eq=False)
class RecordGuards:
    """Per record (aligned with `record_ids`): consent state per purpose (int8, GRANTED /
    WITHDRAWN / UNKNOWN) and which of its identifiers are verified (bool per comparison in
    IDENTIFIER_COMPARISONS order)."""

    record_ids: np.ndarray
    consent: np.ndarray  # records x purposes
    verified: np.ndarray  # records x len(IDENTIFIER_COMPARISONS)

    def __post_init__(self) -> None:
        size = self.record_ids.size
        if self.consent.shape[0] != size or self.verified.shape != (
            size,
            len(IDENTIFIER_COMPARISONS),
        ):
            raise ValueError("guard arrays must have one row per record")


def consent_conflicts(consent: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per position pair: some purpose is granted on one side and withdrawn on the other."""
    if consent.shape[1] == 0 or left.size == 0:
        return np.zeros(left.size, dtype=bool)
    a, b = consent[left], consent[right]
    return (((a == GRANTED) & (b == WITHDRAWN)) | ((a == WITHDRAWN) & (b == GRANTED))).any(axis=1)


def mixed_consent(labels: np.ndarray, consent: np.ndarray) -> np.ndarray:
    """Per label (0..max): some purpose is granted by one member and withdrawn by another."""
    n_labels = int(labels.max(initial=-1)) + 1
    mixed = np.zeros(n_labels, dtype=bool)
    for column in consent.T:
        granted = np.bincount(labels[column == GRANTED], minlength=n_labels) > 0
        withdrawn = np.bincount(labels[column == WITHDRAWN], minlength=n_labels) > 0
        mixed |= granted & withdrawn
    return mixed


def _weights(scored: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    total = np.zeros(len(scored), dtype=np.float64)
    for name in names:
        column = f"{name}_weight"
        if column in scored.columns:
            total += scored[column].to_numpy(dtype=np.float64)
    return total


def unverified_reliance(
    scored: pd.DataFrame,
    verified: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    *,
    min_person_weight: float,
) -> np.ndarray:
    """Pairs that agree exactly on an identifier not verified on both records while the person
    fields weigh less than `min_person_weight` bits in favour of the match."""
    shared_unverified = np.zeros(len(scored), dtype=bool)
    for index, name in enumerate(IDENTIFIER_COMPARISONS):
        column = f"{name}_level"
        if column not in scored.columns:
            continue
        exact = (scored[column] == "exact").to_numpy()
        both_verified = verified[left, index] & verified[right, index]
        shared_unverified |= exact & ~both_verified
    return shared_unverified & (_weights(scored, PERSON_COMPARISONS) < min_person_weight)


def pair_guard_reasons(
    scored: pd.DataFrame,
    guards: RecordGuards,
    *,
    rejected_pairs: pd.DataFrame | None = None,
    min_person_weight: float = DEFAULT_MIN_PERSON_WEIGHT,
) -> np.ndarray:
    """A guard reason per scored pair ("" when none). `rejected_pairs` has left/right ids."""
    require_columns(scored, {LEFT, RIGHT, MATCH_PROBABILITY})
    left = positions_of(guards.record_ids, scored[LEFT].to_numpy())
    right = positions_of(guards.record_ids, scored[RIGHT].to_numpy())
    reasons = np.full(len(scored), "", dtype=object)
    reasons[
        unverified_reliance(
            scored, guards.verified, left, right, min_person_weight=min_person_weight
        )
    ] = UNVERIFIED_IDENTIFIER
    reasons[consent_conflicts(guards.consent, left, right)] = CONSENT_CONFLICT
    if rejected_pairs is not None and len(rejected_pairs):
        keys = pd.MultiIndex.from_arrays([scored[LEFT].to_numpy(), scored[RIGHT].to_numpy()])
        known = pd.MultiIndex.from_arrays(
            [rejected_pairs[LEFT].to_numpy(), rejected_pairs[RIGHT].to_numpy()]
        )
        reasons[keys.isin(known)] = PREVIOUSLY_REJECTED
    return reasons


def _capped(scored: pd.DataFrame, reasons: np.ndarray, thresholds: Thresholds) -> pd.DataFrame:
    probability = scored[MATCH_PROBABILITY].to_numpy(dtype=np.float64).copy()
    capped = (reasons == CONSENT_CONFLICT) | (reasons == UNVERIFIED_IDENTIFIER)
    probability[capped] = np.minimum(probability[capped], thresholds.auto_merge - _BELOW)
    probability[reasons == PREVIOUSLY_REJECTED] = 0.0
    adjusted = scored.copy()
    adjusted[MATCH_PROBABILITY] = probability
    return adjusted


def _demote_mixed_clusters(
    decisions: LinkageDecisions, scored: pd.DataFrame, guards: RecordGuards, review_floor: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    clusters = decisions.clusters
    if clusters.empty or guards.consent.shape[1] == 0:
        return clusters, pd.DataFrame(columns=[LEFT, RIGHT])
    positions = positions_of(guards.record_ids, clusters[RECORD_ID].to_numpy())
    labels = clusters[CLUSTER_ID].to_numpy(dtype=np.int64)
    mixed = mixed_consent(labels, guards.consent[positions])
    demoted = mixed[labels]
    cluster_of = pd.Series(labels[demoted], index=clusters[RECORD_ID].to_numpy()[demoted])
    a = cluster_of.reindex(scored[LEFT].to_numpy()).to_numpy()
    b = cluster_of.reindex(scored[RIGHT].to_numpy()).to_numpy()
    inside = pd.notna(a) & (a == b)
    inside &= scored[MATCH_PROBABILITY].to_numpy() >= review_floor
    pairs = scored.loc[inside, [LEFT, RIGHT]]
    return clusters.loc[~demoted].reset_index(drop=True), pairs


def guard_decisions(
    scored: pd.DataFrame,
    records: pd.DataFrame,
    guards: RecordGuards,
    thresholds: Thresholds,
    *,
    rejected_pairs: pd.DataFrame | None = None,
    min_person_weight: float = DEFAULT_MIN_PERSON_WEIGHT,
    identity_fields: Sequence[str] = ("first_name", "birth_date"),
) -> LinkageDecisions:
    """The engine's decisions with the guards applied (see module doc).

    Review pairs keep their original probability; their reason is the guard's where one
    applies. Counts gain `review_<guard>` entries and `consent_demoted_clusters`.
    """
    reasons = pair_guard_reasons(
        scored, guards, rejected_pairs=rejected_pairs, min_person_weight=min_person_weight
    )
    decisions = decide_links(
        _capped(scored, reasons, thresholds),
        records,
        thresholds,
        identity_fields=identity_fields,
    )
    clusters, demoted_pairs = _demote_mixed_clusters(decisions, scored, guards, thresholds.review)
    reason_of = pd.Series(reasons, index=pd.MultiIndex.from_frame(scored[[LEFT, RIGHT]]))
    probability_of = pd.Series(
        scored[MATCH_PROBABILITY].to_numpy(), index=reason_of.index, dtype=np.float64
    )
    review = decisions.review_pairs[[LEFT, RIGHT, REASON]].astype({REASON: object})
    extra = demoted_pairs.assign(**{REASON: CONSENT_CONFLICT})
    review = pd.concat([review, extra], ignore_index=True).drop_duplicates([LEFT, RIGHT])
    keys = pd.MultiIndex.from_frame(review[[LEFT, RIGHT]])
    guard = reason_of.reindex(keys).fillna("").to_numpy()
    review[REASON] = np.where(guard != "", guard, review[REASON].to_numpy())
    review = review[review[REASON] != PREVIOUSLY_REJECTED]
    keys = pd.MultiIndex.from_frame(review[[LEFT, RIGHT]])
    review.insert(2, MATCH_PROBABILITY, probability_of.reindex(keys).to_numpy())
    review = review.sort_values([LEFT, RIGHT], ignore_index=True)
    counts = {
        key: value
        for key, value in decisions.counts.items()
        if not key.startswith("review_") or key.startswith("review_pairs")
    }
    counts["clusters"] = int(clusters[SURVIVOR_ID].nunique()) if len(clusters) else 0
    counts["merged_records"] = len(clusters) - counts["clusters"]
    counts["review_pairs"] = len(review)
    counts["consent_demoted_clusters"] = int(
        decisions.clusters[SURVIVOR_ID].nunique() - counts["clusters"]
    )
    for reason in GUARD_REASONS:
        counts[f"guard_{reason}"] = int(np.count_nonzero(reasons == reason))
    for reason, number in review[REASON].value_counts().items():
        counts[f"review_{reason}"] = int(number)
    return LinkageDecisions(clusters=clusters, review_pairs=review, counts=counts)
