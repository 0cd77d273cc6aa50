"""URL map of the campaigns public pages (unsubscribe, preferences), mounted at the root."""

from __future__ import annotations

from django.urls import path

from . import pages

app_name = "campaigns-public"
urlpatterns = [
    path("u/<str:token>/", pages.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", pages.preferences, name="preferences"),
]
