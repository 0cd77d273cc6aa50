"""URL map: admin UI, Segment-compatible tracking API (/v1), management API (/api), health."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cdp.core.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("v1/", include("profiles.api.tracking_urls")),
    path("api/", include("profiles.api.urls")),
    path("api/consent/", include("consent.api.urls")),
    path("api/segments/", include("segments.api.urls")),
    path("api/campaigns/", include("campaigns.api.urls")),
    # Public recipient pages (unsubscribe, preferences): no login, signed tokens.
    path("", include("campaigns.api.page_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
