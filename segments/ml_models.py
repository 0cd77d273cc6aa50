"""Segments models (ML): cluster definitions and their runs, clusters, assignments, predictive
models, per-profile scores and the segments made from scores. Imported by segments.models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cdp.core.models import TimeStampedModel

DEFAULT_DRIFT_THRESHOLD = 0.10


class ClusterDefinition(TimeStampedModel):
    """What to cluster and how: the feature pipeline spec (segments.compute.features), the
    algorithm and its settings. Its runs are ModelRun rows; `active_run` is the model in use,
    against which new and changed profiles are re-scored and drift is measured."""

    class Algorithm(models.TextChoices):
        KMEANS = "kmeans", "K-Means"
        MINIBATCH = "minibatch", "Mini-Batch K-Means (large bases)"
        AGGLOMERATIVE = "agglomerative", "Agglomerative (Ward, on a sample)"
        DBSCAN = "dbscan", "DBSCAN (density, on a sample)"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    algorithm = models.CharField(max_length=15, choices=Algorithm.choices, default=Algorithm.KMEANS)
    spec = models.JSONField(default=dict, help_text="PipelineSpec as JSON (features and steps)")
    k = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: choose k from the elbow and silhouette."
    )
    k_min = models.PositiveSmallIntegerField(default=2)
    k_max = models.PositiveSmallIntegerField(default=8)
    eps = models.FloatField(null=True, blank=True, help_text="DBSCAN only; empty: k-distance knee")
    min_samples = models.PositiveSmallIntegerField(default=10, help_text="DBSCAN only")
    random_state = models.IntegerField(default=0)
    sample_size = models.PositiveIntegerField(
        default=20_000, help_text="Rows for silhouette, Ward, DBSCAN and pictures"
    )
    stability_boots = models.PositiveSmallIntegerField(default=8)
    drift_threshold = models.FloatField(
        default=DEFAULT_DRIFT_THRESHOLD,
        help_text="Retrain when a centroid moves more than this share of the centroid spacing",
    )
    is_dynamic = models.BooleanField(
        default=True, help_text="Re-score new and changed profiles and check drift on schedule"
    )
    materialise_segments = models.BooleanField(
        default=True, help_text="Keep one segment per cluster with the current members"
    )
    active_run = models.ForeignKey(
        "segments.ModelRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rescored_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(k_min__gte=2) & Q(k_max__gte=models.F("k_min")),
                name="segments_clusterdef_k_range",
            ),
            models.CheckConstraint(
                condition=Q(drift_threshold__gt=0), name="segments_clusterdef_drift_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PredictiveModel(TimeStampedModel):
    """A churn, purchase-propensity or lifetime-value model: what it predicts and how it is
    trained. Its trainings are ModelRun rows; scores are ProfileScore rows."""

    class Target(models.TextChoices):
        CHURN = "churn", "Churn (no order in the next N days)"
        PURCHASE = "purchase", "Purchase propensity (an order in the next N days)"
        CLV = "clv", "Predicted lifetime value (BG/NBD + Gamma-Gamma)"

    name = models.CharField(max_length=200, unique=True)
    target = models.CharField(max_length=10, choices=Target.choices)
    horizon_days = models.PositiveSmallIntegerField(
        default=90, help_text="Churn/purchase: the outcome window after the cutoff"
    )
    algorithms = models.JSONField(
        default=list, blank=True, help_text="Subset of logistic, tree, gbm (empty: all three)"
    )
    n_splits = models.PositiveSmallIntegerField(default=5)
    random_state = models.IntegerField(default=0)
    clv_months = models.PositiveSmallIntegerField(default=12)
    clv_discount_monthly = models.FloatField(default=0.01)
    is_active = models.BooleanField(default=True, help_text="Retrained and re-scored on schedule")
    active_run = models.ForeignKey(
        "segments.ModelRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1) & Q(n_splits__gte=2),
                name="segments_predictive_settings",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ModelRun(TimeStampedModel):
    """One clustering or training job and the model it produced: the progress row the UI
    polls, the spec it ran with, the fitted parameters (JSON, no personal data), metrics, the
    scikit-learn version and, for tree models, the artefact file (path + sha256)."""

    class Kind(models.TextChoices):
        CLUSTERING = "clustering", "Clustering"
        PREDICTIVE = "predictive", "Predictive model training"
        CLV = "clv", "Lifetime value fit"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Started by a user"
        SCHEDULE = "schedule", "Scheduled retrain"
        DRIFT = "drift", "Drift over the threshold"
        COMMAND = "command", "Management command"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    definition = models.ForeignKey(
        ClusterDefinition, null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    predictive_model = models.ForeignKey(
        PredictiveModel, null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    stage = models.CharField(max_length=200, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=100)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    spec = models.JSONField(default=dict, blank=True)
    pipeline = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    diagnostics = models.JSONField(default=dict, blank=True)
    sklearn_version = models.CharField(max_length=20, blank=True)
    artefact = models.CharField(max_length=300, blank=True)
    artefact_sha256 = models.CharField(max_length=64, blank=True)
    n_rows = models.PositiveIntegerField(default=0)
    previous_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "clustering or model run"
        verbose_name_plural = "clustering and model runs"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="clustering", definition__isnull=False, predictive_model__isnull=True)
                    | (
                        ~Q(kind="clustering")
                        & Q(definition__isnull=True, predictive_model__isnull=False)
                    )
                ),
                name="segments_modelrun_one_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "heartbeat_at"], name="segments_modelrun_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


class Cluster(models.Model):
    """One cluster of a clustering run: its size, profile against the overall means, business
    KPIs, readable name (which the marketer may change) and the segment that holds its members."""

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="clusters")
    index = models.IntegerField(help_text="Label in the model (-1: DBSCAN noise)")
    name = models.CharField(max_length=200)
    auto_name = models.CharField(max_length=200)
    is_renamed = models.BooleanField(default=False)
    size = models.PositiveIntegerField(default=0)
    share = models.FloatField(default=0.0)
    profile = models.JSONField(default=dict, blank=True)
    kpis = models.JSONField(default=dict, blank=True)
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="segments_cluster_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ClusterAssignment(models.Model):
    """The current cluster of one profile under one definition (re-scoring overwrites it)."""

    id = models.BigAutoField(primary_key=True)
    definition = models.ForeignKey(
        ClusterDefinition, on_delete=models.CASCADE, related_name="assignments"
    )
    profile = models.ForeignKey("profiles.Profile", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="+")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="assignments")
    distance = models.FloatField(null=True, blank=True)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "profile"], name="segments_assignment_one_per_profile"
            ),
        ]
        indexes = [
            models.Index(fields=["cluster", "profile"], name="segments_assignment_cluster"),
            models.Index(fields=["profile"], name="segments_assignment_profile"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} in cluster {self.cluster_id}"


class ProfileScore(models.Model):
    """The latest score of one profile by one predictive model: churn or purchase probability,
    or predicted CLV (with P(alive) and expected purchases). `decile` 1 = the top tenth."""

    id = models.BigAutoField(primary_key=True)
    model = models.ForeignKey(PredictiveModel, on_delete=models.CASCADE, related_name="scores")
    profile = models.ForeignKey("profiles.Profile", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    decile = models.PositiveSmallIntegerField()
    probability_alive = models.FloatField(null=True, blank=True)
    expected_purchases = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "profile"], name="segments_score_unique"),
            models.CheckConstraint(
                condition=Q(decile__gte=1, decile__lte=10), name="segments_score_decile_range"
            ),
        ]
        indexes = [
            models.Index(fields=["model", "decile", "profile"], name="segments_score_decile"),
            models.Index(fields=["model", "score"], name="segments_score_value"),
            models.Index(fields=["profile"], name="segments_score_profile"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id}: {self.score:.3f} by {self.model_id}"


class ScoreSegment(TimeStampedModel):
    """A segment made from a model's scores — the top `top_deciles` tenths, and/or a score
    threshold — whose members are rewritten each time the model scores."""

    model = models.ForeignKey(
        PredictiveModel, on_delete=models.CASCADE, related_name="score_segments"
    )
    segment = models.OneToOneField("segments.Segment", on_delete=models.CASCADE, related_name="+")
    top_deciles = models.PositiveSmallIntegerField(null=True, blank=True)
    min_score = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["model", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(top_deciles__isnull=False) | Q(min_score__isnull=False),
                name="segments_scoresegment_has_rule",
            ),
            models.CheckConstraint(
                condition=Q(top_deciles__isnull=True) | Q(top_deciles__gte=1, top_deciles__lte=10),
                name="segments_scoresegment_deciles",
            ),
        ]

    def __str__(self) -> str:
        return f"segment {self.segment_id} from model {self.model_id}"


__all__ = [
    "Cluster",
    "ClusterAssignment",
    "ClusterDefinition",
    "ModelRun",
    "PredictiveModel",
    "ProfileScore",
    "ScoreSegment",
]
