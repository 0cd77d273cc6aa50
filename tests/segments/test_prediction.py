"""Tests for segments.compute.prediction: features, time-split labels, leakage guard, models,
scoring from parameters, lift, model choice and score drift."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from segments.compute.prediction import (
    FEATURES,
    NEVER_DAYS,
    LeakageError,
    assert_no_leakage,
    best_f1_threshold,
    build_training_frame,
    choose_best,
    customer_features,
    lift_table,
    score,
    score_drift,
    train_models,
)

CUTOFF = pd.Timestamp("2024-04-01T00:00:00Z")
EPOCH = pd.Timestamp("2023-01-01T00:00:00Z")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """gbm's OpenMP threads crawl on a busy 2-core machine; predictions here are small."""
    with threadpool_limits(limits=1):
        yield


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["profile_id", "placed_at", "total", "status"])
    frame["profile_id"] = frame["profile_id"].astype("int64")
    frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True)
    return frame


def _activity(rows):
    columns = ["profile_id", "occurred_at", "sessions", "pages", "email_opens", "email_clicks"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["profile_id"] = frame["profile_id"].astype("int64")
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame


HISTORY = _orders(
    [
        (1, "2024-01-01T00:00:00Z", 10.0, "completed"),
        (1, "2024-02-01T00:00:00Z", 20.0, "completed"),
        (1, "2024-03-02T00:00:00Z", 30.0, "completed"),
        (1, "2024-04-15T00:00:00Z", 99.0, "completed"),  # bought in the horizon
        (2, "2024-03-25T12:00:00Z", 50.0, "completed"),
        (2, "2024-04-10T00:00:00Z", 70.0, "cancelled"),  # does not count as a purchase
        (3, "2024-04-01T00:00:00Z", 5.0, "completed"),  # exactly at the cutoff: a feature
        (3, "2024-05-01T00:00:00Z", 8.0, "completed"),  # exactly at the horizon end: a label
        (4, "2024-04-05T00:00:00Z", 15.0, "completed"),  # first order after the cutoff
        (5, "2024-01-10T00:00:00Z", 40.0, "completed"),
        (5, "2024-05-01T00:00:01Z", 40.0, "completed"),  # one second past the horizon
    ]
)
ACTIVITY = _activity(
    [
        (1, "2024-03-31T12:00:00Z", 1, 4, 2, 1),
        (1, "2024-02-15T00:00:00Z", 2, 6, 3, 0),
        (1, "2024-04-02T00:00:00Z", 5, 9, 9, 9),  # after the cutoff
        (2, "2024-03-01T00:00:00Z", 0, 0, 1, 1),
        (3, "2024-03-02T00:00:00Z", 1, 1, 0, 0),  # exactly 30 days before: not in 30d
        (4, "2024-03-20T00:00:00Z", 1, 2, 0, 0),
        (6, "2024-03-01T00:00:00Z", 1, 1, 0, 0),
    ]
)


def _feature_rows(frame):
    return {row.profile_id: row for row in frame.itertuples(index=False)}


def test_churn_frame_features_and_labels_on_a_hand_made_history():
    training = build_training_frame(
        HISTORY, ACTIVITY, cutoff=CUTOFF, horizon_days=30, target="churn"
    )

    assert training.features.columns.tolist() == ["profile_id", *FEATURES]
    assert training.features["profile_id"].tolist() == [1, 2, 3, 5]
    assert training.labels.tolist() == [0, 1, 0, 1]
    rows = _feature_rows(training.features)
    one = rows[1]
    assert (one.recency_days, one.frequency, one.monetary, one.aov) == (30.0, 3.0, 60.0, 20.0)
    assert one.tenure_days == 91.0
    assert one.purchase_velocity_30d == pytest.approx(3 / 91 * 30)
    assert (one.interpurchase_mean_days, one.interpurchase_std_days) == (30.5, 0.5)
    assert one.days_since_last_session == 0.5
    assert (one.sessions_30d, one.sessions_90d, one.pages_30d, one.pages_90d) == (1, 3, 4, 10)
    assert (one.email_opens_30d, one.email_opens_90d) == (2, 5)
    assert (one.email_clicks_30d, one.email_clicks_90d, one.email_ctr) == (1, 1, 0.2)
    two = rows[2]
    assert (two.recency_days, two.tenure_days) == (6.5, 6.5)
    assert two.purchase_velocity_30d == pytest.approx(30 / 6.5)
    assert (two.interpurchase_mean_days, two.interpurchase_std_days) == (0.0, 0.0)
    assert two.days_since_last_session == NEVER_DAYS
    assert (two.email_opens_30d, two.email_opens_90d, two.email_ctr) == (0, 1, 1.0)
    three = rows[3]
    assert (three.recency_days, three.tenure_days, three.purchase_velocity_30d) == (0, 0, 30.0)
    assert (three.days_since_last_session, three.sessions_30d, three.sessions_90d) == (30, 0, 1)


def test_purchase_frame_adds_prospects_with_activity():
    training = build_training_frame(
        HISTORY, ACTIVITY, cutoff=CUTOFF, horizon_days=30, target="purchase"
    )

    assert training.features["profile_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert training.labels.tolist() == [1, 0, 1, 1, 0, 0]
    prospect = _feature_rows(training.features)[4]
    assert (prospect.recency_days, prospect.frequency, prospect.monetary) == (NEVER_DAYS, 0, 0)
    assert (prospect.tenure_days, prospect.interpurchase_mean_days) == (0, 0)
    assert (prospect.days_since_last_session, prospect.sessions_30d, prospect.pages_90d) == (
        12,
        1,
        2,
    )


def test_assert_no_leakage_accepts_the_cutoff_and_rejects_one_second_later():
    frame = _orders([(1, "2024-04-01T00:00:00Z", 1.0, "completed")])
    assert_no_leakage(frame, CUTOFF, "placed_at")

    later = _orders([(1, "2024-04-01T00:00:01Z", 1.0, "completed")])
    with pytest.raises(LeakageError, match="1 rows of placed_at"):
        assert_no_leakage(later, CUTOFF, "placed_at")


def test_a_feature_computed_from_rows_after_the_cutoff_fails():
    past_activity = ACTIVITY.loc[ACTIVITY["occurred_at"] <= CUTOFF]
    with pytest.raises(LeakageError, match="placed_at"):
        customer_features(HISTORY, past_activity, as_of=CUTOFF)
    past_orders = HISTORY.loc[HISTORY["placed_at"] <= CUTOFF]
    with pytest.raises(LeakageError, match="occurred_at"):
        customer_features(past_orders, ACTIVITY, as_of=CUTOFF)


def test_training_features_do_not_change_with_data_after_the_cutoff():
    baseline = build_training_frame(HISTORY, ACTIVITY, cutoff=CUTOFF, horizon_days=30)
    future = HISTORY["placed_at"] > CUTOFF
    altered_orders = HISTORY.assign(total=HISTORY["total"].where(~future, 1e6))
    extra = _activity([(1, "2024-04-01T00:00:01Z", 50, 50, 50, 50)])
    altered_activity = pd.concat([ACTIVITY, extra], ignore_index=True)

    altered = build_training_frame(altered_orders, altered_activity, cutoff=CUTOFF, horizon_days=30)

    pd.testing.assert_frame_equal(altered.features, baseline.features)
    assert altered.labels.tolist() == baseline.labels.tolist()


def test_bad_target_and_horizon_are_rejected():
    with pytest.raises(ValueError, match="target"):
        build_training_frame(HISTORY, None, cutoff=CUTOFF, horizon_days=30, target="upsell")
    with pytest.raises(ValueError, match="horizon"):
        build_training_frame(HISTORY, None, cutoff=CUTOFF, horizon_days=0)


def _population(n, seed):
    """Customers who buy at a Gamma-distributed rate and drop out after each order with a
    Beta-distributed probability: churn depends on recency and frequency, as in real shops."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, 300, n)
    rate = rng.gamma(2.0, 1 / 60, n)
    dropout = rng.beta(1.0, 5.0, n)
    ids, days = [np.arange(n)], [start]
    t, alive = start.copy(), np.ones(n, dtype=bool)
    while alive.any():
        t = t + rng.exponential(1 / rate)
        alive &= t < 730
        ids.append(np.flatnonzero(alive))
        days.append(t[alive])
        alive &= rng.random(n) >= dropout
    profile_ids, day = np.concatenate(ids), np.concatenate(days)
    return pd.DataFrame(
        {
            "profile_id": profile_ids.astype("int64"),
            "placed_at": EPOCH + pd.to_timedelta(day, unit="D"),
            "total": np.round(rng.gamma(2.0, 30.0, len(day)), 2),
            "status": np.where(rng.random(len(day)) < 0.95, "completed", "cancelled"),
        }
    )


@pytest.fixture(scope="module")
def split():
    orders = _population(2000, seed=0)
    first = EPOCH + pd.Timedelta(days=450)
    training = build_training_frame(orders, None, cutoff=first, horizon_days=90)
    later = first + pd.Timedelta(days=90)
    test = build_training_frame(orders, None, cutoff=later, horizon_days=90)
    return training, test


@pytest.fixture(scope="module")
def reports(split):
    training, test = split
    return train_models(training, test=test, random_state=0, max_threads=1)


def test_each_model_ranks_churners_well_on_a_later_time_split(reports):
    assert [r.name for r in reports] == ["logistic", "tree", "gbm"]
    for report in reports:
        assert report.metrics["test_roc_auc"] > 0.8, report.name
        assert report.metrics["cv_roc_auc"] > 0.8, report.name
        assert report.evaluated_on == "test"
        assert report.sklearn_version == sklearn.__version__
        assert list(report.importances) == list(FEATURES)
        top = max(report.importances, key=lambda f: abs(report.importances[f]))
        assert top == "recency_days", report.name


def test_logistic_cv_metrics_equal_sklearn_cross_val_score(split, reports):
    training, _ = split
    pipeline = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=2000))])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

    for scoring, key in (("roc_auc", "cv_roc_auc"), ("average_precision", "cv_pr_auc")):
        reference = cross_val_score(
            pipeline, training.matrix, training.labels, cv=folds, scoring=scoring
        )
        assert reports[0].metrics[key] == pytest.approx(reference.mean(), abs=1e-12)


def _best_f1_by_brute_force(labels, scores):
    """F1 = 2 TP / (2 TP + FP + FN) at every distinct score as threshold; the best of them."""
    predicted = scores[None, :] >= np.unique(scores)[:, None]
    true_positive = (predicted & (labels == 1)).sum(axis=1)
    false_positive = (predicted & (labels == 0)).sum(axis=1)
    false_negative = (labels == 1).sum() - true_positive
    return float((2 * true_positive / (2 * true_positive + false_positive + false_negative)).max())


def test_test_f1_uses_the_threshold_chosen_on_training_rows(split, reports):
    training, test = split
    for report in reports:
        train_scores = score(report.estimator, training.features)
        brute_force = _best_f1_by_brute_force(training.labels, train_scores)
        chosen = f1_score(training.labels, (train_scores >= report.threshold).astype(int))
        assert chosen == pytest.approx(brute_force, abs=1e-12)
        test_scores = score(report.estimator, test.features)
        expected = f1_score(test.labels, (test_scores >= report.threshold).astype(int))
        assert report.metrics["test_f1"] == pytest.approx(expected, abs=1e-12)


def test_calibration_and_lift_describe_the_test_split(split, reports):
    _, test = split
    tree = reports[1]
    test_scores = score(tree.estimator, test.features)
    fraction_positive, mean_predicted = calibration_curve(test.labels, test_scores, n_bins=10)

    assert tree.calibration["mean_predicted"] == pytest.approx(mean_predicted.tolist())
    assert tree.calibration["fraction_positive"] == pytest.approx(fraction_positive.tolist())
    assert tree.lift["customers"].sum() == len(test.labels)
    assert tree.lift["positives"].sum() == test.labels.sum()
    assert tree.lift["lift"].iloc[0] > 1.2
    assert tree.lift["cumulative_capture"].iloc[-1] == 1.0


def test_logistic_params_score_without_the_estimator(split, reports):
    _, test = split
    params = json.loads(json.dumps(reports[0].params()))

    from_params = score(params, test.features)

    np.testing.assert_allclose(from_params, score(reports[0].estimator, test.features), rtol=1e-10)
    assert params["features"] == list(FEATURES)
    assert params["sklearn_version"] == sklearn.__version__
    json.dumps([r.summary() for r in reports])
    tree_params = json.loads(json.dumps(reports[1].params()))
    assert tree_params["estimator_params"]["max_depth"] == 6
    with pytest.raises(ValueError, match="fitted estimator"):
        score(tree_params, test.features)


def test_choose_best_prefers_the_test_metric_and_the_first_of_equals(reports):
    best = choose_best(reports)
    assert best.metrics["test_roc_auc"] == max(r.metrics["test_roc_auc"] for r in reports)
    tied = [dataclasses.replace(r, metrics={"cv_f1": 0.5}) for r in reports]
    assert choose_best(tied, metric="f1") is tied[0]
    with pytest.raises(ValueError, match="unknown metric"):
        choose_best(reports, metric="accuracy")
    with pytest.raises(ValueError, match="no reports"):
        choose_best([])


def test_same_random_state_gives_the_same_metrics():
    orders = _population(500, seed=4)
    cutoff = EPOCH + pd.Timedelta(days=450)
    training = build_training_frame(orders, None, cutoff=cutoff, horizon_days=90)

    first = train_models(
        training, models=("gbm", "tree"), n_splits=3, random_state=7, max_threads=1
    )
    second = train_models(
        training, models=("gbm", "tree"), n_splits=3, random_state=7, max_threads=1
    )

    for a, b in zip(first, second, strict=True):
        assert a.metrics == b.metrics
        assert a.importances == b.importances
        assert a.evaluated_on == "cv"
        assert "test_roc_auc" not in a.metrics


def test_a_test_split_inside_the_training_label_window_is_leakage(split):
    training, _ = split
    overlapping = dataclasses.replace(
        training, cutoff=training.cutoff + pd.Timedelta(days=training.horizon_days - 1)
    )
    with pytest.raises(LeakageError, match="label window"):
        train_models(training, test=overlapping, models=("tree",))
    with pytest.raises(ValueError, match="unknown model"):
        train_models(training, models=("forest",))


def test_best_f1_threshold_matches_brute_force():
    labels = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 0])
    scores = np.array([0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.55, 0.6, 0.8, 0.9])

    threshold = best_f1_threshold(labels, scores)

    f1_by_threshold = {s: f1_score(labels, (scores >= s).astype(int)) for s in scores}
    assert f1_by_threshold[threshold] == max(f1_by_threshold.values())
    assert threshold == 0.25


def test_lift_table_by_group_on_a_hand_computed_example():
    labels = np.array([1, 0, 1, 1, 0, 0, 0, 0, 1, 0])
    scores = np.arange(10, 0, -1).astype(float)  # already sorted high to low

    table = lift_table(labels, scores, groups=5)

    assert table["decile"].tolist() == [1, 2, 3, 4, 5]
    assert table["customers"].tolist() == [2, 2, 2, 2, 2]
    assert table["positives"].tolist() == [1, 2, 0, 0, 1]
    assert table["lift"].tolist() == [1.25, 2.5, 0.0, 0.0, 1.25]
    assert table["cumulative_lift"].tolist() == pytest.approx([1.25, 1.875, 1.25, 0.9375, 1.0])
    assert table["cumulative_capture"].tolist() == [0.25, 0.75, 0.75, 0.75, 1.0]


def test_score_drift_is_the_population_stability_index():
    reference = np.arange(10.0)
    assert score_drift(reference, reference) == 0.0
    shifted = np.array([0, 0, 0, 0, 0, 0, 0, 0, 9, 9], dtype=float)
    expected = 0.3 * math.log(0.8 / 0.5) + (-0.3) * math.log(0.2 / 0.5)
    assert score_drift(reference, shifted, bins=2) == pytest.approx(expected)
    one_sided = np.zeros(10)
    expected = 0.5 * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert score_drift(reference, one_sided, bins=2) == pytest.approx(expected)


def test_score_drift_flags_a_shift_but_not_resampling():
    rng = np.random.default_rng(0)
    reference = rng.normal(0.0, 1.0, 5000)
    assert score_drift(reference, rng.normal(0.0, 1.0, 5000)) < 0.02
    assert score_drift(reference, rng.normal(1.0, 1.0, 5000)) > 0.25
    with pytest.raises(ValueError, match="non-empty"):
        score_drift(reference, np.array([]))
