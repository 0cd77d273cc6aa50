import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, silhouette_score

from segments.compute.clustering import (
    NOISE,
    ClusterFit,
    assign,
    bootstrap_stability,
    cluster_kpis,
    fit_agglomerative,
    fit_dbscan,
    fit_kmeans,
    fit_minibatch_kmeans,
    k_distance,
    k_selection,
    knee_point,
    minibatch_partial_update,
    name_clusters,
    profile_clusters,
    project_2d,
    silhouette_many,
)


def _blobs(n=1200, centers=4, seed=1):
    matrix, truth = make_blobs(
        n_samples=n, centers=centers, n_features=5, cluster_std=1.0, random_state=seed
    )
    return matrix, truth


# --- knee -------------------------------------------------------------------------------------


def test_knee_of_a_hand_made_elbow_curve():
    # steep from 10 to 1 over x = 0..3, then slowly to 0 at x = 10; normalised, the distance
    # under the chord 1 - x is 1 - x/10 - y/10: 0.4 at x=2, 0.6 at x=3, 0.514 at x=4
    x = list(range(11))
    y = [10, 7, 4, 1] + [1 - (i - 3) / 7 for i in range(4, 11)]

    assert knee_point(x, y, curve="convex", direction="decreasing") == 3.0


def test_knee_of_an_increasing_convex_curve():
    # flat then rising: chord x, distance below it x - y, largest at x = 8 (0.8 - 0.1)
    x = list(range(11))
    y = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1, 5, 10]

    assert knee_point(x, y, curve="convex", direction="increasing") == 8.0


def test_straight_line_has_no_knee():
    assert knee_point([1, 2, 3, 4], [8, 6, 4, 2]) is None


# --- silhouette and k selection ---------------------------------------------------------------


def test_silhouette_many_equals_sklearn_for_each_labeling():
    matrix, truth = _blobs(n=400)
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(truth)
    with_singleton = truth.copy()
    with_singleton[0] = 9

    scores = silhouette_many(matrix, [truth, shuffled, with_singleton, np.zeros(400)])

    assert scores[0] == pytest.approx(silhouette_score(matrix, truth), abs=1e-12)
    assert scores[1] == pytest.approx(silhouette_score(matrix, shuffled), abs=1e-12)
    assert scores[2] == pytest.approx(silhouette_score(matrix, with_singleton), abs=1e-12)
    assert scores[3] is None


def test_k_selection_finds_the_true_k_on_separated_blobs():
    matrix, _ = _blobs()

    selection = k_selection(matrix, k_range=range(2, 9), random_state=0)

    assert selection.knee_k == 4
    assert selection.recommended_k == 4
    assert selection.reason == "elbow of the inertia curve at k=4"
    table = selection.table()
    assert table.index.tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert table["silhouette"].idxmax() == 4
    assert table["calinski_harabasz"].idxmax() == 4
    assert table["davies_bouldin"].idxmin() == 4
    assert json.dumps(selection.params(), allow_nan=False)


def test_k_selection_silhouette_is_sklearns_on_the_full_data_when_small():
    matrix, _ = _blobs(n=500)

    selection = k_selection(matrix, k_range=[3], random_state=2, sample_size=10_000)
    fit = fit_kmeans(matrix, k=3, random_state=2)

    assert selection.silhouette_sample_size == 500
    assert selection.silhouette[0] == pytest.approx(silhouette_score(matrix, fit.labels), abs=1e-12)
    assert selection.inertia[0] == pytest.approx(fit.inertia, rel=1e-12)


def test_k_selection_with_minibatch_also_finds_the_true_k():
    matrix, _ = _blobs(n=3000)

    selection = k_selection(
        matrix, k_range=range(2, 8), random_state=0, sample_size=1000, algorithm="minibatch"
    )

    assert selection.recommended_k == 4
    assert selection.silhouette_sample_size == 1000


def test_k_selection_refuses_k_below_two():
    matrix, _ = _blobs(n=100)

    with pytest.raises(ValueError, match="k_range"):
        k_selection(matrix, k_range=range(1, 4), random_state=0)


# --- fits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "fit"),
    [
        ("kmeans", lambda m, seed: fit_kmeans(m, k=4, random_state=seed)),
        ("minibatch", lambda m, seed: fit_minibatch_kmeans(m, k=4, random_state=seed)),
        ("agglomerative", lambda m, seed: fit_agglomerative(m, k=4, random_state=seed)),
    ],
)
def test_fit_recovers_blobs_and_the_same_seed_gives_the_same_labels(_case, fit):
    matrix, truth = _blobs()

    first, second = fit(matrix, 7), fit(matrix, 7)

    assert np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.centroids, second.centroids)
    assert adjusted_rand_score(truth, first.labels) == 1.0
    assert first.k == 4
    assert first.counts.sum() == len(matrix)
    assert first.metrics["silhouette"] == pytest.approx(
        silhouette_score(matrix, first.labels), abs=1e-12
    )
    assert first.metrics["calinski_harabasz"] == pytest.approx(
        calinski_harabasz_score(matrix, first.labels), rel=1e-9
    )


