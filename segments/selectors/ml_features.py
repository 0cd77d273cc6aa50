"""Segments selectors (ML): read model inputs from the database in chunks of profiles — computed
and golden traits for clustering, orders and a daily activity rollup for churn/propensity/CLV.
Every per-profile aggregate is SQL; pandas only reshapes the rows it is given."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Mod, TruncDay

import numpy as np
import pandas as pd

from profiles import public as profiles_public

PROFILE_ID = "profile_id"
CUSTOM_PREFIX = "custom."
TRAIT_PREFIX = "trait."
RANGE_PROFILES = 50_000
# Columns of ComputedTraits read for the KPI table (segments.compute.clustering.cluster_kpis).
KPI_SOURCES = (
    "orders_90d",
    "orders_count",
    "lifetime_value",
    "email_opens_90d",
    "email_open_rate",
    "email_clicks_90d",
)
EMAIL_OPENED, EMAIL_CLICKED = "Email Opened", "Email Clicked"
PAGE_TYPES = ("page", "screen")


class UnknownFeatureError(ValueError):
    """A feature name that is neither a computed trait nor an allowed golden trait."""


@dataclass(frozen=True, kw_only=True)
class FeatureSource:
    """Where each requested feature comes from: built-in computed columns, days since a stored
    instant, custom computed traits (JSON) or golden traits (JSON)."""

    columns: tuple[str, ...]
    derived: tuple[str, ...]
    custom: tuple[str, ...]
    traits: tuple[str, ...]


def feature_catalogue() -> dict[str, str]:
    """Features a clustering spec may name, with their type: built-in computed traits (stored
    and derived), `custom.<key>` for custom computed traits. Golden traits are `trait.<name>`
    (any name except personal identifiers) and are not listed."""
    return dict(profiles_public.builtin_trait_types())


def feature_source(features: Sequence[str]) -> FeatureSource:
    """Sort requested features by source. Raises UnknownFeatureError for unknown names and for
    golden traits that identify people (email, phone, names, address...)."""
    builtin = profiles_public.builtin_trait_types()
    columns, derived, custom, traits = [], [], [], []
    for name in features:
        if name in profiles_public.DERIVED_TRAITS:
            derived.append(name)
        elif name in builtin:
            columns.append(name)
        elif name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
            custom.append(name)
        elif name.startswith(TRAIT_PREFIX) and len(name) > len(TRAIT_PREFIX):
            if name.removeprefix(TRAIT_PREFIX) in profiles_public.PII_TRAITS:
                raise UnknownFeatureError(f"{name} identifies people and cannot be a feature")
            traits.append(name)
        else:
            raise UnknownFeatureError(f"unknown feature {name!r}")
    return FeatureSource(
        columns=tuple(columns), derived=tuple(derived), custom=tuple(custom), traits=tuple(traits)
    )


def _read_paths(source: FeatureSource, with_kpis: bool) -> list[str]:
    paths = [f"computed__{name}" for name in source.columns]
    paths += [f"computed__{profiles_public.DERIVED_TRAITS[name][0]}" for name in source.derived]
    if with_kpis:
        paths += [f"computed__{name}" for name in KPI_SOURCES]
    if source.custom:
        paths.append("computed__custom")
    if source.traits:
        paths.append("traits")
    return list(dict.fromkeys(paths))


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return np.nan
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _shape(
    rows: list[tuple[Any, ...]], paths: list[str], source: FeatureSource, now: datetime
) -> pd.DataFrame:
    raw = pd.DataFrame.from_records(rows, columns=[PROFILE_ID, *paths])
    frame = pd.DataFrame({PROFILE_ID: raw[PROFILE_ID].astype("int64")})
    types = profiles_public.builtin_trait_types()
    for name in source.columns:
        column = raw[f"computed__{name}"]
        if types[name] == "number":
            frame[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        else:
            frame[name] = column.where(column.astype(bool), None).astype(object)
    stamp = pd.Timestamp(now)
    for name in source.derived:
        instants = pd.to_datetime(
            raw[f"computed__{profiles_public.DERIVED_TRAITS[name][0]}"], utc=True
        )
        frame[name] = ((stamp - instants).dt.total_seconds() / 86_400).astype("float64")
    for name in source.custom:
        key = name.removeprefix(CUSTOM_PREFIX)
        values = raw["computed__custom"].map(lambda d, k=key: (d or {}).get(k))
        frame[name] = values.map(_number).astype("float64")
    for name in source.traits:
        key = name.removeprefix(TRAIT_PREFIX)
        frame[name] = raw["traits"].map(lambda d, k=key: (d or {}).get(k)).astype(object)
    kpi_paths = [f"computed__{name}" for name in KPI_SOURCES]
    for name, path in zip(KPI_SOURCES, kpi_paths, strict=True):
        if path in raw:
            frame[f"kpi__{name}"] = pd.to_numeric(raw[path], errors="coerce").astype("float64")
    return frame


def _profiles(profile_ids: Sequence[int] | None, sample_every: int | None) -> QuerySet[Any]:
    profiles = profiles_public.profiles_qs()
    if profile_ids is not None:
        profiles = profiles.filter(pk__in=list(profile_ids))
    if sample_every and sample_every > 1:
        profiles = profiles.annotate(_bucket=Mod("pk", sample_every)).filter(_bucket=0)
    return profiles


def cluster_feature_frames(
    *,
    features: Sequence[str],
    now: datetime,
    chunk_size: int = 50_000,
    profile_ids: Sequence[int] | None = None,
    sample_every: int | None = None,
    with_kpis: bool = False,
) -> Iterator[pd.DataFrame]:
    """profile_id + `features` for active profiles, in chunks of at most `chunk_size` rows by
    ascending id (keyset pagination: each chunk is one indexed query). Missing values are NaN
    (numbers) or None. `sample_every=n` reads only profiles whose id is a multiple of n (a
    cheap deterministic sample). With `with_kpis`, adds kpi__* columns (KPI_SOURCES)."""
    source = feature_source(features)
    paths = _read_paths(source, with_kpis)
    base = _profiles(profile_ids, sample_every).order_by("pk")
    last = 0
    while True:
        rows = list(base.filter(pk__gt=last).values_list("pk", *paths)[:chunk_size])
        if not rows:
            return
        last = rows[-1][0]
        yield _shape(rows, paths, source, now)


def kpi_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The cluster_kpis input from kpi__* columns: converted = an order in the last 90 days,
    deliveries recovered as opens / open rate (0 where no rate)."""
    opens = frame["kpi__email_opens_90d"].fillna(0.0)
    rate = frame["kpi__email_open_rate"]
    delivered = (opens / rate.where(rate > 0)).round().fillna(0.0)
    return pd.DataFrame(
        {
            "converted": (frame["kpi__orders_90d"].fillna(0) > 0).astype("float64"),
            "orders": frame["kpi__orders_count"].fillna(0.0),
            "revenue": frame["kpi__lifetime_value"].fillna(0.0),
            "lifetime_value": frame["kpi__lifetime_value"].fillna(0.0),
            "emails_delivered": delivered,
            "emails_clicked": frame["kpi__email_clicks_90d"].fillna(0.0),
        },
        index=frame.index,
    )


