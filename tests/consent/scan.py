"""Test helpers: look for a person everywhere CDP stores data — every column (JSON included) of
every table of every installed app, every file under MEDIA_ROOT (zip and gzip opened), and
every row still pointing at one of their profiles."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models


@dataclass(frozen=True)
class Hit:
    table: str  # model label, lower case ("profiles.event")
    pk: object
    column: str
    term: str


def _models() -> Iterable[type[models.Model]]:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            yield model


def _text(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def scan_database(terms: Iterable[str]) -> list[Hit]:
    """Every (table, row, column) whose value contains a term, case-insensitively."""
    wanted = sorted({term.lower() for term in terms if term})
    hits: list[Hit] = []
    for model in _models():
        columns = [field.attname for field in model._meta.concrete_fields]
        pk_index = columns.index(model._meta.pk.attname)
        for row in model._base_manager.values_list(*columns).iterator():
            for column, value in zip(columns, row, strict=True):
                text = _text(value).lower()
                hits.extend(
                    Hit(model._meta.label_lower, row[pk_index], column, term)
                    for term in wanted
                    if term in text
                )
    return hits


def _file_texts(path: Path) -> Iterable[tuple[str, str]]:
    data = path.read_bytes()
    if path.suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield f"{path}!{name}", archive.read(name).decode("utf-8", "replace")
        return
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    yield str(path), data.decode("utf-8", "replace")


def scan_files(terms: Iterable[str], root: Path | None = None) -> list[tuple[str, str]]:
    """(relative path[!member], term) of every file under MEDIA_ROOT naming a term."""
    root = Path(root or settings.MEDIA_ROOT)
    wanted = sorted({term.lower() for term in terms if term})
    hits: list[tuple[str, str]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for name, text in _file_texts(path):
            lowered = text.lower()
            relative = (
                str(Path(name).relative_to(root))
                if "!" not in name
                else name.replace(f"{root}/", "")
            )
            hits.extend((relative, term) for term in wanted if term in lowered)
    return hits


def profile_references(profile_ids: Iterable[int]) -> list[tuple[str, str, int]]:
    """(table, column, count) of rows still pointing at one of `profile_ids`: foreign keys to
    profiles.Profile, and integer columns named profile_id / *_profile_id (apps below profiles
    keep plain ids)."""
    ids = list(profile_ids)
    profile_model = apps.get_model("profiles", "Profile")
    found = []
    for model in _models():
        for field in model._meta.concrete_fields:
            points_at_profile = field.is_relation and field.related_model is profile_model
            named_like_one = isinstance(field, models.IntegerField) and (
                field.name == "profile_id" or field.name.endswith("_profile_id")
            )
            if not (points_at_profile or named_like_one):
                continue
            count = model._base_manager.filter(**{f"{field.attname}__in": ids}).count()
            if count:
                found.append((model._meta.label_lower, field.attname, count))
    return found
