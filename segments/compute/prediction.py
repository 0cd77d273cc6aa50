"""Compute layer: churn / purchase-propensity features, time-split labels, models and drift.

Orders frame: see ``segments.compute.rfm`` (ORDER_COLUMNS). Optional activity frame
(ACTIVITY_COLUMNS), one row per profile and time with non-negative counts, e.g. one row per
session or a daily rollup: ``profile_id`` (int64), ``occurred_at`` (tz-aware UTC datetime64),
``sessions``, ``pages``, ``email_opens``, ``email_clicks``.

Features (FEATURES), all measured at ``as_of`` from rows dated at or before it:

- ``recency_days``, ``frequency``, ``monetary``, ``aov``: as customer_rfm (completed orders);
- ``tenure_days``: days since the first completed order;
- ``purchase_velocity_30d``: frequency per 30 days of tenure (tenure floored at 1 day);
- ``interpurchase_mean_days`` / ``interpurchase_std_days``: mean and population std (ddof=0)
  of the gaps between consecutive orders; 0 with fewer than two orders;
- ``days_since_last_session``: since the last activity row with sessions > 0, capped at
  NEVER_DAYS (also the value when there is none);
- ``sessions|pages|email_opens|email_clicks`` summed over (as_of - 30d, as_of] and
  (as_of - 90d, as_of];
- ``email_ctr``: all-time email_clicks / email_opens (click-to-open; the frame has no sends),
  clipped to [0, 1], 0 without opens.

Prospects (activity but no completed order; only in the purchase population) get
``recency_days`` = NEVER_DAYS and 0 for the other order features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from cdp.core.frames import require_columns
from segments.compute.rfm import (
    AOV,
    FIRST_ORDER_AT,
    FREQUENCY,
    MONETARY,
    ORDER_COLUMNS,
    PLACED_AT,
    PROFILE_ID,
    RECENCY_DAYS,
    SECONDS_PER_DAY,
    as_utc_timestamp,
    check_utc_column,
    completed_orders,
    rfm_from_completed,
)

OCCURRED_AT = "occurred_at"
SESSIONS = "sessions"
PAGES = "pages"
EMAIL_OPENS = "email_opens"
EMAIL_CLICKS = "email_clicks"
ACTIVITY_COUNTS = (SESSIONS, PAGES, EMAIL_OPENS, EMAIL_CLICKS)
ACTIVITY_COLUMNS = (PROFILE_ID, OCCURRED_AT, *ACTIVITY_COUNTS)
WINDOWS_DAYS = (30, 90)
NEVER_DAYS = 3650.0

ORDER_FEATURES = (
    RECENCY_DAYS,
    FREQUENCY,
    MONETARY,
    AOV,
    "tenure_days",
    "purchase_velocity_30d",
    "interpurchase_mean_days",
    "interpurchase_std_days",
)
ACTIVITY_FEATURES = (
    "days_since_last_session",
    *(f"{count}_{days}d" for count in ACTIVITY_COUNTS for days in WINDOWS_DAYS),
    "email_ctr",
)
FEATURES = (*ORDER_FEATURES, *ACTIVITY_FEATURES)

CHURN = "churn"
PURCHASE = "purchase"
TARGETS = (CHURN, PURCHASE)
LOGISTIC = "logistic"
TREE = "tree"
GBM = "gbm"
MODELS = (LOGISTIC, TREE, GBM)
PERMUTATION_ROWS = 5000
LIFT_GROUPS = 10


class LeakageError(ValueError):
    """Data dated after the cutoff reached a feature, or a test split overlaps training labels."""


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainingFrame:
    """Features at `cutoff` (profile_id + FEATURES) and 0/1 labels from (cutoff, cutoff+horizon]."""

    features: pd.DataFrame
    labels: np.ndarray
    cutoff: pd.Timestamp
    horizon_days: int
    target: str

    @property
    def matrix(self) -> pd.DataFrame:
        """The model inputs: FEATURES columns only."""
        return self.features[list(FEATURES)]


@dataclass(frozen=True, kw_only=True, eq=False)
class ModelReport:
    """One trained model: metrics, calibration, lift, importances and the fitted estimator.

    metrics keys: cv_{roc_auc,pr_auc,f1} and their *_std over folds, n_train, base_rate, and
    with a held-out time split test_{roc_auc,pr_auc,f1}, n_test, test_base_rate. Calibration and
    lift are computed on the test split when there is one, else on out-of-fold CV predictions
    (``evaluated_on``). The estimator is fitted on the whole training frame.
    """

    name: str
    target: str
    features: tuple[str, ...]
    threshold: float
    metrics: dict[str, float]
    calibration: dict[str, list[float]]
    lift: pd.DataFrame
    importances: dict[str, float]
    evaluated_on: str
    estimator: Any
    sklearn_version: str = field(default=sklearn.__version__)

    def params(self) -> dict[str, Any]:
        """JSON-able parameters; for logistic enough to score without the estimator."""
        base: dict[str, Any] = {
            "model": self.name,
            "target": self.target,
            "features": list(self.features),
            "threshold": self.threshold,
            "sklearn_version": self.sklearn_version,
        }
        if self.name == LOGISTIC:
            scaler, model = self.estimator.named_steps["scale"], self.estimator.named_steps["model"]
            base |= {
                "coefficients": [float(c) for c in model.coef_[0]],
                "intercept": float(model.intercept_[0]),
                "scaler_mean": [float(v) for v in scaler.mean_],
                "scaler_scale": [float(v) for v in scaler.scale_],
            }
        else:
            primitive = (str, int, float, bool, type(None))
            settings = self.estimator.get_params()
            base["estimator_params"] = {
                k: v for k, v in settings.items() if isinstance(v, primitive)
            }
        return base

    def summary(self) -> dict[str, Any]:
        """JSON-able metrics, calibration, lift and importances (everything but the estimator)."""
        return {
            "model": self.name,
            "metrics": dict(self.metrics),
            "evaluated_on": self.evaluated_on,
            "calibration": {k: list(v) for k, v in self.calibration.items()},
            "lift": self.lift.to_dict(orient="records"),
            "importances": dict(self.importances),
        }


def assert_no_leakage(frame: pd.DataFrame, cutoff: pd.Timestamp, time_column: str) -> None:
    """Raise LeakageError when any row of `frame` is dated after `cutoff`."""
    require_columns(frame, {time_column})
    cutoff = as_utc_timestamp(cutoff, name="cutoff")
    late = int((frame[time_column] > cutoff).sum())
    if late:
        raise LeakageError(f"{late} rows of {time_column} are after the cutoff {cutoff}")


def _order_features(completed: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    rfm = rfm_from_completed(completed, as_of=as_of).set_index(PROFILE_ID)
    tenure = (as_of - rfm[FIRST_ORDER_AT]).dt.total_seconds() / SECONDS_PER_DAY
    ordered = completed.sort_values([PROFILE_ID, PLACED_AT])
    gaps = ordered[PLACED_AT].diff().dt.total_seconds() / SECONDS_PER_DAY
    gaps = gaps.where(ordered[PROFILE_ID].eq(ordered[PROFILE_ID].shift()))
    gap_groups = gaps.groupby(ordered[PROFILE_ID])
    result = rfm[[RECENCY_DAYS, FREQUENCY, MONETARY, AOV]].copy()
    result["tenure_days"] = tenure
    result["purchase_velocity_30d"] = rfm[FREQUENCY] / tenure.clip(lower=1.0) * 30.0
    result["interpurchase_mean_days"] = gap_groups.mean().reindex(result.index).fillna(0.0)
    result["interpurchase_std_days"] = gap_groups.std(ddof=0).reindex(result.index).fillna(0.0)
    return result


def _activity_features(activity: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    by_profile = activity.groupby(PROFILE_ID)
    profiles = np.unique(activity[PROFILE_ID].to_numpy(dtype=np.int64))
    result = pd.DataFrame(index=pd.Index(profiles, name=PROFILE_ID))
    with_session = activity.loc[activity[SESSIONS] > 0]
    last_session = with_session.groupby(PROFILE_ID)[OCCURRED_AT].max().reindex(result.index)
    since = (as_of - last_session).dt.total_seconds() / SECONDS_PER_DAY
    result["days_since_last_session"] = since.fillna(NEVER_DAYS).clip(upper=NEVER_DAYS)
    for days in WINDOWS_DAYS:
        recent = activity.loc[activity[OCCURRED_AT] > as_of - pd.Timedelta(days=days)]
        sums = recent.groupby(PROFILE_ID)[list(ACTIVITY_COUNTS)].sum().reindex(result.index)
        for count in ACTIVITY_COUNTS:
            result[f"{count}_{days}d"] = sums[count].fillna(0).astype("float64")
    totals = by_profile[[EMAIL_OPENS, EMAIL_CLICKS]].sum().reindex(result.index)
    ctr = totals[EMAIL_CLICKS] / totals[EMAIL_OPENS].where(totals[EMAIL_OPENS] > 0)
    result["email_ctr"] = ctr.fillna(0.0).clip(0.0, 1.0).astype("float64")
    return result


def _empty_activity() -> pd.DataFrame:
    return pd.DataFrame(
        {
            PROFILE_ID: pd.Series(dtype="int64"),
            OCCURRED_AT: pd.Series(dtype="datetime64[ns, UTC]"),
            **{count: pd.Series(dtype="float64") for count in ACTIVITY_COUNTS},
        }
    )


def customer_features(
    orders: pd.DataFrame,
    activity: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    include_prospects: bool = False,
) -> pd.DataFrame:
    """profile_id + FEATURES per customer at `as_of` (see the module docstring), by profile_id.

    Every input row must be dated at or before `as_of`: filter first. Customers have a
    completed order; with include_prospects, profiles with only activity rows are added.
    Raises LeakageError for a row after `as_of`, MissingColumnsError, or ValueError.
    """
    require_columns(orders, ORDER_COLUMNS)
    as_of = as_utc_timestamp(as_of)
    activity = _empty_activity() if activity is None else activity
    require_columns(activity, ACTIVITY_COLUMNS)
    check_utc_column(activity, OCCURRED_AT)
    assert_no_leakage(orders, as_of, PLACED_AT)
    assert_no_leakage(activity, as_of, OCCURRED_AT)
    order_part = _order_features(completed_orders(orders), as_of=as_of)
    activity_part = _activity_features(activity, as_of=as_of)
    index = order_part.index
    if include_prospects:
        index = index.union(activity_part.index)
    order_part = order_part.reindex(index)
    order_part[RECENCY_DAYS] = order_part[RECENCY_DAYS].fillna(NEVER_DAYS)
    order_part = order_part.fillna(0.0)
    activity_part = activity_part.reindex(index)
    activity_part["days_since_last_session"] = activity_part["days_since_last_session"].fillna(
        NEVER_DAYS
    )
    result = pd.concat([order_part, activity_part.fillna(0.0)], axis=1).astype("float64")
    result.index = result.index.astype("int64")
    return result.rename_axis(PROFILE_ID).reset_index()[[PROFILE_ID, *FEATURES]]


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")


def build_scoring_frame(
    orders: pd.DataFrame, activity: pd.DataFrame | None, *, as_of: pd.Timestamp, target: str
) -> pd.DataFrame:
    """Features at `as_of` for the population a `target` model scores (rows up to `as_of`).

    churn: customers with a completed order; purchase: also activity-only prospects.
    Raises as customer_features, or ValueError for an unknown target.
    """
    _check_target(target)
    return customer_features(orders, activity, as_of=as_of, include_prospects=target == PURCHASE)


def build_training_frame(
    orders: pd.DataFrame,
    activity: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    target: str = CHURN,
) -> TrainingFrame:
    """Features from rows at or before `cutoff`, labels from completed orders in
    (cutoff, cutoff + horizon_days].

    churn: population = customers with a completed order at or before the cutoff; label 1 when
    they place no completed order in the horizon. purchase: population also has activity-only
    prospects; label 1 with at least one completed order in the horizon. `orders` must reach
    cutoff + horizon_days, or late buyers look like churners.
    Raises MissingColumnsError, LeakageError (via customer_features) or ValueError.
    """
    require_columns(orders, ORDER_COLUMNS)
    _check_target(target)
    if horizon_days < 1:
        raise ValueError("horizon_days must be at least 1")
    cutoff = as_utc_timestamp(cutoff, name="cutoff")
    check_utc_column(orders, PLACED_AT)
    past_activity = None
    if activity is not None:
        require_columns(activity, ACTIVITY_COLUMNS)
        check_utc_column(activity, OCCURRED_AT)
        past_activity = activity.loc[activity[OCCURRED_AT] <= cutoff]
    past_orders = orders.loc[orders[PLACED_AT] <= cutoff]
    features = build_scoring_frame(past_orders, past_activity, as_of=cutoff, target=target)
    completed = completed_orders(orders)
    end = cutoff + pd.Timedelta(days=horizon_days)
    in_horizon = (completed[PLACED_AT] > cutoff) & (completed[PLACED_AT] <= end)
    bought = features[PROFILE_ID].isin(completed.loc[in_horizon, PROFILE_ID]).to_numpy()
    labels = (~bought if target == CHURN else bought).astype(np.int64)
    return TrainingFrame(
        features=features, labels=labels, cutoff=cutoff, horizon_days=horizon_days, target=target
    )


def _estimator(name: str, random_state: int) -> Any:
    if name == LOGISTIC:
        model = LogisticRegression(max_iter=2000)
        return Pipeline([("scale", StandardScaler()), ("model", model)])
    if name == TREE:
        return DecisionTreeClassifier(max_depth=6, min_samples_leaf=20, random_state=random_state)
    if name == GBM:
        return HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=15, random_state=random_state
        )
    raise ValueError(f"unknown model {name!r}; choose from {MODELS}")


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold (predict 1 when score >= threshold) that maximises F1 on these data."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    precision, recall = precision[:-1], recall[:-1]
    denominator = np.where(precision + recall > 0, precision + recall, 1.0)
    f1 = 2 * precision * recall / denominator
    return float(thresholds[int(np.argmax(f1))])


def _probabilities(estimator: Any, matrix: pd.DataFrame) -> np.ndarray:
    return np.asarray(estimator.predict_proba(matrix)[:, 1], dtype=np.float64)


def _split_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "f1": float(f1_score(labels, (scores >= threshold).astype(np.int64), zero_division=0)),
    }


def _cross_validate(
    name: str, training: TrainingFrame, *, n_splits: int, random_state: int
) -> tuple[dict[str, float], np.ndarray]:
    """Mean and std of fold metrics, and the out-of-fold scores."""
    matrix, labels = training.matrix, training.labels
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    out_of_fold = np.zeros(len(labels))
    rows = []
    for train_rows, test_rows in folds.split(matrix, labels):
        model = _estimator(name, random_state).fit(matrix.iloc[train_rows], labels[train_rows])
        threshold = best_f1_threshold(
            labels[train_rows], _probabilities(model, matrix.iloc[train_rows])
        )
        out_of_fold[test_rows] = _probabilities(model, matrix.iloc[test_rows])
        rows.append(_split_metrics(labels[test_rows], out_of_fold[test_rows], threshold))
    table = pd.DataFrame(rows)
    metrics = {f"cv_{k}": float(v) for k, v in table.mean().items()}
    metrics |= {f"cv_{k}_std": float(v) for k, v in table.std(ddof=0).items()}
    return metrics, out_of_fold


def lift_table(
    labels: np.ndarray, scores: np.ndarray, *, groups: int = LIFT_GROUPS
) -> pd.DataFrame:
    """Lift by score decile (group 1 = highest scores; equal sizes, ties by row order).

    Columns: decile, customers, positives, positive_rate, lift, cumulative_lift,
    cumulative_capture (share of all positives in deciles 1..d).
    """
    n = len(scores)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    decile = np.empty(n, dtype=np.int64)
    decile[order] = np.arange(n) * groups // n + 1
    frame = pd.DataFrame({"decile": decile, "label": np.asarray(labels, dtype=np.int64)})
    table = frame.groupby("decile")["label"].agg(customers="size", positives="sum").reset_index()
    base_rate = float(frame["label"].mean())
    table["positive_rate"] = table["positives"] / table["customers"]
    table["lift"] = table["positive_rate"] / base_rate
    cumulative_rate = table["positives"].cumsum() / table["customers"].cumsum()
    table["cumulative_lift"] = cumulative_rate / base_rate
    table["cumulative_capture"] = table["positives"].cumsum() / table["positives"].sum()
    return table


def _importances(
    name: str, estimator: Any, matrix: pd.DataFrame, labels: np.ndarray, random_state: int
) -> dict[str, float]:
    """Logistic: coefficient x feature std (= the coefficient on standardised inputs);
    tree: impurity importance; gbm: permutation importance (ROC-AUC drop, 3 repeats) on at
    most PERMUTATION_ROWS rows of the test split, or of the training rows without one.
    """
    if name == LOGISTIC:
        values = estimator.named_steps["model"].coef_[0]
    elif name == TREE:
        values = estimator.feature_importances_
    else:
        rows = np.random.default_rng(random_state).permutation(len(labels))[:PERMUTATION_ROWS]
        result = permutation_importance(
            estimator,
            matrix.iloc[rows],
            labels[rows],
            scoring="roc_auc",
            n_repeats=3,
            random_state=random_state,
        )
        values = result.importances_mean
    return {feature: float(v) for feature, v in zip(FEATURES, values, strict=True)}


def _check_splits(training: TrainingFrame, test: TrainingFrame | None, n_splits: int) -> None:
    counts = np.bincount(training.labels, minlength=2)
    if counts.min() < n_splits:
        raise ValueError(f"each class needs at least n_splits={n_splits} rows, got {counts}")
    if test is None:
        return
    if test.target != training.target:
        raise ValueError("training and test frames have different targets")
    if test.cutoff < training.cutoff + pd.Timedelta(days=training.horizon_days):
        raise LeakageError("test cutoff must be at or after the end of the training label window")
    if len(np.unique(test.labels)) < 2:
        raise ValueError("the test frame needs both classes")


def _train_one(
    name: str,
    training: TrainingFrame,
    test: TrainingFrame | None,
    *,
    n_splits: int,
    random_state: int,
) -> ModelReport:
    metrics, out_of_fold = _cross_validate(
        name, training, n_splits=n_splits, random_state=random_state
    )
    estimator = _estimator(name, random_state).fit(training.matrix, training.labels)
    threshold = best_f1_threshold(training.labels, _probabilities(estimator, training.matrix))
    metrics |= {"n_train": float(len(training.labels)), "base_rate": float(training.labels.mean())}
    eval_matrix, eval_labels, eval_scores = training.matrix, training.labels, out_of_fold
    if test is not None:
        eval_matrix, eval_labels = test.matrix, test.labels
        eval_scores = _probabilities(estimator, eval_matrix)
        test_metrics = _split_metrics(eval_labels, eval_scores, threshold)
        metrics |= {f"test_{k}": v for k, v in test_metrics.items()}
        metrics |= {"n_test": float(len(eval_labels)), "test_base_rate": float(eval_labels.mean())}
    fraction_positive, mean_predicted = calibration_curve(eval_labels, eval_scores, n_bins=10)
    return ModelReport(
        name=name,
        target=training.target,
        features=FEATURES,
        threshold=threshold,
        metrics=metrics,
        calibration={
            "mean_predicted": [float(v) for v in mean_predicted],
            "fraction_positive": [float(v) for v in fraction_positive],
        },
        lift=lift_table(eval_labels, eval_scores),
        importances=_importances(name, estimator, eval_matrix, eval_labels, random_state),
        evaluated_on="cv" if test is None else "test",
        estimator=estimator,
    )


def train_models(
    training: TrainingFrame,
    *,
    test: TrainingFrame | None = None,
    models: Sequence[str] = MODELS,
    n_splits: int = 5,
    random_state: int = 0,
    max_threads: int | None = None,
) -> list[ModelReport]:
    """Cross-validate (StratifiedKFold, shuffled) and fit each model; one report per model.

    F1 in each fold uses the threshold that maximises F1 on that fold's training rows; the final
    estimator is refitted on all training rows and its threshold chosen the same way. `test` is
    a held-out frame built at a later cutoff, at or after training.cutoff + horizon_days.
    `max_threads` caps the OpenMP/BLAS threads while training (gbm's OpenMP threads slow to a
    crawl on a busy machine with small data; a worker sharing cores should pass 1).
    Deterministic for a given random_state and thread count. Raises LeakageError or ValueError.
    """
    for name in models:
        _estimator(name, random_state)
    _check_splits(training, test, n_splits)
    limit = nullcontext() if max_threads is None else threadpool_limits(limits=max_threads)
    with limit:
        return [
            _train_one(name, training, test, n_splits=n_splits, random_state=random_state)
            for name in models
        ]


def score(estimator_or_params: Any, features: pd.DataFrame) -> np.ndarray:
    """Probabilities of the positive class for rows of `features` (a frame with FEATURES).

    Takes a fitted estimator (ModelReport.estimator or a loaded artefact) or the params() of a
    logistic report. Raises MissingColumnsError, or ValueError for params of a tree model.
    """
    if isinstance(estimator_or_params, Mapping):
        params = estimator_or_params
        require_columns(features, params["features"])
        if params["model"] != LOGISTIC:
            raise ValueError(f"{params['model']} models need the fitted estimator to score")
        matrix = features[list(params["features"])].to_numpy(dtype=np.float64)
        standardised = (matrix - np.asarray(params["scaler_mean"])) / np.asarray(
            params["scaler_scale"]
        )
        logits = standardised @ np.asarray(params["coefficients"]) + params["intercept"]
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))
    columns = list(estimator_or_params.feature_names_in_)
    require_columns(features, columns)
    return _probabilities(estimator_or_params, features[columns])


def choose_best(reports: Sequence[ModelReport], metric: str = "roc_auc") -> ModelReport:
    """The report with the highest test_<metric> (cv_<metric> unless every report has a test);
    the first of equals wins. Raises ValueError for no reports or an unknown metric.
    """
    if not reports:
        raise ValueError("no reports to choose from")
    prefix = "test" if all(f"test_{metric}" in r.metrics for r in reports) else "cv"
    key = f"{prefix}_{metric}"
    if any(key not in r.metrics for r in reports):
        raise ValueError(f"unknown metric {metric!r}")
    return max(reports, key=lambda r: r.metrics[key])


def score_drift(
    reference_scores: np.ndarray, current_scores: np.ndarray, *, bins: int = 10
) -> float:
    """Population stability index of current vs reference scores.

    Bins are reference deciles (duplicate edges merged, open ends); shares are floored at
    1e-4 so an empty bin stays finite. PSI = sum((cur - ref) * ln(cur / ref)); by convention
    < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 retrain. Raises ValueError on empty input.
    """
    reference = np.asarray(reference_scores, dtype=np.float64)
    current = np.asarray(current_scores, dtype=np.float64)
    if reference.size == 0 or current.size == 0:
        raise ValueError("score_drift needs non-empty score arrays")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    buckets = len(edges) + 1
    ref_counts = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=buckets)
    cur_counts = np.bincount(np.searchsorted(edges, current, side="right"), minlength=buckets)
    ref_share, cur_share = ref_counts / reference.size, cur_counts / current.size
    ref_share, cur_share = np.maximum(ref_share, 1e-4), np.maximum(cur_share, 1e-4)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
