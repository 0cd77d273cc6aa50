import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.impute import KNNImputer

from segments.compute.features import (
    CategoricalFeature,
    FeatureSpecError,
    FittedPipeline,
    NumericFeature,
    PipelineSpec,
    describe_steps,
    fit_pipeline,
    transform,
)


def _numeric_spec(imputation="median", scaling="none", *, flag=False):
    return PipelineSpec(
        numeric=(
            NumericFeature(name="x", imputation=imputation, missing_flag=flag, scaling=scaling),
        )
    )


@pytest.mark.parametrize(
    ("_case", "imputation", "values", "fill"),
    [
        ("mean", "mean", [1.0, 2.0, np.nan, 4.0, 10.0], 4.25),
        ("median", "median", [1.0, 2.0, np.nan, 4.0, 10.0], 3.0),
        ("mode_ties_to_smallest", "mode", [5.0, 1.0, np.nan, 5.0, 1.0, 2.0], 1.0),
        ("mode", "mode", [1.0, 1.0, np.nan, 2.0, 5.0], 1.0),
    ],
)
def test_simple_imputation_learns_and_applies_the_fill_value(_case, imputation, values, fill):
    frame = pd.DataFrame({"x": values})

    fitted = fit_pipeline(frame, _numeric_spec(imputation))
    result = transform(frame, fitted)

    assert fitted.numeric[0].fill == fill
    assert result.matrix[2, 0] == fill
    assert np.array_equal(np.delete(result.matrix[:, 0], 2), np.delete(np.array(values), 2))


def test_no_imputation_leaves_the_gap():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0]})

    result = transform(frame, fit_pipeline(frame, _numeric_spec("none")))

    assert np.isnan(result.matrix[1, 0])
    assert result.matrix[[0, 2], 0].tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    ("_case", "scaling", "center", "scale"),
    [
        # imputed values 1, 2, 3 (median), 4, 10: mean 4, population sd sqrt(50 / 5)
        ("standard", "standard", 4.0, math.sqrt(10.0)),
        ("minmax", "minmax", 1.0, 9.0),
        # quartiles of 1, 2, 3, 4, 10: 2 and 4, median 3
        ("robust", "robust", 3.0, 2.0),
        ("none", "none", 0.0, 1.0),
    ],
)
def test_scaler_parameters_are_learnt_after_imputation(_case, scaling, center, scale):
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 10.0]})

    fitted = fit_pipeline(frame, _numeric_spec("median", scaling))
    result = transform(frame, fitted)

    assert fitted.numeric[0].center == pytest.approx(center, abs=1e-12)
    assert fitted.numeric[0].scale == pytest.approx(scale, abs=1e-12)
    expected = (np.array([1.0, 2.0, 3.0, 4.0, 10.0]) - center) / scale
    assert result.matrix[:, 0] == pytest.approx(expected, abs=1e-12)


def test_log1p_standard_scales_the_logs_of_skewed_money():
    # log1p of 0, e - 1, e^2 - 1 is 0, 1, 2: mean 1, population sd sqrt(2 / 3)
    frame = pd.DataFrame({"x": [0.0, math.e - 1, math.e**2 - 1]})

    fitted = fit_pipeline(frame, _numeric_spec("median", "log1p_standard"))
    result = transform(frame, fitted)

    assert fitted.numeric[0].center == pytest.approx(1.0, abs=1e-12)
    assert fitted.numeric[0].scale == pytest.approx(math.sqrt(2 / 3), abs=1e-12)
    sd = math.sqrt(2 / 3)
    assert result.matrix[:, 0] == pytest.approx([-1 / sd, 0.0, 1 / sd], abs=1e-12)


def test_log1p_keeps_the_sign_of_refunds():
    frame = pd.DataFrame({"x": [-(math.e - 1), 0.0, math.e - 1]})

    fitted = fit_pipeline(frame, _numeric_spec("median", "log1p_standard"))

    # signed logs -1, 0, 1: mean 0, population sd sqrt(2 / 3)
    assert fitted.numeric[0].center == pytest.approx(0.0, abs=1e-12)
    assert fitted.numeric[0].scale == pytest.approx(math.sqrt(2 / 3), abs=1e-12)


