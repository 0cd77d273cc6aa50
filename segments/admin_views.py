"""Admin UI pages beyond ModelAdmin: the segment builder — compose a rule tree with dropdowns
from what the data holds, watch the count change, save, see size over time, overlap and
freshness, export members. Thin: the page's data comes from selectors; it talks to the
segments API (session auth) for previews and saves."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from cdp.core.roles import MANAGE_SEGMENTS, has_capability
from segments.models import Segment
from segments.selectors.builder import builder_catalogue, freshness
from segments.selectors.membership import segment_size_series

EMPTY_TREE: dict[str, Any] = {"all": []}


def size_chart(segment: Segment) -> dict[str, Any]:
    """Chart.js config of a segment's size after each refresh."""
    points = segment_size_series(segment_id=segment.pk)
    return {
        "type": "line",
        "data": {
            "labels": [point.measured_at.strftime("%Y-%m-%d %H:%M") for point in points],
            "datasets": [
                {
                    "label": "members",
                    "data": [point.size for point in points],
                    "borderColor": "#417690",
                    "tension": 0.2,
                }
            ],
        },
        "options": {
            "plugins": {"legend": {"display": False}},
            "scales": {"y": {"beginAtZero": True}},
        },
    }


def segment_builder(request: HttpRequest, segment_id: int | None = None) -> HttpResponse:
    """The builder for a new segment, or for editing `segment_id`."""
    if not has_capability(request.user, MANAGE_SEGMENTS):
        raise PermissionDenied
    segment = get_object_or_404(Segment, pk=segment_id) if segment_id is not None else None
    others = Segment.objects.filter(is_archived=False).exclude(pk=segment_id).order_by("name")
    context = {
        **admin.site.each_context(request),
        "title": f"Segment builder: {segment.name}" if segment else "Segment builder",
        "segment": segment,
        "freshness": freshness(segment) if segment else None,
        "builder": {
            "segment_id": segment.pk if segment else None,
            "tree": segment.rule_tree if segment else EMPTY_TREE,
            "catalogue": builder_catalogue(),
            "urls": {
                "preview": reverse("segments:segment-preview"),
                "create": reverse("segments:segment-list"),
                "detail": reverse("segments:segment-detail", args=[segment.pk]) if segment else "",
                "edit_pattern": reverse("admin:segments_segment_edit", args=[0]),
                "overlap_pattern": (
                    reverse("segments:segment-overlap", args=[segment.pk, 0]) if segment else ""
                ),
            },
        },
        "chart": size_chart(segment) if segment else None,
        "others": others,
        "kinds": Segment.Kind.choices,
        "opts": Segment._meta,
    }
    return TemplateResponse(request, "admin/segments/builder.html", context)
