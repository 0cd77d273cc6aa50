"""Segments selectors: members as rows for the API page and the CSV export (PII masked unless
the role may see it), read in chunks — never the whole segment in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from profiles import public as profiles_public
from segments.models import SegmentMembership

from .membership import segment_members_qs

CSV_TRAITS = ("email", "first_name", "last_name", "country", "city")
CSV_HEADER = ("profile_id", "entered_at", *CSV_TRAITS, "lifecycle_stage", "rfm_segment")


def _shown(traits: dict[str, Any], can_view_pii: bool) -> dict[str, Any]:
    if can_view_pii:
        return traits
    return {name: profiles_public.mask_trait(name, value) for name, value in traits.items()}


def members_page_rows(
    page: Iterable[SegmentMembership], *, can_view_pii: bool
) -> list[dict[str, Any]]:
    """One dict per membership of a page, with the member's golden traits (one query)."""
    rows = list(page)
    traits = profiles_public.profile_traits(row.profile_id for row in rows)
    return [
        {
            "profile_id": row.profile_id,
            "entered_at": row.entered_at,
            "traits": _shown(traits.get(row.profile_id) or {}, can_view_pii),
        }
        for row in rows
    ]


def _line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def members_csv_rows(*, segment_id: int, can_view_pii: bool) -> Iterator[str]:
    """CSV text lines (header first) of every current member, in profile id order, read 5,000
    at a time through the membership index joined to the profile and its computed traits."""
    yield _line(CSV_HEADER)
    rows = (
        segment_members_qs(segment_id=segment_id)
        .order_by("profile_id")
        .values_list(
            "profile_id",
            "entered_at",
            "profile__traits",
            "profile__computed__lifecycle_stage",
            "profile__computed__rfm_segment",
        )
    )
    for profile_id, entered_at, traits, stage, rfm_segment in rows.iterator(chunk_size=5_000):
        shown = _shown({name: (traits or {}).get(name, "") for name in CSV_TRAITS}, can_view_pii)
        yield _line(
            [
                profile_id,
                entered_at.isoformat(),
                *(shown[name] for name in CSV_TRAITS),
                stage or "",
                rfm_segment or "",
            ]
        )
