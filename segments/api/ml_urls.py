"""URL map of the segments ML API (/api/segments/ml/), included by segments.api.urls."""

from __future__ import annotations

from django.urls import path

from . import ml_views as views

urlpatterns = [
    path(
        "ml/cluster-definitions/",
        views.ClusterDefinitionListCreateApi.as_view(),
        name="ml-cluster-definition-list",
    ),
    path(
        "ml/cluster-definitions/<int:definition_id>/runs/",
        views.ClusteringRunStartApi.as_view(),
        name="ml-clustering-run-start",
    ),
    path("ml/runs/<int:run_id>/", views.ModelRunDetailApi.as_view(), name="ml-run-detail"),
    path("ml/runs/<int:run_id>/clusters/", views.RunClustersApi.as_view(), name="ml-run-clusters"),
    path(
        "ml/clusters/<int:cluster_id>/rename/",
        views.ClusterRenameApi.as_view(),
        name="ml-cluster-rename",
    ),
    path(
        "ml/predictive-models/",
        views.PredictiveModelListCreateApi.as_view(),
        name="ml-predictive-model-list",
    ),
    path(
        "ml/predictive-models/<int:model_id>/runs/",
        views.ModelTrainingStartApi.as_view(),
        name="ml-training-start",
    ),
    path(
        "ml/predictive-models/<int:model_id>/score-segments/",
        views.ScoreSegmentCreateApi.as_view(),
        name="ml-score-segment-create",
    ),
    path(
        "ml/profiles/<int:profile_id>/scores/",
        views.ProfileScoresApi.as_view(),
        name="ml-profile-scores",
    ),
]