def test_constant_feature_maps_to_zero_instead_of_dividing_by_zero():
    frame = pd.DataFrame({"x": [5.0, 5.0, 5.0]})

    result = transform(frame, fit_pipeline(frame, _numeric_spec("median", "standard")))

    assert result.matrix[:, 0].tolist() == [0.0, 0.0, 0.0]


def test_missing_flag_marks_the_raw_gaps_next_to_the_feature():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, np.nan]})

    fitted = fit_pipeline(frame, _numeric_spec("mean", flag=True))
    result = transform(frame, fitted)

    assert result.columns == ("x", "x__missing")
    assert result.matrix.tolist() == [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [2.0, 1.0]]


def test_onehot_keeps_frequent_levels_and_buckets_rare_unseen_and_missing_as_other():
    # shares: web 3/8, store 2/8 kept; app, fax and missing 1/8 each fall under 0.2
    fit_frame = pd.DataFrame(
        {"channel": ["web", "web", "web", "store", "store", "app", None, "fax"]}
    )
    spec = PipelineSpec(categorical=(CategoricalFeature(name="channel", min_level_share=0.2),))
    fitted = fit_pipeline(fit_frame, spec)

    result = transform(pd.DataFrame({"channel": ["store", "kiosk", None, "web"]}), fitted)

    assert fitted.categorical[0].levels == ("web", "store")
    assert result.columns == ("channel=web", "channel=store", "channel=other")
    assert result.matrix.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 1], [1, 0, 0]]


def test_onehot_caps_levels_keeping_the_most_frequent_and_breaking_ties_by_name():
    frame = pd.DataFrame({"c": ["b", "b", "a", "a", "c", "c", "c", "d"]})
    spec = PipelineSpec(
        categorical=(CategoricalFeature(name="c", min_level_share=0.0, max_levels=2),)
    )

    fitted = fit_pipeline(frame, spec)

    assert fitted.columns == ("c=c", "c=a", "c=other")


def test_onehot_treats_frequent_missing_as_its_own_level():
    frame = pd.DataFrame({"c": ["a", None, None, "a"]})
    spec = PipelineSpec(categorical=(CategoricalFeature(name="c", min_level_share=0.0),))

    result = transform(frame, fit_pipeline(frame, spec))

    assert result.columns == ("c=(missing)", "c=a", "c=other")
    assert result.matrix.tolist() == [[0, 1, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]]


def test_ordinal_maps_the_given_order_to_zero_one_and_fills_gaps_with_the_median_code():
    order = ("bronze", "silver", "gold")
    spec = PipelineSpec(
        categorical=(CategoricalFeature(name="tier", encoding="ordinal", order=order),)
    )
    fit_frame = pd.DataFrame({"tier": ["gold", "bronze", "silver", "silver", None]})
    fitted = fit_pipeline(fit_frame, spec)

    result = transform(pd.DataFrame({"tier": ["bronze", "gold", "platinum", None]}), fitted)

    assert fitted.categorical[0].fill == 0.5
    assert result.matrix[:, 0].tolist() == [0.0, 1.0, 0.5, 0.5]


def test_rows_missing_more_than_the_share_are_excluded_and_counted():
    frame = pd.DataFrame(
        {
            "a": [1.0, np.nan, np.nan, np.nan, 5.0],
            "b": [1.0, 2.0, np.nan, np.nan, 5.0],
            "c": ["x", "y", "z", None, None],
        },
        index=[10, 11, 12, 13, 14],
    )
    spec = PipelineSpec(
        numeric=(NumericFeature(name="a"), NumericFeature(name="b")),
        categorical=(CategoricalFeature(name="c", min_level_share=0.0),),
        max_missing_share=0.5,
    )

    fitted = fit_pipeline(frame, spec)
    result = transform(frame, fitted)

    # missing shares 0, 1/3, 2/3, 3/3, 1/3: rows 12 and 13 are over one half
    assert fitted.n_excluded == 2
    assert fitted.n_fit_rows == 3
    assert result.n_excluded == 2
    assert result.index.tolist() == [10, 11, 14]
    # the median of column a is learnt from kept rows only: 1 and 5
    assert fitted.numeric[0].fill == 3.0


