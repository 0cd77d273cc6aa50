"""URL map of the consent API (/api/consent/)."""

from __future__ import annotations

app_name = "consent"
urlpatterns: list = []
