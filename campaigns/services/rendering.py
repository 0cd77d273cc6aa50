"""Campaigns services: render a variant's message for one person — Django templates over
golden traits (HTML autoescaped), the matched offer block, recommendations, and the
unsubscribe/preference links — and validate templates before they are saved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils.safestring import SafeString, mark_safe

from campaigns.compute.offers import OfferRule, match_offer
from campaigns.models import Campaign, ContentBlock, Variant
from cdp.core.errors import InvalidInputError

from .tokens import preferences_url, token_make, unsubscribe_url


class _SandboxEngine(Engine):
    """Built-in tags and filters only: no loader tags (include/extends), no {% load %}-able
    libraries and no template directories, so a marketer's template cannot read files."""

    default_builtins = ["django.template.defaulttags", "django.template.defaultfilters"]


_ENGINE = _SandboxEngine(dirs=[], app_dirs=False, libraries={}, autoescape=True, debug=False)

TEXT_FOOTER = "\n\n--\nUnsubscribe: {unsubscribe}\nManage your preferences: {preferences}\n"
HTML_FOOTER = (
    '<hr><p style="font-size:12px;color:#666"><a href="{unsubscribe}">Unsubscribe</a> · '
    '<a href="{preferences}">Manage your preferences</a></p>'
)


@dataclass(frozen=True, kw_only=True)
class Person:
    """What a message may say about its recipient: golden traits, order features (for
    offers) and recommendations."""

    profile_id: int
    traits: Mapping[str, Any]
    features: Mapping[str, Any] = field(default_factory=dict)
    recommendations: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True, kw_only=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    offer_key: str | None
    unsubscribe_url: str
    preferences_url: str


def template_compile(source: str, *, field_name: str) -> Template:
    """Compile a marketer's template. Raises InvalidInputError naming the field."""
    try:
        return _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise InvalidInputError(
            f"{field_name}: {exc}", details={"field": field_name, "error": str(exc)}
        ) from exc


def offer_rules(blocks: Sequence[ContentBlock]) -> list[OfferRule]:
    return [
        OfferRule(
            block_key=block.key,
            priority=block.priority,
            conditions=[tuple(condition) for condition in block.conditions],
        )
        for block in blocks
    ]


class MessageRenderer:
    """Renders messages of many people, compiling each template once."""

    def __init__(self, blocks: Sequence[ContentBlock]) -> None:
        self._blocks = {block.key: block for block in blocks}
        self._rules = offer_rules(blocks)
        self._compiled: dict[tuple[str, str], Template] = {}

    def _template(self, key: str, source: str) -> Template:
        cache_key = (key, source)
        if cache_key not in self._compiled:
            self._compiled[cache_key] = template_compile(source, field_name=key)
        return self._compiled[cache_key]

    def _render(self, key: str, source: str, context: dict[str, Any], *, html: bool) -> str:
        if not source:
            return ""
        return self._template(key, source).render(Context(context, autoescape=html))

    def render(
        self, *, campaign: Campaign, variant: Variant | None, person: Person, delivery_id: str
    ) -> RenderedMessage:
        """Render subject, text and HTML of `variant` for `person` (variant None: links only)."""
        token = token_make(
            profile_id=person.profile_id, campaign_id=campaign.pk, delivery_id=delivery_id
        )
        links = {"unsubscribe": unsubscribe_url(token), "preferences": preferences_url(token)}
        offer_key = match_offer({**person.traits, **person.features}, self._rules)
        context: dict[str, Any] = {
            "profile": dict(person.traits),
            "features": dict(person.features),
            "recommendations": [dict(item) for item in person.recommendations],
            "campaign": {"id": campaign.pk, "name": campaign.name},
            "variant": variant.key if variant else "",
            "unsubscribe_url": links["unsubscribe"],
            "preferences_url": links["preferences"],
        }
        if variant is None:
            return RenderedMessage(
                subject="",
                text="",
                html="",
                offer_key=offer_key,
                unsubscribe_url=links["unsubscribe"],
                preferences_url=links["preferences"],
            )
        plain = self._with_offer(context, offer_key, html=False)
        text = self._render("body_text", variant.body_text, plain, html=False)
        subject = self._render("subject", variant.subject, plain, html=False)
        html = ""
        if variant.body_html:
            rich = self._with_offer(context, offer_key, html=True)
            html = self._render("body_html", variant.body_html, rich, html=True)
        return RenderedMessage(
            subject=" ".join(subject.split())[:300],  # one line: no header injection
            text=text + TEXT_FOOTER.format(**links),
            html=html + HTML_FOOTER.format(**links) if html else "",
            offer_key=offer_key,
            unsubscribe_url=links["unsubscribe"],
            preferences_url=links["preferences"],
        )

    def _with_offer(
        self, context: dict[str, Any], offer_key: str | None, *, html: bool
    ) -> dict[str, Any]:
        block = self._blocks.get(offer_key or "")
        if block is None:
            return {**context, "offer": ""}
        rendered = self._render(f"block:{block.key}", block.body, context, html=html)
        offer: str | SafeString = mark_safe(rendered) if html else rendered  # noqa: S308 (escaped when rendered)
        return {**context, "offer": offer}
