"""Fixtures of the campaigns suite: people made through the real ingestion pipeline, and
campaigns made through the services. Each fixture returns a builder."""

from __future__ import annotations

import importlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.apps import apps as django_apps

import pytest

from campaigns.models import Campaign
from campaigns.services.definitions import VariantSpec, campaign_create
from campaigns.services.lifecycle import campaign_launch
from cdp.core.actor import Actor
from profiles.models import Identifier
from profiles.services.ingest import events_ingest
from segments.models import Segment
from segments.services.refresh import segment_upload_members

ACTOR = Actor(user_id=None, label="test")
_messages = itertools.count(1)


@pytest.fixture
def ingest(source_and_key, django_capture_on_commit_callbacks) -> Callable[..., None]:
    """Ingest Segment-spec messages and run processing (and everything it triggers)."""
    source, _ = source_and_key

    def run(*messages: dict[str, Any]) -> None:
        stamped = [{"messageId": f"m{next(_messages)}", **message} for message in messages]
        with django_capture_on_commit_callbacks(execute=True):
            events_ingest(source_id=source.pk, messages=stamped)

    return run


@pytest.fixture
def person(ingest) -> Callable[..., int]:
    """A person with an email address and (by default) email-marketing consent; returns the
    profile id."""

    def make(
        user_id: str,
        *,
        email: str | None = None,
        email_consent: bool | None = True,
        consents: dict[str, bool] | None = None,
        traits: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> int:
        message: dict[str, Any] = {
            "type": "identify",
            "userId": user_id,
            "traits": {"email": email or f"{user_id}@example.com", **(traits or {})},
        }
        preferences = {} if email_consent is None else {"email": email_consent}
        preferences.update(consents or {})
        if preferences:
            message["context"] = {"consent": {"categoryPreferences": preferences}}
        if at is not None:
            message["timestamp"] = at.isoformat()
        ingest(message)
        return Identifier.objects.get(type="user_id", value=user_id).profile_id

    return make


@pytest.fixture
def track(ingest) -> Callable[..., None]:
    def send(user_id: str, event: str, *, at: datetime | None = None, **properties: Any) -> None:
        message: dict[str, Any] = {
            "type": "track",
            "userId": user_id,
            "event": event,
            "properties": properties,
        }
        if at is not None:
            message["timestamp"] = at.isoformat()
        ingest(message)

    return send


EMAIL_VARIANTS = (
    VariantSpec(
        key="a",
        weight=1,
        subject="Hi {{ profile.first_name|default:'there' }}, your cart is waiting",
        body_text="Hello {{ profile.first_name|default:'there' }}! {{ offer }}",
        body_html="<p>Hello {{ profile.first_name|default:'there' }}!</p>{{ offer }}",
    ),
)


@pytest.fixture
def make_campaign(db) -> Callable[..., Campaign]:
    """Create (and by default launch) a campaign through the services."""

    def make(
        *,
        launch: bool = True,
        variants: tuple[VariantSpec, ...] | list[VariantSpec] = EMAIL_VARIANTS,
        **fields: Any,
    ) -> Campaign:
        defaults: dict[str, Any] = {
            "name": f"campaign {next(_messages)}",
            "trigger": Campaign.Trigger.EVENT,
            "trigger_event": "Checkout Started",
            "channel": Campaign.Channel.EMAIL,
            "purpose_key": "email_marketing",
        }
        campaign = campaign_create(actor=ACTOR, fields={**defaults, **fields}, variants=variants)
        if launch:
            campaign = campaign_launch(campaign_id=campaign.pk, actor=ACTOR)
        return Campaign.objects.get(pk=campaign.pk)

    return make


class Receiver:
    """A local HTTP server standing in for a webhook endpoint (the network boundary): it
    records every request and answers with the scripted statuses (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(item["body"]) for item in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def make_segment(db) -> Callable[..., int]:
    """An uploaded static segment whose members are the given user ids; calling it again
    with the same name replaces the members (publishing entries and exits)."""
    created: dict[str, int] = {}

    def make(name: str, user_ids: list[str]) -> int:
        if name not in created:
            # As the segments suite does: an uploaded list needs no rule tree.
            segment = Segment.objects.create(
                name=name, kind=Segment.Kind.STATIC, origin=Segment.Origin.UPLOAD
            )
            created[name] = segment.pk
        segment_upload_members(
            segment_id=created[name],
            identifiers=[("user_id", user_id) for user_id in user_ids],
            actor=ACTOR,
        )
        return created[name]

    return make


@pytest.fixture
def purposes(transactional_db) -> None:
    """Transactional tests flush every table afterwards, data migrations included: put the
    default consent purposes back (the migrations' own functions; idempotent)."""
    for module, function in (
        ("consent.migrations.0002_default_purposes", "create"),
        ("consent.migrations.0004_purpose_flags_and_default_retention", "forward"),
    ):
        getattr(importlib.import_module(module), function)(django_apps, None)
