"""URL map of the profiles management API (/api/)."""

from __future__ import annotations

from django.urls import path

from . import identity_views, views

app_name = "profiles"
urlpatterns = [
    path("profiles/", views.ProfileListApi.as_view(), name="profile-list"),
    path("profiles/<int:profile_id>/", views.ProfileDetailApi.as_view(), name="profile-detail"),
    path(
        "profiles/<int:profile_id>/events/",
        views.ProfileTimelineApi.as_view(),
        name="profile-timeline",
    ),
    path("sources/", views.SourceListCreateApi.as_view(), name="source-list"),
    path(
        "sources/<int:source_id>/rotate-key",
        views.SourceRotateKeyApi.as_view(),
        name="source-rotate-key",
    ),
    path(
        "sources/<int:source_id>/revoke-key",
        views.SourceRevokeKeyApi.as_view(),
        name="source-revoke-key",
    ),
    path("imports/", views.ImportCreateApi.as_view(), name="import-create"),
    path("imports/<int:import_run_id>/", views.ImportDetailApi.as_view(), name="import-detail"),
    path("quarantine/", views.QuarantineListApi.as_view(), name="quarantine-list"),
    path(
        "quarantine/<int:record_id>/replay",
        views.QuarantineReplayApi.as_view(),
        name="quarantine-replay",
    ),
    # Identity resolution, tracking plans and data quality.
    path("matches/", identity_views.MatchCandidateListApi.as_view(), name="match-list"),
    path(
        "matches/<int:candidate_id>/",
        identity_views.MatchCandidateDetailApi.as_view(),
        name="match-detail",
    ),
    path(
        "matches/<int:candidate_id>/accept",
        identity_views.MatchCandidateAcceptApi.as_view(),
        name="match-accept",
    ),
    path(
        "matches/<int:candidate_id>/reject",
        identity_views.MatchCandidateRejectApi.as_view(),
        name="match-reject",
    ),
    path(
        "profiles/<int:profile_id>/merges/",
        identity_views.ProfileMergesApi.as_view(),
        name="profile-merges",
    ),
    path("merges/<int:merge_id>/unmerge", identity_views.MergeUndoApi.as_view(), name="unmerge"),
    path(
        "resolution-runs/",
        identity_views.ResolutionRunListCreateApi.as_view(),
        name="resolution-run-list",
    ),
    path(
        "resolution-runs/<int:run_id>/",
        identity_views.ResolutionRunDetailApi.as_view(),
        name="resolution-run-detail",
    ),
    path(
        "sources/<int:source_id>/tracking-plan",
        identity_views.TrackingPlanApi.as_view(),
        name="tracking-plan",
    ),
    path(
        "tracking-violations/",
        identity_views.TrackingViolationListApi.as_view(),
        name="tracking-violation-list",
    ),
    path(
        "sources/<int:source_id>/quality",
        identity_views.QualityReportApi.as_view(),
        name="quality-report",
    ),
]
