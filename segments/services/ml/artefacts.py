"""Segments services (ML): fitted estimators as artefact files under MEDIA_ROOT (joblib), with
their SHA-256 recorded on the run so a changed or foreign file is never loaded."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings

import joblib

from cdp.core.errors import DomainError

ARTEFACT_DIR = "ml-models"


class ArtefactError(DomainError):
    code = "model_artefact_invalid"
    status_code = 409


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def artefact_save(*, run_id: int, estimator: Any) -> tuple[str, str]:
    """Write the estimator for run `run_id`; return (path relative to MEDIA_ROOT, sha256).
    Idempotent: a rerun of the same run overwrites its own file."""
    relative = Path(ARTEFACT_DIR) / f"run-{run_id}.joblib"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, path)
    return str(relative), _digest(path)


def artefact_load(*, relative_path: str, sha256: str) -> Any:
    """Load an estimator written by artefact_save after checking its SHA-256.

    Raises ArtefactError when the file is missing, outside the artefact folder, or changed.
    """
    root = (Path(settings.MEDIA_ROOT) / ARTEFACT_DIR).resolve()
    path = (Path(settings.MEDIA_ROOT) / relative_path).resolve()
    if root not in path.parents or not path.is_file():
        raise ArtefactError(f"The model file {relative_path!r} is missing.")
    if not sha256 or _digest(path) != sha256:
        raise ArtefactError(f"The model file {relative_path!r} does not match its checksum.")
    return joblib.load(path)
