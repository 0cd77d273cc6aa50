"""Compute layer: the customer feature pipeline (impute, flag, scale, encode, PCA) as JSON params.

`fit_pipeline` learns every parameter once (imputation values, a KNN reference sample, scaler
centre/scale, category levels, PCA components) and keeps them as plain numbers in frozen
dataclasses, so a `ModelRun` row can store them as JSON and score new rows later.
`transform` is row-wise given those parameters, so transforming chunks gives exactly the same
rows as transforming the whole frame.

Order of steps for each row kept: exclude rows missing more than `max_missing_share` of the
chosen features (counted, never silently dropped) -> impute numeric features -> missingness
flags (from the raw value) -> transform and scale -> encode categoricals -> optional PCA.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from cdp.core.frames import require_columns

IMPUTATIONS = ("mean", "median", "mode", "knn", "none")
SCALINGS = ("standard", "minmax", "robust", "log1p_standard", "none")
ENCODINGS = ("onehot", "ordinal")
MISSING_FLAG_SUFFIX = "__missing"
OTHER_LEVEL = "other"
MISSING_LEVEL = "(missing)"
PCA_PREFIX = "pc"
KNN_BLOCK_ROWS = 512


class FeatureSpecError(ValueError):
    """A pipeline spec or the frame it is fitted on cannot produce a valid pipeline."""


@dataclass(frozen=True, kw_only=True)
class NumericFeature:
    """One numeric input column: how to impute it, whether to flag missingness, how to scale."""

    name: str
    imputation: str = "median"
    missing_flag: bool = False
    scaling: str = "standard"


@dataclass(frozen=True, kw_only=True)
class CategoricalFeature:
    """One categorical input column: one-hot (rare levels -> "other") or ordinal (given order)."""

    name: str
    encoding: str = "onehot"
    min_level_share: float = 0.01  # one-hot: levels rarer than this share go to "other"
    max_levels: int = 20  # one-hot: at most this many named levels (most frequent first)
    order: tuple[str, ...] = ()  # ordinal: levels from lowest to highest


@dataclass(frozen=True, kw_only=True)
class PipelineSpec:
    """What to compute from which columns; JSON round-trip with to_dict/from_dict."""

    numeric: tuple[NumericFeature, ...] = ()
    categorical: tuple[CategoricalFeature, ...] = ()
    max_missing_share: float = 1.0
    pca_components: int | None = None
    knn_neighbors: int = 5
    knn_reference_size: int = 5_000
    random_state: int = 0

    def __post_init__(self) -> None:
        _validate_spec(self)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Input columns in spec order, numeric first."""
        return tuple(f.name for f in self.numeric) + tuple(f.name for f in self.categorical)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists once serialised)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineSpec:
        """Inverse of to_dict (accepts lists where tuples are expected)."""
        numeric = tuple(NumericFeature(**f) for f in data.get("numeric", ()))
        categorical = tuple(
            CategoricalFeature(**{**f, "order": tuple(f.get("order", ()))})
            for f in data.get("categorical", ())
        )
        rest = {k: v for k, v in data.items() if k not in ("numeric", "categorical")}
        return cls(numeric=numeric, categorical=categorical, **rest)


@dataclass(frozen=True, kw_only=True)
class NumericParams:
    """Fitted numbers of one numeric feature: scaled = (f(imputed) - center) / scale."""

    name: str
    fill: float | None  # imputation value (mean/median/mode); None for knn and none
    center: float
    scale: float


@dataclass(frozen=True, kw_only=True)
class CategoricalParams:
    """Fitted levels of one categorical feature (one-hot levels, or the ordinal order)."""

    name: str
    levels: tuple[str, ...]
    fill: float | None = None  # ordinal: code (0..1) given to missing and unknown values


@dataclass(frozen=True, kw_only=True)
class KnnReference:
    """A reference sample for KNN imputation, in raw units (None = missing)."""

    columns: tuple[str, ...]
    center: tuple[float, ...]  # distances are computed on (raw - center) / scale
    scale: tuple[float, ...]
    rows: tuple[tuple[float | None, ...], ...]
    n_neighbors: int


