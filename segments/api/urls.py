"""URL map of the segments API (/api/segments/)."""

from __future__ import annotations

from django.urls import path

from . import members, views

app_name = "segments"
urlpatterns = [
    path("", views.SegmentListCreateApi.as_view(), name="segment-list"),
    path("preview/", views.SegmentPreviewApi.as_view(), name="segment-preview"),
    path("catalogue/", views.SegmentCatalogueApi.as_view(), name="segment-catalogue"),
    path(
        "computed-traits/",
        views.ComputedTraitListSaveApi.as_view(),
        name="computed-trait-list",
    ),
    path(
        "profiles/<int:profile_id>/memberships/",
        members.ProfileMembershipsApi.as_view(),
        name="profile-memberships",
    ),
    path("<int:segment_id>/", views.SegmentDetailApi.as_view(), name="segment-detail"),
    path("<int:segment_id>/members/", members.SegmentMembersApi.as_view(), name="segment-members"),
    path(
        "<int:segment_id>/members.csv",
        members.SegmentMembersCsvApi.as_view(),
        name="segment-members-csv",
    ),
    path("<int:segment_id>/refresh/", members.SegmentRefreshApi.as_view(), name="segment-refresh"),
    path(
        "<int:segment_id>/explain/<int:profile_id>/",
        members.SegmentExplainApi.as_view(),
        name="segment-explain",
    ),
    path("<int:segment_id>/sizes/", members.SegmentSizesApi.as_view(), name="segment-sizes"),
    path(
        "<int:segment_id>/overlap/<int:other_id>/",
        members.SegmentOverlapApi.as_view(),
        name="segment-overlap",
    ),
    path("<int:segment_id>/upload/", members.SegmentUploadApi.as_view(), name="segment-upload"),
]

from .ml_urls import urlpatterns as ml_urlpatterns  # noqa: E402  (ML API, issue 5)

urlpatterns += ml_urlpatterns
