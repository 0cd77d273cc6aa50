"""Segments services (ML): create and change cluster definitions and predictive models,
rename clusters, and make segments from a model's scores — validated, audited writes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import ConflictError, InvalidInputError, NotFoundError
from segments.compute.features import FeatureSpecError, PipelineSpec
from segments.compute.prediction import MODELS
from segments.models import Cluster, ClusterDefinition, PredictiveModel, ScoreSegment
from segments.selectors.ml_features import UnknownFeatureError, feature_source

from .materialise import ml_segment_create, ml_segment_fill, ml_segment_rename, score_candidates

# KNN imputation keeps a reference sample of real customers' feature rows in the stored model:
# kept small, numbers only (no identifiers, no profile ids; identifying traits are refused).
MAX_KNN_REFERENCE = 2_000


@dataclass(frozen=True, kw_only=True)
class ClusterDefinitionInput:
    name: str
    spec: dict[str, Any]
    algorithm: str = ClusterDefinition.Algorithm.KMEANS
    description: str = ""
    k: int | None = None
    k_min: int = 2
    k_max: int = 8
    eps: float | None = None
    min_samples: int = 10
    random_state: int = 0
    sample_size: int = 20_000
    stability_boots: int = 8
    drift_threshold: float = 0.10
    is_dynamic: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def spec_check(spec: dict[str, Any]) -> PipelineSpec:
    """The validated PipelineSpec of a JSON spec. Raises InvalidInputError naming the problem:
    unknown fields or steps, unknown or identifying features. A KNN reference sample is capped
    at MAX_KNN_REFERENCE rows."""
    try:
        parsed = PipelineSpec.from_dict(spec)
        feature_source(parsed.feature_names)
    except (FeatureSpecError, UnknownFeatureError, TypeError, KeyError) as exc:
        raise InvalidInputError(f"Invalid feature spec: {exc}", details={"spec": str(exc)}) from exc
    uses_knn = any(feature.imputation == "knn" for feature in parsed.numeric)
    if uses_knn and parsed.knn_reference_size > MAX_KNN_REFERENCE:
        return replace(parsed, knn_reference_size=MAX_KNN_REFERENCE)
    return parsed


def _check_definition(data: ClusterDefinitionInput) -> PipelineSpec:
    if data.algorithm not in ClusterDefinition.Algorithm.values:
        raise InvalidInputError(f"Unknown algorithm {data.algorithm!r}.")
    if not 2 <= data.k_min <= data.k_max or (data.k is not None and data.k < 2):
        raise InvalidInputError("Need 2 <= k_min <= k_max, and k >= 2 when given.")
    if data.drift_threshold <= 0:
        raise InvalidInputError("drift_threshold must be positive.")
    return spec_check(data.spec)


def _fields(data: ClusterDefinitionInput, spec: PipelineSpec) -> dict[str, Any]:
    return {
        "name": data.name,
        "description": data.description,
        "algorithm": data.algorithm,
        "spec": spec.to_dict(),
        "k": data.k,
        "k_min": data.k_min,
        "k_max": data.k_max,
        "eps": data.eps,
        "min_samples": data.min_samples,
        "random_state": data.random_state,
        "sample_size": data.sample_size,
        "stability_boots": data.stability_boots,
        "drift_threshold": data.drift_threshold,
        "is_dynamic": data.is_dynamic,
    }


@transaction.atomic
def cluster_definition_create(*, data: ClusterDefinitionInput, actor: Actor) -> ClusterDefinition:
    """Create a cluster definition (no run yet). Raises InvalidInputError, ConflictError."""
    spec = _check_definition(data)
    if ClusterDefinition.objects.filter(name=data.name).exists():
        raise ConflictError(f"A clustering named {data.name!r} exists.")
    definition = ClusterDefinition.objects.create(
        **_fields(data, spec), created_by_id=actor.user_id
    )
    audit_record(
        actor=actor,
        action="segments.cluster_definition.create",
        target=definition,
        details={"features": list(spec.feature_names), "algorithm": data.algorithm},
    )
    return definition


@transaction.atomic
def cluster_definition_update(
    *, definition_id: int, data: ClusterDefinitionInput, actor: Actor
) -> ClusterDefinition:
    """Change a definition; the active model stays until the next run. Raises NotFoundError,
    InvalidInputError, ConflictError. Idempotent."""
    definition = ClusterDefinition.objects.select_for_update().filter(pk=definition_id).first()
    if definition is None:
        raise NotFoundError(f"No cluster definition with id {definition_id}.")
    spec = _check_definition(data)
    if ClusterDefinition.objects.filter(name=data.name).exclude(pk=definition_id).exists():
        raise ConflictError(f"A clustering named {data.name!r} exists.")
    for name, value in _fields(data, spec).items():
        setattr(definition, name, value)
    definition.save()
    audit_record(actor=actor, action="segments.cluster_definition.update", target=definition)
    return definition


@transaction.atomic
def cluster_rename(*, cluster_id: int, name: str, actor: Actor) -> Cluster:
    """Give a cluster the marketer's name (kept through retrains for the cluster that continues
    it) and rename its segment. Raises NotFoundError, InvalidInputError. Idempotent."""
    name = name.strip()
    if not name or len(name) > 150:
        raise InvalidInputError("A cluster name has 1 to 150 characters.")
    cluster = (
        # Lock only the cluster row: run/definition can be a nullable outer join, which
        # PostgreSQL refuses to lock; and the model's ordering joins the run, so clear it.
        Cluster.objects.select_for_update(of=("self",))
        .select_related("run__definition")
        .filter(pk=cluster_id)
        .order_by()
        .first()
    )
    if cluster is None:
        raise NotFoundError(f"No cluster with id {cluster_id}.")
    previous = cluster.name
    cluster.name, cluster.is_renamed = name, True
    cluster.save(update_fields=["name", "is_renamed"])
    if cluster.segment_id:
        definition = cluster.run.definition
        title = f"{definition.name}: {name}" if definition else name
        ml_segment_rename(segment_id=cluster.segment_id, name=title)
    audit_record(
        actor=actor,
        action="segments.cluster.rename",
        target=cluster,
        details={"from": previous, "to": name},
    )
    return cluster


@dataclass(frozen=True, kw_only=True)
class PredictiveModelInput:
    name: str
    target: str
    horizon_days: int = 90
    algorithms: tuple[str, ...] = ()
    n_splits: int = 5
    random_state: int = 0
    clv_months: int = 12
    clv_discount_monthly: float = 0.01


@transaction.atomic
def predictive_model_create(*, data: PredictiveModelInput, actor: Actor) -> PredictiveModel:
    """Create a churn, purchase or CLV model (trained by a run). Raises InvalidInputError,
    ConflictError."""
    if data.target not in PredictiveModel.Target.values:
        raise InvalidInputError(f"Unknown target {data.target!r}.")
    unknown = sorted(set(data.algorithms) - set(MODELS))
    if unknown or data.horizon_days < 1 or data.n_splits < 2:
        raise InvalidInputError(
            f"Algorithms are {', '.join(MODELS)}; horizon_days >= 1; n_splits >= 2."
        )
    if PredictiveModel.objects.filter(name=data.name).exists():
        raise ConflictError(f"A model named {data.name!r} exists.")
    model = PredictiveModel.objects.create(
        name=data.name,
        target=data.target,
        horizon_days=data.horizon_days,
        algorithms=list(data.algorithms),
        n_splits=data.n_splits,
        random_state=data.random_state,
        clv_months=data.clv_months,
        clv_discount_monthly=data.clv_discount_monthly,
        created_by_id=actor.user_id,
    )
    audit_record(actor=actor, action="segments.predictive_model.create", target=model)
    return model


@transaction.atomic
def predictive_model_update(
    *,
    model_id: int,
    is_active: bool,
    horizon_days: int,
    algorithms: tuple[str, ...],
    actor: Actor,
) -> PredictiveModel:
    """Change what the next training uses and whether the schedules train and score the model.
    Raises NotFoundError, InvalidInputError. Idempotent."""
    model = PredictiveModel.objects.select_for_update().filter(pk=model_id).first()
    if model is None:
        raise NotFoundError(f"No predictive model with id {model_id}.")
    if sorted(set(algorithms) - set(MODELS)) or horizon_days < 1:
        raise InvalidInputError(f"Algorithms are {', '.join(MODELS)}; horizon_days >= 1.")
    model.is_active, model.horizon_days, model.algorithms = (
        is_active,
        horizon_days,
        list(algorithms),
    )
    model.save(update_fields=["is_active", "horizon_days", "algorithms", "updated_at"])
    audit_record(actor=actor, action="segments.predictive_model.update", target=model)
    return model


@transaction.atomic
def score_segment_create(
    *,
    model_id: int,
    name: str,
    actor: Actor,
    top_deciles: int | None = None,
    min_score: float | None = None,
) -> ScoreSegment:
    """A segment of the profiles in a model's top `top_deciles` tenths and/or with a score of
    at least `min_score` (e.g. "churn risk: top decile"), filled now from the latest scores and
    again at every scoring. Raises NotFoundError, InvalidInputError."""
    model = PredictiveModel.objects.filter(pk=model_id).first()
    if model is None:
        raise NotFoundError(f"No predictive model with id {model_id}.")
    if top_deciles is None and min_score is None:
        raise InvalidInputError("Give top_deciles (1-10) or min_score.")
    if top_deciles is not None and not 1 <= top_deciles <= 10:
        raise InvalidInputError("top_deciles is between 1 and 10.")
    segment = ml_segment_create(
        name=name.strip() or f"{model.name}: top {top_deciles}0%",
        description=f"Profiles by the scores of model '{model.name}'.",
    )
    band = ScoreSegment.objects.create(
        model=model, segment=segment, top_deciles=top_deciles, min_score=min_score
    )
    ml_segment_fill(segment_id=segment.pk, candidates=score_candidates(band), now=timezone.now())
    segment.refresh_from_db()
    audit_record(
        actor=actor,
        action="segments.score_segment.create",
        target=band,
        details={"model_id": model_id, "top_deciles": top_deciles, "min_score": min_score},
    )
    return band
