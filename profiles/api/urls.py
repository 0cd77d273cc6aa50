"""URL map of the profiles management API (/api/)."""

from __future__ import annotations

from django.urls import path

from . import views

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
]