def profile_id_ranges(*, size: int = RANGE_PROFILES) -> Iterator[tuple[int, int]]:
    """[low, high) ranges of active profile ids with at most `size` profiles each."""
    profiles = profiles_public.profiles_qs().order_by("pk")
    low = 0
    while True:
        ids = list(profiles.filter(pk__gte=low).values_list("pk", flat=True)[size : size + 1])
        if not ids:
            if profiles.filter(pk__gte=low).exists():
                yield low, _after_last(profiles)
            return
        yield low, ids[0]
        low = ids[0]


def _after_last(profiles: QuerySet[Any]) -> int:
    last = profiles.order_by("-pk").values_list("pk", flat=True).first()
    return int(last or 0) + 1


def orders_frame(*, low: int, high: int, until: datetime | None = None) -> pd.DataFrame:
    """Orders of active profiles with ids in [low, high): profile_id, placed_at (UTC), total
    (base currency, float) and status — the ORDER_COLUMNS of segments.compute.rfm."""
    orders = profiles_public.orders_qs().filter(
        profile_id__gte=low,
        profile_id__lt=high,
        profile_id__in=profiles_public.profiles_qs().values("pk"),
    )
    if until is not None:
        orders = orders.filter(placed_at__lte=until)
    rows = list(orders.order_by().values_list("profile_id", "placed_at", "total_base", "status"))
    frame = pd.DataFrame.from_records(rows, columns=["profile_id", "placed_at", "total", "status"])
    frame["profile_id"] = frame["profile_id"].astype("int64")
    frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True)
    frame["total"] = frame["total"].astype("float64")
    frame["status"] = frame["status"].astype(object)
    return frame


def activity_frame(*, low: int, high: int, as_of: datetime) -> pd.DataFrame:
    """A daily rollup of the events of profiles with ids in [low, high) up to `as_of`, in SQL:
    one row per profile and UTC day with pages (page/screen views), sessions (1 on a day with a
    page view: a visit day), email_opens and email_clicks. Each row is dated at the END of its
    day (or `as_of` for the current day), so a cutoff at midnight never sees a later event."""
    events = profiles_public.events_qs().filter(
        profile_id__gte=low, profile_id__lt=high, timestamp__lte=as_of
    )
    rows = list(
        events.annotate(day=TruncDay("timestamp"))
        .values("profile_id", "day")
        .annotate(
            pages=Count("pk", filter=Q(type__in=PAGE_TYPES)),
            email_opens=Count("pk", filter=Q(event=EMAIL_OPENED)),
            email_clicks=Count("pk", filter=Q(event=EMAIL_CLICKED)),
        )
        .order_by()
        .values_list("profile_id", "day", "pages", "email_opens", "email_clicks")
    )
    frame = pd.DataFrame.from_records(
        rows, columns=["profile_id", "day", "pages", "email_opens", "email_clicks"]
    )
    end_of_day = pd.to_datetime(frame["day"], utc=True) + pd.Timedelta(days=1, microseconds=-1)
    stamp = pd.Timestamp(as_of).tz_convert("UTC")
    return pd.DataFrame(
        {
            "profile_id": frame["profile_id"].astype("int64"),
            "occurred_at": end_of_day.where(end_of_day <= stamp, stamp),
            "sessions": (frame["pages"] > 0).astype("float64"),
            "pages": frame["pages"].astype("float64"),
            "email_opens": frame["email_opens"].astype("float64"),
            "email_clicks": frame["email_clicks"].astype("float64"),
        }
    )


def midnight_before(instant: datetime, *, days_back: int = 0) -> datetime:
    """UTC midnight at or before `instant`, minus `days_back` days (training cutoffs)."""
    stamp = pd.Timestamp(instant).tz_convert("UTC").floor("D")
    return (stamp - timedelta(days=days_back)).to_pydatetime()
