"""URL map of the Segment-compatible tracking API (/v1/)."""

from __future__ import annotations

from django.urls import path

from . import tracking

app_name = "tracking"
urlpatterns = [
    path("batch", tracking.BatchApi.as_view(), name="batch"),
    path("identify", tracking.IdentifyApi.as_view(), name="identify"),
    path("track", tracking.TrackApi.as_view(), name="track"),
    path("page", tracking.PageApi.as_view(), name="page"),
    path("screen", tracking.ScreenApi.as_view(), name="screen"),
    path("group", tracking.GroupApi.as_view(), name="group"),
    path("alias", tracking.AliasApi.as_view(), name="alias"),
]
