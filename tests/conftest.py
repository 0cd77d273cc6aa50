"""Shared fixtures: write keys, role users, API clients. Fixtures return what they build."""

from __future__ import annotations

import base64
from collections.abc import Callable

from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

import pytest

from cdp.core.actor import Actor
from cdp.core.roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER
from profiles.models import Source
from profiles.services.sources import source_create


def basic(key: str) -> str:
    """The Authorization header a Segment SDK sends for write key `key`."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.fixture
def actor() -> Actor:
    return Actor(user_id=None, label="test")


@pytest.fixture
def source_and_key(db) -> tuple[Source, str]:
    source, issued = source_create(name="web", actor=Actor(user_id=None, label="test"))
    return source, issued.plain


@pytest.fixture
def write_key(source_and_key) -> str:
    return source_and_key[1]


@pytest.fixture
def tracking_client(write_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(write_key))
    return client


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(role: str | None, username: str | None = None) -> User:
        name = username or (role or "norole").lower().replace(" ", "_")
        user = User.objects.create_user(name, f"{name}@staff.example", "pw-" + name, is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def api_client_for(make_user) -> Callable[[str | None], APIClient]:
    def client_for(role: str | None) -> APIClient:
        client = APIClient()
        client.force_authenticate(make_user(role))
        return client

    return client_for


ROLES = (MARKETER, PRIVACY_OFFICER, INTEGRATION_ADMIN)
