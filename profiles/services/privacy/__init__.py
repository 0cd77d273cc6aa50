"""Profiles services: the profiles app's part in privacy requests (subject resolution,
export/erase handler, rectification, retention purge), registered from AppConfig.ready()."""

from __future__ import annotations

from cdp.core.privacy import PrivacyHandler, privacy_handler_register
from consent import public as consent_public

from .handler import profiles_erase, profiles_export
from .subject import (
    privacy_events_purge,
    privacy_profile_locate,
    privacy_rectify,
    privacy_subject_resolve,
)

__all__ = [
    "privacy_events_purge",
    "privacy_profile_locate",
    "privacy_rectify",
    "privacy_register",
    "privacy_subject_resolve",
    "profiles_erase",
    "profiles_export",
]


def privacy_register() -> None:
    """Wire the profiles app into privacy work: its export/erase handler (erased last: other
    apps' rows point at profiles) and the providers the consent app calls."""
    privacy_handler_register(
        PrivacyHandler(app="profiles", export=profiles_export, erase=profiles_erase, order=10)
    )
    consent_public.privacy_providers_register(
        resolver=privacy_subject_resolve,
        locator=privacy_profile_locate,
        rectifier=privacy_rectify,
        purger=privacy_events_purge,
    )
