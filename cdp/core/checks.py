"""Core kernel: system checks — every publish-on-commit topic has a subscriber."""

from __future__ import annotations

from typing import Any

from django.core import checks

from . import jobs

# Topics that may legitimately have no subscriber yet, with the reason.
_OPTIONAL_TOPICS = {
    jobs.PROFILES_UNMERGED: "campaigns and segments re-evaluate on PROFILES_CHANGED instead",
    jobs.PROFILES_MERGED: "segments and campaigns re-evaluate on PROFILES_CHANGED instead",
}


@checks.register()
def topics_have_subscribers(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Warning(f"topic {topic} has no subscriber", id="cdp.W001")
        for topic in jobs.TOPICS
        if topic not in _OPTIONAL_TOPICS and not jobs.subscribers(topic)
    ]
