"""Pure helpers shared by every app's compute/ modules (no Django, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class MissingColumnsError(ValueError):
    """A DataFrame handed to a compute function lacks columns it needs."""


def require_columns(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise MissingColumnsError naming every column of `columns` absent from `frame`."""
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise MissingColumnsError(f"missing columns: {', '.join(missing)}")