def test_fitting_when_every_row_is_excluded_raises():
    frame = pd.DataFrame({"a": [np.nan, np.nan]})
    spec = PipelineSpec(numeric=(NumericFeature(name="a"),), max_missing_share=0.5)

    with pytest.raises(FeatureSpecError):
        fit_pipeline(frame, spec)


def test_knn_imputation_matches_sklearn_on_the_standardised_reference():
    rng = np.random.default_rng(3)
    raw = rng.normal(size=(60, 3)) * [1.0, 10.0, 100.0] + [0.0, 50.0, 1000.0]
    raw[rng.random(raw.shape) < 0.15] = np.nan
    frame = pd.DataFrame(raw, columns=["a", "b", "c"])
    spec = PipelineSpec(
        numeric=tuple(NumericFeature(name=n, imputation="knn", scaling="none") for n in "abc"),
        knn_neighbors=3,
    )

    result = transform(frame, fit_pipeline(frame, spec))

    center, scale = np.nanmean(raw, axis=0), np.nanstd(raw, axis=0)
    imputer = KNNImputer(n_neighbors=3).fit((raw - center) / scale)
    expected = imputer.transform((raw - center) / scale) * scale + center
    assert np.isnan(result.matrix).sum() == 0
    assert result.matrix == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_knn_reference_is_a_seeded_sample_of_the_requested_size():
    frame = pd.DataFrame({"a": np.arange(100.0), "b": np.where(np.arange(100) % 7, 1.0, np.nan)})
    spec = PipelineSpec(
        numeric=(NumericFeature(name="a"), NumericFeature(name="b", imputation="knn")),
        knn_reference_size=10,
        random_state=5,
    )

    first, second = fit_pipeline(frame, spec), fit_pipeline(frame, spec)

    assert len(first.knn.rows) == 10
    assert first.knn == second.knn


def _mixed_frame(n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "recency_days": rng.exponential(60, n),
            "monetary": rng.lognormal(4, 1, n),
            "email_ctr": rng.uniform(0, 0.3, n),
            "channel": rng.choice(["web", "store", "app", "fax"], n, p=[0.5, 0.3, 0.19, 0.01]),
            "tier": rng.choice(["bronze", "silver", "gold"], n),
        },
        index=pd.RangeIndex(1000, 1000 + n),
    )
    for column, share in (("recency_days", 0.1), ("monetary", 0.2), ("email_ctr", 0.3)):
        frame.loc[rng.random(n) < share, column] = np.nan
    frame.loc[rng.random(n) < 0.05, "channel"] = None
    return frame


def _mixed_spec(pca_components=None):
    return PipelineSpec(
        numeric=(
            NumericFeature(name="recency_days", imputation="median", scaling="robust"),
            NumericFeature(
                name="monetary", imputation="knn", missing_flag=True, scaling="log1p_standard"
            ),
            NumericFeature(name="email_ctr", imputation="mean", scaling="minmax"),
        ),
        categorical=(
            CategoricalFeature(name="channel", min_level_share=0.05),
            CategoricalFeature(name="tier", encoding="ordinal", order=("bronze", "silver", "gold")),
        ),
        max_missing_share=0.3,
        pca_components=pca_components,
        knn_reference_size=200,
    )


