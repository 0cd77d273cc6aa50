"""Template tags: the segments section of the admin profile page — memberships with history and
"explain" (why the profile is in or out of a chosen segment, condition by condition).

The profiles page includes it with `{% load segments_profile %}{% profile_segments profile_id %}`:
profiles cannot import segments, so the section comes in through the template layer."""

from __future__ import annotations

from typing import Any

from django import template

from cdp.core.roles import VIEW_PII, has_capability
from segments.models import Segment
from segments.selectors.explain import explain
from segments.selectors.membership import profile_memberships_qs

register = template.Library()


@register.inclusion_tag("admin/segments/profile_segments.html", takes_context=True)
def profile_segments(context: dict[str, Any], profile_id: int) -> dict[str, Any]:
    """Memberships (current first, then history) and, with ?explain=<segment id>, the verdict."""
    request = context["request"]
    stays = list(profile_memberships_qs(profile_id=profile_id)[:200])
    chosen = request.GET.get("explain", "")
    explanation = None
    segment = None
    if chosen.isdigit():
        segment = Segment.objects.filter(pk=int(chosen)).first()
    if segment is not None and segment.rule_tree:
        explanation = explain(
            tree=segment.rule_tree,
            profile_id=profile_id,
            segment_id=segment.pk,
            can_view_pii=has_capability(request.user, VIEW_PII),
        )
    return {
        "profile_id": profile_id,
        "current": [stay for stay in stays if stay.exited_at is None],
        "history": [stay for stay in stays if stay.exited_at is not None],
        "segments": Segment.objects.filter(is_archived=False).order_by("name").only("pk", "name"),
        "explained": segment,
        "explanation": explanation,
    }
