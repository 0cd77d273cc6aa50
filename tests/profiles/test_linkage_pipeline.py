"""The whole run on synthetic people: quality, look-alikes, determinism, incremental scoring."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from profiles.compute.linkage import (
    LinkageConfig,
    LinkageResult,
    candidate_pairs_against,
    link,
    pairwise_scores,
    score_pairs,
)
from tests.profiles.linkage_synth import SyntheticLinkage, synthetic_linkage

SEED = 5


@pytest.fixture(scope="module")
def synthetic() -> SyntheticLinkage:
    return synthetic_linkage(1_400, seed=SEED)


@pytest.fixture(scope="module")
def linked(synthetic: SyntheticLinkage) -> LinkageResult:
    return link(synthetic.records, LinkageConfig(), random_state=SEED)


def _same_cluster(result: LinkageResult, pairs: pd.DataFrame) -> np.ndarray:
    cluster_of = result.decisions.clusters.set_index("record_id")["cluster_id"]
    left = cluster_of.reindex(pairs["left"].to_numpy()).to_numpy()
    right = cluster_of.reindex(pairs["right"].to_numpy()).to_numpy()
    return pd.notna(left) & (left == right)


def test_pairwise_f1_on_about_two_thousand_synthetic_records(
    synthetic: SyntheticLinkage, linked: LinkageResult
) -> None:
    scores = pairwise_scores(linked.decisions.clusters, synthetic.truth)

    assert len(synthetic.records) == 1998
    assert scores.f1 >= 0.97
    assert scores.precision >= 0.99


def test_no_look_alike_is_merged_or_scored_as_a_match(
    synthetic: SyntheticLinkage, linked: LinkageResult
) -> None:
    lookalikes = score_pairs(synthetic.lookalike_pairs, synthetic.records, linked.params)

    assert len(synthetic.lookalike_pairs) == 42
    assert not _same_cluster(linked, synthetic.lookalike_pairs).any()
    assert lookalikes["match_probability"].max() < LinkageConfig().thresholds.auto_merge


def test_each_score_is_explained_by_its_contributions(linked: LinkageResult) -> None:
    scored = linked.scored_pairs
    contributions = scored.filter(like="_weight").drop(columns="match_weight")

    explained = contributions.sum(axis=1).to_numpy() + linked.params.prior_weight
    np.testing.assert_allclose(scored["match_weight"].to_numpy(), explained, atol=1e-4)
    assert list(contributions.columns) == [f"{s.name}_weight" for s in linked.params.specs]
    assert set(scored["birth_date_level"].cat.categories) == {
        "null",
        "exact",
        "one_component_differs",
        "year_within_1",
        "else",
    }


def test_same_random_state_gives_the_same_result(
    synthetic: SyntheticLinkage, linked: LinkageResult
) -> None:
    again = link(synthetic.records, LinkageConfig(), random_state=SEED)

    assert again.params == linked.params
    pdt.assert_frame_equal(again.scored_pairs, linked.scored_pairs)
    pdt.assert_frame_equal(again.decisions.clusters, linked.decisions.clusters)
    pdt.assert_frame_equal(again.decisions.review_pairs, linked.decisions.review_pairs)


def test_input_records_are_not_changed(synthetic: SyntheticLinkage) -> None:
    before = synthetic.records.copy()

    link(synthetic.records.head(300), LinkageConfig(u_sample_pairs=10_000), random_state=1)

    pdt.assert_frame_equal(synthetic.records, before)


def test_new_records_are_scored_against_existing_ones_with_a_stored_model(
    synthetic: SyntheticLinkage, linked: LinkageResult
) -> None:
    records = synthetic.records
    is_new = records["record_id"] > records["record_id"].max() - 100
    params = type(linked.params).from_dict(json.loads(json.dumps(linked.params.to_dict())))

    pairs, _ = candidate_pairs_against(records[is_new], records[~is_new])
    scored = score_pairs(pairs, records, params)

    truth = synthetic.truth
    same_person = (
        truth.reindex(scored["left"]).to_numpy() == truth.reindex(scored["right"]).to_numpy()
    )
    confident = scored["match_probability"].to_numpy() >= 0.99
    new_ids = set(records.loc[is_new, "record_id"])
    assert all(left in new_ids or right in new_ids for left, right in pairs.itertuples(index=False))
    assert not (confident & ~same_person).any()
    assert (confident & same_person).sum() >= 0.9 * same_person.sum() > 0


def test_config_round_trips_through_a_json_dict() -> None:
    config = LinkageConfig(max_block_size=100, tf_minimum_u=1e-3)

    assert LinkageConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