def test_minibatch_keeps_the_best_of_several_runs():
    matrix, _ = make_blobs(n_samples=2000, centers=8, n_features=4, random_state=3)

    single = fit_minibatch_kmeans(matrix, k=6, random_state=0, n_runs=1)
    best = fit_minibatch_kmeans(matrix, k=6, random_state=0, n_runs=5)

    # the first run of both is the same seed; it lands in a poor local minimum here
    assert best.inertia < 0.8 * single.inertia
    assert best.settings["n_runs"] == 5


def test_params_are_strict_json_and_a_stored_model_assigns_the_same_labels():
    matrix, _ = _blobs()
    fit = fit_kmeans(matrix, k=4, random_state=0)

    stored = json.loads(json.dumps(fit.params(), allow_nan=False))
    restored = ClusterFit.from_params(stored)

    assert stored["algorithm"] == "kmeans"
    assert stored["counts"] == np.bincount(fit.labels).tolist()
    assert np.array_equal(assign(matrix, restored.centroids), fit.labels)


def test_assign_picks_the_nearest_centroid():
    centroids = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    rows = np.array([[1.0, 1.0], [9.0, -1.0], [-1.0, 8.0], [4.9, 0.0], [5.1, 0.0]])

    assert assign(rows, centroids).tolist() == [0, 1, 2, 0, 1]


def test_minibatch_over_chunks_recovers_blobs_with_exact_streaming_figures():
    matrix, truth = _blobs(n=2000)

    def chunks():
        return (matrix[i : i + 300] for i in range(0, len(matrix), 300))

    fit = fit_minibatch_kmeans(chunks, k=4, random_state=0, n_passes=2, batch_size=256)

    assert adjusted_rand_score(truth, fit.labels) == 1.0
    assert fit.settings["chunked"] is True
    assert fit.counts.sum() == 2 * len(matrix)  # every row was absorbed once per pass
    expected_inertia = ((matrix - fit.centroids[fit.labels]) ** 2).sum()
    assert fit.inertia == pytest.approx(expected_inertia, rel=1e-12)
    assert fit.metrics["calinski_harabasz"] == pytest.approx(
        calinski_harabasz_score(matrix, fit.labels), rel=1e-9
    )


def test_partial_update_moves_centroids_to_the_running_mean():
    fit = ClusterFit(
        algorithm="minibatch",
        k=2,
        labels=np.empty(0, dtype=np.int64),
        centroids=np.array([[0.0, 0.0], [10.0, 10.0]]),
        counts=np.array([2.0, 2.0]),
        inertia=0.0,
    )
    chunk = np.array([[1.0, 1.0], [1.0, 1.0], [9.0, 9.0]])

    updated = minibatch_partial_update(fit, chunk)

    # cluster 0: (0 * 2 + 1 + 1) / 4; cluster 1: (10 * 2 + 9) / 3
    assert updated.centroids.tolist() == [[0.5, 0.5], [29 / 3, 29 / 3]]
    assert updated.counts.tolist() == [4.0, 3.0]
    assert updated.labels.tolist() == [0, 0, 1]
    assert updated.inertia == pytest.approx(0.25 * 2 * 2 + 2 * (2 / 3) ** 2, rel=1e-12)
    assert updated.settings["partial_updates"] == 1
    assert fit.centroids.tolist() == [[0.0, 0.0], [10.0, 10.0]]  # the input is untouched


def test_agglomerative_on_all_rows_is_sklearn_ward_with_mean_centroids():
    matrix, _ = _blobs(n=300)

    fit = fit_agglomerative(matrix, k=4, random_state=0, sample_size=1000)

    ward = AgglomerativeClustering(n_clusters=4, linkage="ward").fit(matrix)
    assert np.array_equal(fit.labels, ward.labels_)
    for j in range(4):
        assert np.array_equal(fit.centroids[j], matrix[ward.labels_ == j].mean(axis=0))


def test_agglomerative_on_a_sample_assigns_the_other_rows_to_the_nearest_centroid():
    matrix, truth = _blobs(n=1500)

    fit = fit_agglomerative(matrix, k=4, random_state=3, sample_size=300)

    assert fit.settings["ward_sample_size"] == 300
    assert adjusted_rand_score(truth, fit.labels) == 1.0
    assert np.array_equal(assign(matrix, fit.centroids), fit.labels)


