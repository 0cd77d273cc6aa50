"""Segments selectors: the vocabulary a rule tree may use (catalogue names with types, computed
traits, segments, purposes, identifier types), tree validation against it, and the graph of
which segment names which."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from cdp.core.errors import DomainError
from consent import public as consent_public
from profiles import public as profiles_public
from segments.compute.rule_graph import referenced_segments
from segments.compute.rule_tree import NUMBER, Vocabulary, iter_conditions, validation_issues
from segments.models import ComputedTrait, Segment

_PURPOSE_KEY = re.compile(r"^[-a-z0-9_]+$")
DEFAULT_PURPOSES = (
    "analytics",
    "personalisation",
    "email_marketing",
    "sms_marketing",
    "advertising",
    "service",
)


class InvalidRuleTreeError(DomainError):
    code = "invalid_rule_tree"
    status_code = 400


def purpose_keys() -> frozenset[str] | None:
    lister = getattr(consent_public, "purposes_active", None)
    if lister is None:  # consent.public does not list purposes: keys are checked for shape only
        return None
    return frozenset(lister().values_list("key", flat=True))


def vocabulary_build(*, exclude_segment_id: int | None = None) -> Vocabulary:
    """What a rule tree may name now: catalogue names with types, built-in and custom computed
    traits, segments (not archived), purposes and identifier types. Four small queries."""
    catalogue = profiles_public.catalogue()
    computed = dict(profiles_public.builtin_trait_types())
    computed.update(dict.fromkeys(ComputedTrait.objects.values_list("key", flat=True), NUMBER))
    segments = Segment.objects.filter(is_archived=False)
    if exclude_segment_id is not None:
        segments = segments.exclude(pk=exclude_segment_id)
    return Vocabulary(
        traits=catalogue.traits,
        computed=computed,
        events=frozenset(catalogue.events),
        properties=catalogue.properties,
        segments=frozenset(segments.values_list("pk", flat=True)),
        purposes=purpose_keys() or frozenset(),
        identifiers=frozenset(profiles_public.IDENTIFIER_TYPES),
    )


def _issues(tree: Any, vocabulary: Vocabulary) -> list[dict[str, str]]:
    if not vocabulary.purposes:  # consent does not list purposes: accept well-formed keys
        named = {
            str(node.get("purpose", ""))
            for _, node in iter_conditions(tree)
            if node.get("type") == "consent"
        }
        vocabulary = replace(
            vocabulary, purposes=frozenset(key for key in named if _PURPOSE_KEY.match(key))
        )
    issues = validation_issues(tree, vocabulary)
    return [{"path": issue.path, "code": issue.code, "message": issue.message} for issue in issues]


def rule_tree_check(*, tree: Any, segment_id: int | None = None) -> None:
    """Raise InvalidRuleTreeError (details.issues: path, code, message) unless `tree` is valid.
    A segment may not name itself (`segment_id`)."""
    issues = _issues(tree, vocabulary_build(exclude_segment_id=segment_id))
    if issues:
        raise InvalidRuleTreeError(
            "The rule tree is not valid: " + "; ".join(i["message"] for i in issues),
            details={"issues": issues},
        )


def dependency_graph() -> dict[int, set[int]]:
    """segment id -> ids of the segments its rule tree names (all segments: one query)."""
    return {
        pk: referenced_segments(tree)
        for pk, tree in Segment.objects.values_list("pk", "rule_tree").order_by("pk")
    }


def realtime_segment_ids() -> set[int]:
    return set(
        Segment.objects.filter(is_realtime=True, is_archived=False).values_list("pk", flat=True)
    )
