"""Consent services: access/portability archives — write the zip under MEDIA_ROOT, make
short-lived download links, and delete archives that expired or whose person was erased."""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core import signing
from django.core.files.base import ContentFile
from django.utils import timezone

from consent.compute.archive import Tables, archive_members
from consent.models import DataSubjectRequest

ARCHIVE_TTL = timedelta(days=7)
LINK_TTL = timedelta(hours=1)
_LINK_SALT = "consent.dsr.archive-link"


def archive_write(
    *, request: DataSubjectRequest, tables: Tables, manifest: Mapping[str, Any]
) -> str:
    """Zip the export (JSON, CSV per table, summary) into the request's archive file under
    MEDIA_ROOT/dsr/<id>/ with an unguessable name; replace any earlier archive. Returns the
    storage name. The archive expires after ARCHIVE_TTL."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in archive_members(tables=tables, manifest=manifest).items():
            archive.writestr(name, content)
    archive_delete(request=request)
    name = f"request-{request.pk}-{secrets.token_urlsafe(12)}.zip"
    request.archive.save(name, ContentFile(buffer.getvalue()), save=False)
    request.archive_expires_at = timezone.now() + ARCHIVE_TTL
    request.save(update_fields=["archive", "archive_expires_at", "updated_at"])
    return request.archive.name


def archive_delete(*, request: DataSubjectRequest) -> bool:
    """Remove the request's archive file, if any. Idempotent."""
    if not request.archive:
        return False
    request.archive.delete(save=False)
    DataSubjectRequest.objects.filter(pk=request.pk).update(archive="", archive_expires_at=None)
    request.archive_expires_at = None
    return True


def archives_expire() -> int:
    """Delete every archive past its expiry (the download was short-lived by design)."""
    expired = DataSubjectRequest.objects.filter(archive_expires_at__lt=timezone.now()).exclude(
        archive=""
    )
    return sum(archive_delete(request=request) for request in expired)


def archive_link_token(*, request: DataSubjectRequest) -> str:
    """A signed token naming this request's current archive, valid for LINK_TTL."""
    return signing.dumps({"request": request.pk, "archive": request.archive.name}, salt=_LINK_SALT)


def archive_link_request(*, token: str) -> DataSubjectRequest | None:
    """The request whose current archive `token` names, if the token is genuine, not older
    than LINK_TTL and the archive still the same file; else None."""
    try:
        value = signing.loads(token, salt=_LINK_SALT, max_age=LINK_TTL.total_seconds())
    except signing.BadSignature:
        return None
    request = DataSubjectRequest.objects.filter(pk=value["request"]).first()
    if request is None or not request.archive or request.archive.name != value["archive"]:
        return None
    return request