def test_dbscan_marks_outliers_as_noise_and_finds_the_blobs():
    matrix, truth = _blobs(n=800)
    outliers = np.full((4, 5), 60.0) + np.arange(4)[:, None] * 15
    data = np.vstack([matrix, outliers])

    fit = fit_dbscan(data, eps=1.5, min_samples=5)

    assert fit.k == 4
    assert fit.labels[-4:].tolist() == [NOISE] * 4
    assert fit.metrics["noise_share"] == pytest.approx(np.mean(fit.labels == NOISE))
    clustered = fit.labels[:800] != NOISE
    assert adjusted_rand_score(truth[clustered], fit.labels[:800][clustered]) == 1.0


def test_k_distance_on_an_even_line_is_the_spacing():
    grid = np.array([[float(i), 0.0] for i in range(50)])

    result = k_distance(grid, 2)

    # the second nearest other point: 1 away inside the line, 2 away at both ends
    assert result.distances.tolist() == [1.0] * 48 + [2.0] * 2
    assert result.suggested_eps == 1.0


def test_k_distance_suggests_an_eps_between_the_blob_and_the_gaps():
    matrix, _ = _blobs(n=800)
    outliers = np.full((20, 5), 60.0) + np.arange(20)[:, None] * 10

    result = k_distance(np.vstack([matrix, outliers]), 4)

    assert np.all(np.diff(result.distances) >= 0)
    assert 0.5 < result.suggested_eps < 5.0
    assert result.distances[-1] > 10


# --- validation -------------------------------------------------------------------------------


def test_stability_is_high_on_blobs():
    matrix, _ = _blobs()

    report = bootstrap_stability(matrix, k=4, n_boot=6, sample_size=600, random_state=0)

    assert len(report.pair_scores) == 15
    assert report.mean == 1.0
    assert report.min == 1.0


def test_stability_is_low_on_uniform_noise():
    noise = np.random.default_rng(0).uniform(size=(1500, 6))

    report = bootstrap_stability(noise, k=5, n_boot=6, sample_size=600, random_state=0)

    assert report.mean < 0.5
    assert report.std > 0.0


def test_stability_with_the_same_seed_is_reproducible():
    noise = np.random.default_rng(1).uniform(size=(500, 3))

    first = bootstrap_stability(noise, k=3, n_boot=4, sample_size=200, random_state=9)
    second = bootstrap_stability(noise, k=3, n_boot=4, sample_size=200, random_state=9)

    assert first == second


# --- profiles and names -----------------------------------------------------------------------


def test_profile_reports_sizes_shares_z_scores_and_ratios():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0, 20.0], "y": [1.0, 1.0, 1.0, 1.0, 1.0]})

    profiles = profile_clusters(frame, np.array([0, 0, 0, 1, 1]))

    overall_sd = math.sqrt((6.2**2 + 5.2**2 + 4.2**2 + 2.8**2 + 12.8**2) / 5)
    assert profiles.labels == (0, 1)
    assert profiles.sizes == (3, 2)
    assert profiles.shares == (0.6, 0.4)
    assert profiles.means["x"].tolist() == [2.0, 15.0]
    assert profiles.z_scores.loc[0, "x"] == pytest.approx((2.0 - 7.2) / overall_sd, abs=1e-12)
    assert profiles.z_scores.loc[1, "x"] == pytest.approx((15.0 - 7.2) / overall_sd, abs=1e-12)
    assert profiles.z_scores["y"].tolist() == [0.0, 0.0]  # constant: no difference
    assert profiles.ratios.loc[0, "x"] == pytest.approx(2.0 / 7.2, abs=1e-12)
    assert profiles.top_features == {0: ("x",), 1: ("x",)}
    stored = json.loads(json.dumps(profiles.params(), allow_nan=False))
    assert stored["z_scores"]["1"]["x"] == pytest.approx((15.0 - 7.2) / overall_sd, abs=1e-12)


def test_profile_ratio_with_a_zero_overall_mean_is_stored_as_null():
    frame = pd.DataFrame({"balance": [-1.0, 1.0]})

    profiles = profile_clusters(frame, np.array([0, 1]))

    assert profiles.params()["ratios"] == {"0": {"balance": None}, "1": {"balance": None}}