@dataclass(frozen=True, kw_only=True)
class PcaParams:
    """PCA as numbers: output = (x - mean) @ components.T."""

    input_columns: tuple[str, ...]
    mean: tuple[float, ...]
    components: tuple[tuple[float, ...], ...]
    explained_variance: tuple[float, ...]
    explained_variance_ratio: tuple[float, ...]


@dataclass(frozen=True, kw_only=True)
class FittedPipeline:
    """Everything `transform` needs, all JSON-able (see to_dict/from_dict)."""

    spec: PipelineSpec
    numeric: tuple[NumericParams, ...]
    categorical: tuple[CategoricalParams, ...]
    knn: KnnReference | None
    pca: PcaParams | None
    columns: tuple[str, ...]
    n_fit_rows: int
    n_excluded: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; no NaN anywhere (missing values are None)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedPipeline:
        """Inverse of to_dict."""
        knn, pca = data.get("knn"), data.get("pca")
        return cls(
            spec=PipelineSpec.from_dict(data["spec"]),
            numeric=tuple(NumericParams(**p) for p in data["numeric"]),
            categorical=tuple(
                CategoricalParams(**{**p, "levels": tuple(p["levels"])})
                for p in data["categorical"]
            ),
            knn=None if knn is None else KnnReference(**_tuples(knn)),
            pca=None if pca is None else PcaParams(**_tuples(pca)),
            columns=tuple(data["columns"]),
            n_fit_rows=data["n_fit_rows"],
            n_excluded=data["n_excluded"],
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class TransformResult:
    """The model matrix of the kept rows, their index, and how many rows were excluded."""

    matrix: np.ndarray
    columns: tuple[str, ...]
    index: pd.Index
    n_excluded: int = field(default=0)


def fit_pipeline(frame: pd.DataFrame, spec: PipelineSpec) -> FittedPipeline:
    """Learn all pipeline parameters from `frame` (rows over the missing threshold are left out).

    Raises FeatureSpecError when no row is left or a feature has no value to learn from.
    """
    require_columns(frame, spec.feature_names)
    kept = ~_excluded_mask(frame, spec)
    if not kept.any():
        raise FeatureSpecError("every row is over max_missing_share; nothing to fit")
    rows = frame.loc[kept.to_numpy()]
    raw = _numeric_block(rows, spec)
    knn = _fit_knn(raw, spec) if any(f.imputation == "knn" for f in spec.numeric) else None
    imputed = _impute(raw, spec, knn, fills=_fit_fills(raw, spec))
    numeric = tuple(
        _fit_numeric(feature, raw[:, i], imputed[:, i]) for i, feature in enumerate(spec.numeric)
    )
    categorical = tuple(_fit_categorical(rows[f.name], f) for f in spec.categorical)
    pre_columns = _pre_pca_columns(spec, categorical)
    pca = None
    if spec.pca_components is not None:
        matrix = _pre_pca_matrix(rows, spec, numeric, categorical, knn)
        pca = _fit_pca(matrix, pre_columns, spec)
    columns = pre_columns if pca is None else _pca_columns(len(pca.components))
    return FittedPipeline(
        spec=spec,
        numeric=numeric,
        categorical=categorical,
        knn=knn,
        pca=pca,
        columns=columns,
        n_fit_rows=int(kept.sum()),
        n_excluded=int((~kept).sum()),
    )


def transform(frame: pd.DataFrame, fitted: FittedPipeline) -> TransformResult:
    """Apply a fitted pipeline; row-wise, so chunk by chunk equals the whole frame."""
    spec = fitted.spec
    require_columns(frame, spec.feature_names)
    kept = ~_excluded_mask(frame, spec)
    rows = frame.loc[kept.to_numpy()]
    matrix = _pre_pca_matrix(rows, spec, fitted.numeric, fitted.categorical, fitted.knn)
    if fitted.pca is not None:
        mean = np.asarray(fitted.pca.mean)
        components = np.asarray(fitted.pca.components)
        # einsum, not BLAS: the same row gives the same bits whatever the chunk size.
        matrix = np.einsum("nd,cd->nc", matrix - mean, components)
    return TransformResult(
        matrix=np.ascontiguousarray(matrix, dtype=np.float64),
        columns=fitted.columns,
        index=rows.index,
        n_excluded=int((~kept).sum()),
    )


def describe_steps(spec: PipelineSpec, fitted: FittedPipeline) -> list[str]:
    """One readable line per step, for the UI."""
    lines = [_describe_exclusion(spec, fitted)]
    for feature, params in zip(spec.numeric, fitted.numeric, strict=True):
        lines.append(_describe_numeric(feature, params, spec.knn_neighbors))
    for feature, cat in zip(spec.categorical, fitted.categorical, strict=True):
        lines.append(_describe_categorical(feature, cat))
    if fitted.pca is not None:
        share = 100 * sum(fitted.pca.explained_variance_ratio)
        lines.append(
            f"PCA: {len(fitted.pca.components)} components from "
            f"{len(fitted.pca.input_columns)} columns, explaining {share:.1f}% of the variance"
        )
    return lines


# --- validation -----------------------------------------------------------------------------


def _validate_spec(spec: PipelineSpec) -> None:
    names = spec.feature_names
    if not names:
        raise FeatureSpecError("the spec names no feature")
    if len(set(names)) != len(names):
        raise FeatureSpecError("feature names must be unique")
    _validate_features(spec)
    if not 0.0 <= spec.max_missing_share <= 1.0:
        raise FeatureSpecError("max_missing_share must be within [0, 1]")
    if spec.pca_components is not None and spec.pca_components < 1:
        raise FeatureSpecError("pca_components must be at least 1")
    if spec.knn_neighbors < 1 or spec.knn_reference_size < 1:
        raise FeatureSpecError("knn_neighbors and knn_reference_size must be positive")


def _validate_features(spec: PipelineSpec) -> None:
    for feature in spec.numeric:
        if feature.imputation not in IMPUTATIONS or feature.scaling not in SCALINGS:
            raise FeatureSpecError(f"{feature.name}: unknown imputation or scaling")
    for cat in spec.categorical:
        if cat.encoding not in ENCODINGS:
            raise FeatureSpecError(f"{cat.name}: unknown encoding {cat.encoding!r}")
        if cat.encoding == "ordinal" and len(cat.order) < 2:
            raise FeatureSpecError(f"{cat.name}: ordinal encoding needs an order of 2+ levels")


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    """Lists (from JSON) back to tuples, one level of nesting deep."""
    return {
        k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
        for k, v in data.items()
    }


# --- rows and raw values --------------------------------------------------------------------


def _excluded_mask(frame: pd.DataFrame, spec: PipelineSpec) -> pd.Series:
    names = list(spec.feature_names)
    share = frame[names].isna().sum(axis=1) / len(names)
    return share > spec.max_missing_share


def _numeric_block(rows: pd.DataFrame, spec: PipelineSpec) -> np.ndarray:
    block = np.empty((len(rows), len(spec.numeric)), dtype=np.float64)
    for i, feature in enumerate(spec.numeric):
        block[:, i] = rows[feature.name].to_numpy(dtype=np.float64, na_value=np.nan)
    return block


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """log1p for money that may be negative (refunds): sign(x) * log1p(|x|)."""
    return np.sign(values) * np.log1p(np.abs(values))


# --- fitting --------------------------------------------------------------------------------


def _fit_fills(raw: np.ndarray, spec: PipelineSpec) -> list[float | None]:
    fills: list[float | None] = []
    for i, feature in enumerate(spec.numeric):
        present = raw[~np.isnan(raw[:, i]), i]
        if present.size == 0 and feature.imputation != "none":
            raise FeatureSpecError(f"{feature.name}: no value to learn from")
        fills.append(_fill_value(present, feature.imputation))
    return fills


def _fill_value(present: np.ndarray, imputation: str) -> float | None:
    if imputation == "mean":
        return float(present.mean())
    if imputation == "median":
        return float(np.median(present))
    if imputation == "mode":  # most frequent value; ties go to the smallest
        values, counts = np.unique(present, return_counts=True)
        return float(values[np.argmax(counts)])
    return None


def _fit_knn(raw: np.ndarray, spec: PipelineSpec) -> KnnReference:
    rng = np.random.default_rng(spec.random_state)
    size = min(spec.knn_reference_size, len(raw))
    picked = np.sort(rng.choice(len(raw), size=size, replace=False))
    center = np.nan_to_num(np.nanmean(raw, axis=0))
    scale = np.nan_to_num(np.nanstd(raw, axis=0), nan=1.0)
    scale[scale == 0] = 1.0
    rows = tuple(
        tuple(None if np.isnan(v) else float(v) for v in row) for row in raw[picked].tolist()
    )
    return KnnReference(
        columns=tuple(f.name for f in spec.numeric),
        center=tuple(center.tolist()),
        scale=tuple(scale.tolist()),
        rows=rows,
        n_neighbors=spec.knn_neighbors,
    )


def _fit_numeric(feature: NumericFeature, raw: np.ndarray, imputed: np.ndarray) -> NumericParams:
    fill = None
    if feature.imputation in ("mean", "median", "mode"):
        fill = _fill_value(raw[~np.isnan(raw)], feature.imputation)
    values = imputed[~np.isnan(imputed)]
    if feature.scaling == "log1p_standard":
        values = _signed_log1p(values)
    center, scale = _scaler_params(values, feature.scaling)
    return NumericParams(name=feature.name, fill=fill, center=center, scale=scale)


def _scaler_params(values: np.ndarray, scaling: str) -> tuple[float, float]:
    """(center, scale); a zero spread becomes 1 so constant features map to 0."""
    if scaling == "none" or values.size == 0:
        return 0.0, 1.0
    if scaling in ("standard", "log1p_standard"):
        center, spread = float(values.mean()), float(values.std())
    elif scaling == "minmax":
        center, spread = float(values.min()), float(values.max() - values.min())
    else:  # robust
        q25, q50, q75 = np.percentile(values, [25, 50, 75])
        center, spread = float(q50), float(q75 - q25)
    return center, spread if spread > 0 else 1.0


def _fit_categorical(column: pd.Series, feature: CategoricalFeature) -> CategoricalParams:
    if feature.encoding == "ordinal":
        codes = _ordinal_codes(column, feature.order)
        present = codes[~np.isnan(codes)]
        fill = float(np.median(present)) if present.size else 0.0
        return CategoricalParams(name=feature.name, levels=feature.order, fill=fill)
    counts = _as_levels(column).value_counts()
    counts = counts[counts / len(column) >= feature.min_level_share]
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    levels = tuple(level for level, _ in ranked[: feature.max_levels] if level != OTHER_LEVEL)
    return CategoricalParams(name=feature.name, levels=levels)


def _fit_pca(matrix: np.ndarray, columns: tuple[str, ...], spec: PipelineSpec) -> PcaParams:
    if np.isnan(matrix).any():
        raise FeatureSpecError(
            "PCA needs complete values: a feature with imputation 'none' has gaps"
        )
    n_components = spec.pca_components or 1
    if n_components > min(matrix.shape):
        raise FeatureSpecError(f"pca_components={n_components} exceeds the matrix shape")
    pca = PCA(n_components=n_components, svd_solver="full").fit(matrix)
    return PcaParams(
        input_columns=columns,
        mean=tuple(pca.mean_.tolist()),
        components=tuple(tuple(row) for row in pca.components_.tolist()),
        explained_variance=tuple(pca.explained_variance_.tolist()),
        explained_variance_ratio=tuple(pca.explained_variance_ratio_.tolist()),
    )


# --- applying -------------------------------------------------------------------------------


def _impute(
    raw: np.ndarray, spec: PipelineSpec, knn: KnnReference | None, *, fills: list[float | None]
) -> np.ndarray:
    imputed = raw.copy()
    knn_values = _knn_impute(raw, knn) if knn is not None else None
    for i, feature in enumerate(spec.numeric):
        missing = np.isnan(raw[:, i])
        if feature.imputation == "knn" and knn_values is not None:
            imputed[missing, i] = knn_values[missing, i]
        elif fills[i] is not None:
            imputed[missing, i] = fills[i]
    return imputed


def _knn_impute(raw: np.ndarray, knn: KnnReference) -> np.ndarray:
    """KNNImputer's rule (nan-euclidean distance, uniform mean of the k nearest donors that have
    the value; the reference column mean when no donor is comparable), written out so that a
    row's result never depends on the other rows of its chunk (BLAS could change the bits)."""
    center, scale = np.asarray(knn.center), np.asarray(knn.scale)
    reference = np.array(knn.rows, dtype=np.float64).reshape(-1, len(knn.columns))
    reference = (reference - center) / scale
    present = ~np.isnan(reference)
    fallback = np.where(
        present.any(axis=0), np.nansum(reference, axis=0) / np.maximum(present.sum(axis=0), 1), 0
    )
    result = raw.copy()
    incomplete = np.flatnonzero(np.isnan(raw).any(axis=1))
    for start in range(0, incomplete.size, KNN_BLOCK_ROWS):
        rows = incomplete[start : start + KNN_BLOCK_ROWS]
        scaled = (raw[rows] - center) / scale
        imputed = _knn_block(scaled, reference, fallback, knn.n_neighbors) * scale + center
        block = result[rows]
        gaps = np.isnan(block)
        block[gaps] = imputed[gaps]
        result[rows] = block
    return result


def _nan_euclidean(rows: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """sqrt(d / present * sum of squared differences over coordinates present in both)."""
    squares = np.zeros((len(rows), len(reference)))
    common = np.zeros((len(rows), len(reference)))
    for c in range(rows.shape[1]):  # a fixed order of elementwise sums: same bits per row
        diff = rows[:, c, None] - reference[None, :, c]
        both = ~np.isnan(diff)
        squares += np.where(both, diff * diff, 0.0)
        common += both
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.sqrt(squares * rows.shape[1] / common)
    distance[common == 0] = np.inf
    return distance


def _knn_block(
    rows: np.ndarray, reference: np.ndarray, fallback: np.ndarray, n_neighbors: int
) -> np.ndarray:
    distance = _nan_euclidean(rows, reference)
    out = rows.copy()
    for j in np.flatnonzero(np.isnan(rows).any(axis=0)):
        need = np.isnan(rows[:, j])
        donors = ~np.isnan(reference[:, j])
        if not donors.any():
            out[need, j] = fallback[j]
            continue
        candidates = distance[np.ix_(need, donors)]
        order = np.argsort(candidates, axis=1, kind="stable")[:, :n_neighbors]
        nearest = np.take_along_axis(candidates, order, axis=1)
        values = reference[donors, j][order]
        finite = np.isfinite(nearest)
        count = finite.sum(axis=1)
        total = np.where(finite, values, 0.0).sum(axis=1)
        out[need, j] = np.where(count > 0, total / np.maximum(count, 1), fallback[j])
    return out


def _numeric_columns(
    raw: np.ndarray, imputed: np.ndarray, spec: PipelineSpec, params: tuple[NumericParams, ...]
) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for i, (feature, p) in enumerate(zip(spec.numeric, params, strict=True)):
        values = imputed[:, i]
        if feature.scaling == "log1p_standard":
            values = _signed_log1p(values)
        out.append((values - p.center) / p.scale)
        if feature.missing_flag:
            out.append(np.isnan(raw[:, i]).astype(np.float64))
    return out


def _categorical_columns(
    column: pd.Series, params: CategoricalParams, encoding: str
) -> list[np.ndarray]:
    if encoding == "ordinal":
        codes = _ordinal_codes(column, params.levels)
        fill = params.fill if params.fill is not None else 0.0
        return [np.where(np.isnan(codes), fill, codes)]
    levels = _as_levels(column).to_numpy()
    known = np.isin(levels, params.levels)
    columns = [(levels == level).astype(np.float64) for level in params.levels]
    return [*columns, (~known).astype(np.float64)]


def _pre_pca_matrix(
    rows: pd.DataFrame,
    spec: PipelineSpec,
    numeric: tuple[NumericParams, ...],
    categorical: tuple[CategoricalParams, ...],
    knn: KnnReference | None,
) -> np.ndarray:
    raw = _numeric_block(rows, spec)
    imputed = _impute(raw, spec, knn, fills=[p.fill for p in numeric])
    columns = _numeric_columns(raw, imputed, spec, numeric)
    for feature, params in zip(spec.categorical, categorical, strict=True):
        columns.extend(_categorical_columns(rows[feature.name], params, feature.encoding))
    if not columns:
        return np.empty((len(rows), 0))
    return np.column_stack(columns).astype(np.float64)


def _pre_pca_columns(
    spec: PipelineSpec, categorical: tuple[CategoricalParams, ...]
) -> tuple[str, ...]:
    names: list[str] = []
    for feature in spec.numeric:
        names.append(feature.name)
        if feature.missing_flag:
            names.append(feature.name + MISSING_FLAG_SUFFIX)
    for feature, params in zip(spec.categorical, categorical, strict=True):
        if feature.encoding == "ordinal":
            names.append(feature.name)
        else:
            names.extend(f"{feature.name}={level}" for level in (*params.levels, OTHER_LEVEL))
    return tuple(names)


def _pca_columns(n: int) -> tuple[str, ...]:
    return tuple(f"{PCA_PREFIX}{i + 1}" for i in range(n))


def _as_levels(column: pd.Series) -> pd.Series:
    """Categories as strings, missing as MISSING_LEVEL."""
    return column.astype(object).where(column.notna(), MISSING_LEVEL).astype(str)


def _ordinal_codes(column: pd.Series, order: tuple[str, ...]) -> np.ndarray:
    """Position in `order` scaled to 0..1; NaN for missing or unknown values."""
    positions = {level: i / (len(order) - 1) for i, level in enumerate(order)}
    levels = _as_levels(column)
    return levels.map(positions).to_numpy(dtype=np.float64, na_value=np.nan)


# --- description ----------------------------------------------------------------------------


def _number(value: float) -> str:
    return str(round(float(value), 4))


def _describe_exclusion(spec: PipelineSpec, fitted: FittedPipeline) -> str:
    n = len(spec.feature_names)
    return (
        f"rows missing more than {100 * spec.max_missing_share:.0f}% of the {n} features are "
        f"excluded ({fitted.n_excluded} of {fitted.n_fit_rows + fitted.n_excluded} at fit)"
    )


_SCALING_WORDS = {
    "standard": "standardised",
    "minmax": "min-max scaled to 0..1",
    "robust": "robust-scaled (median, IQR)",
    "log1p_standard": "log1p then standardised",
    "none": "not scaled",
}


def _describe_numeric(feature: NumericFeature, params: NumericParams, n_neighbors: int) -> str:
    parts: list[str] = []
    if feature.imputation == "knn":
        parts.append(f"KNN imputation ({n_neighbors} neighbours)")
    elif feature.imputation == "none":
        parts.append("no imputation")
    else:
        parts.append(f"{feature.imputation} imputation ({_number(params.fill or 0.0)})")
    if feature.missing_flag:
        parts.append("missing flag")
    parts.append(_SCALING_WORDS[feature.scaling])
    return f"{feature.name}: {', '.join(parts)}"


def _describe_categorical(feature: CategoricalFeature, params: CategoricalParams) -> str:
    if feature.encoding == "ordinal":
        return f"{feature.name}: ordinal {' < '.join(params.levels)} (mapped to 0..1)"
    levels = ", ".join(params.levels) or "none"
    noun = "level" if len(params.levels) == 1 else "levels"
    return f"{feature.name}: one-hot over {len(params.levels)} {noun} ({levels}) plus other"