@pytest.mark.parametrize("pca_components", [None, 3])
def test_chunked_transform_equals_the_whole_frame_transform(pca_components):
    frame = _mixed_frame(1500, seed=1)
    fitted = fit_pipeline(frame, _mixed_spec(pca_components))

    whole = transform(frame, fitted)
    chunks = [transform(frame.iloc[i : i + 97], fitted) for i in range(0, len(frame), 97)]

    assert np.array_equal(np.vstack([c.matrix for c in chunks]), whole.matrix)
    assert np.concatenate([c.index for c in chunks]).tolist() == whole.index.tolist()
    assert sum(c.n_excluded for c in chunks) == whole.n_excluded == fitted.n_excluded
    assert whole.n_excluded > 0


def test_pca_step_equals_sklearn_pca_of_the_pre_pca_matrix():
    frame = _mixed_frame(800, seed=2)
    without = transform(frame, fit_pipeline(frame, _mixed_spec()))

    fitted = fit_pipeline(frame, _mixed_spec(pca_components=3))
    result = transform(frame, fitted)

    reference = PCA(n_components=3, svd_solver="full").fit(without.matrix)
    assert result.columns == ("pc1", "pc2", "pc3")
    assert result.matrix == pytest.approx(reference.transform(without.matrix), abs=1e-10)
    assert fitted.pca.explained_variance_ratio == pytest.approx(
        tuple(reference.explained_variance_ratio_), abs=1e-12
    )


def test_fitted_pipeline_round_trips_through_strict_json():
    frame = _mixed_frame(500, seed=4)
    fitted = fit_pipeline(frame, _mixed_spec(pca_components=2))

    stored = json.loads(json.dumps(fitted.to_dict(), allow_nan=False))
    restored = FittedPipeline.from_dict(stored)

    assert restored == fitted
    assert np.array_equal(transform(frame, restored).matrix, transform(frame, fitted).matrix)


def test_spec_round_trips_through_json():
    spec = _mixed_spec(pca_components=2)

    assert PipelineSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_transform_does_not_mutate_its_input():
    frame = _mixed_frame(300, seed=5)
    before = frame.copy()

    transform(frame, fit_pipeline(frame, _mixed_spec()))

    pd.testing.assert_frame_equal(frame, before)


def test_describe_steps_reads_like_the_ui_text():
    frame = pd.DataFrame(
        {
            "revenue_90d": [10.0, 12.0, np.nan, 20.0, 5.0],
            "channel": ["web", "web", "store", "web", "store"],
        }
    )
    spec = PipelineSpec(
        numeric=(
            NumericFeature(
                name="revenue_90d",
                imputation="median",
                missing_flag=True,
                scaling="log1p_standard",
            ),
        ),
        categorical=(CategoricalFeature(name="channel"),),
        max_missing_share=0.5,
    )

    steps = describe_steps(spec, fit_pipeline(frame, spec))

    assert steps == [
        "rows missing more than 50% of the 2 features are excluded (0 of 5 at fit)",
        "revenue_90d: median imputation (11.0), missing flag, log1p then standardised",
        "channel: one-hot over 2 levels (web, store) plus other",
    ]


@pytest.mark.parametrize(
    ("_case", "kwargs"),
    [
        ("unknown_imputation", {"numeric": (NumericFeature(name="a", imputation="magic"),)}),
        ("unknown_scaling", {"numeric": (NumericFeature(name="a", scaling="zscore"),)}),
        ("no_feature", {}),
        ("duplicate", {"numeric": (NumericFeature(name="a"), NumericFeature(name="a"))}),
        (
            "ordinal_without_order",
            {"categorical": (CategoricalFeature(name="c", encoding="ordinal"),)},
        ),
        ("share_over_one", {"numeric": (NumericFeature(name="a"),), "max_missing_share": 1.5}),
    ],
)
def test_invalid_spec_is_refused(_case, kwargs):
    with pytest.raises(FeatureSpecError):
        PipelineSpec(**kwargs)


def test_missing_input_column_is_named():
    spec = PipelineSpec(numeric=(NumericFeature(name="a"), NumericFeature(name="b")))

    with pytest.raises(ValueError, match="missing columns: b"):
        fit_pipeline(pd.DataFrame({"a": [1.0]}), spec)