def test_names_are_readable_and_built_from_the_top_differences():
    frame = pd.DataFrame(
        {
            "recency_days": [10, 12, 11, 200, 210, 205, 100, 90, 95.0],
            "sessions_30d": [5, 6, 5, 0, 1, 0, 3, 3, 2.0],
            "loyalty_points": [0, 0, 0, 0, 0, 0, 900, 1000, 950.0],
        }
    )

    names = name_clusters(profile_clusters(frame, np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])))

    assert names == [
        "highly engaged, recent, low loyalty points",
        "lapsed, low engagement, low loyalty points",
        "high loyalty points",  # fallback to the feature name
    ]


def test_colliding_names_get_a_distinguishing_term_then_a_number():
    def block(n, **values):
        return pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in values.items()})

    same = {"recency_days": 5.0, "monetary": 500.0, "frequency": 20.0}
    frame = pd.concat(
        [
            block(10, **same, sessions_30d=6.0),
            block(10, **same, sessions_30d=4.0),
            block(
                20, recency_days=300.0, monetary=20.0, frequency=1.0, sessions_30d=[0.0, 10.0] * 10
            ),
            block(
                20, recency_days=300.0, monetary=20.0, frequency=1.0, sessions_30d=[0.0, 10.0] * 10
            ),
        ],
        ignore_index=True,
    )
    labels = np.repeat([0, 1, 2, 3], [10, 10, 20, 20])

    names = name_clusters(profile_clusters(frame, labels))

    assert names == [
        "recent, high spend, frequent, highly engaged",
        "recent, high spend, frequent, low engagement",
        "lapsed, low spend, rare",
        "lapsed, low spend, rare (2)",
    ]
    assert len(set(names)) == 4


def test_one_term_per_concept_even_when_two_features_share_it():
    # monetary and revenue both mean spend; revenue (|z| 0.905, third) points the other way
    # and must not add "low spend" next to "high spend"
    frame = pd.DataFrame(
        {
            "monetary": [100.0, 110.0, 10.0, 12.0],
            "revenue_90d": [40.0, 40.0, 60.0, 50.0],
            "email_ctr": [0.3, 0.2, 0.0, 0.05],
        }
    )

    names = name_clusters(profile_clusters(frame, np.array([0, 0, 1, 1])))

    assert names == ["high spend, email-engaged", "low spend, email-unresponsive"]


def test_noise_cluster_is_named_as_such():
    frame = pd.DataFrame({"monetary": [1.0, 2.0, 50.0, 60.0]})

    names = name_clusters(profile_clusters(frame, np.array([NOISE, NOISE, 0, 0])))

    assert names == ["noise (no cluster)", "high spend"]


# --- pictures and KPIs ------------------------------------------------------------------------


def test_pca_projection_of_a_sample_matches_sklearn():
    matrix, truth = _blobs(n=1000)

    projection = project_2d(matrix, truth, sample_size=200, random_state=4)

    expected = PCA(n_components=2, svd_solver="full").fit_transform(matrix[projection.rows])
    assert len(projection.rows) == 200
    assert np.column_stack([projection.x, projection.y]) == pytest.approx(expected, abs=1e-10)
    assert np.array_equal(projection.labels, truth[projection.rows])


def test_tsne_projection_keeps_blobs_apart():
    matrix, truth = _blobs(n=60)

    projection = project_2d(matrix, truth, method="tsne", random_state=0)

    coords = np.column_stack([projection.x, projection.y])
    assert coords.shape == (60, 2)
    assert silhouette_score(coords, projection.labels) > 0.5


def test_cluster_kpis_per_cluster():
    kpis = pd.DataFrame(
        {
            "converted": [1, 0, 1, 1],
            "orders": [2, 0, 1, 3],
            "revenue": [100.0, 0.0, 50.0, 150.0],
            "lifetime_value": [300.0, 0.0, 80.0, 400.0],
            "emails_delivered": [10, 0, 5, 5],
            "emails_clicked": [2, 0, 1, 0],
        }
    )

    table = cluster_kpis(kpis, np.array([0, 0, 1, 1]))

    assert table.to_dict(orient="index") == {
        0: {
            "customers": 2,
            "share": 0.5,
            "conversion_rate": 0.5,
            "aov": 50.0,
            "lifetime_value": 150.0,
            "repeat_purchase_rate": 1.0,
            "email_click_rate": 0.2,
        },
        1: {
            "customers": 2,
            "share": 0.5,
            "conversion_rate": 1.0,
            "aov": 50.0,
            "lifetime_value": 240.0,
            "repeat_purchase_rate": 0.5,
            "email_click_rate": 0.1,
        },
    }


def test_cluster_kpis_name_missing_columns():
    with pytest.raises(ValueError, match="missing columns: emails_clicked"):
        cluster_kpis(
            pd.DataFrame(
                columns=["converted", "orders", "revenue", "lifetime_value", "emails_delivered"]
            ),
            np.array([]),
        )
