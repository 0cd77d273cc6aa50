"""Admin UI: the CDP admin site, whose index is the home page of the signed-in user's roles."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .role_home import HOME_LINKS
from .roles import ROLE_NAMES, user_roles


class CdpAdminSite(admin.AdminSite):
    site_header = "CDP — customer data platform"
    site_title = "CDP"
    index_title = "Home"
    index_template = "admin/cdp_index.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        roles = user_roles(request.user)
        if request.user.is_superuser and not roles:
            roles = list(ROLE_NAMES)
        context = {"role_homes": [_role_home(role) for role in roles], **(extra_context or {})}
        return super().index(request, extra_context=context)


def _role_home(role: str) -> dict[str, Any]:
    links = []
    for link in HOME_LINKS[role]:
        try:
            url = reverse(link.url_name)
        except NoReverseMatch:
            continue
        links.append({"title": link.title, "url": url, "description": link.description})
    return {"role": role, "links": links}
