"""Benchmark helper: turn the demo generator's chunks (messy orders, Segment events, ground truth)
into the frames the ML engine reads — clean orders, a daily activity rollup, per-customer
features — keyed by a person index, without a database. Chunk by chunk, so memory holds
aggregates, never the raw events of everyone."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from profiles.compute.normalise import normalise_currency, parse_amount, parse_datetime
from profiles.demo_data import GeneratorConfig, generate_chunks

RATES = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}  # the embedded default table (cdp.settings)
NEVER_DAYS = 730.0
EMAIL_EVENTS = ("Email Opened", "Email Clicked")


@dataclass(frozen=True, kw_only=True, eq=False)
class DemoFrames:
    """Everything the benchmark needs, indexed by person number (0..N-1)."""

    personas: pd.Series  # person -> persona
    signup: pd.Series  # person -> signup date (UTC timestamp)
    orders: pd.DataFrame  # profile_id, placed_at, total, status, category, items
    activity: pd.DataFrame  # profile_id, occurred_at (end of day), sessions, pages, opens...
    web: pd.DataFrame  # per person: last_event_days, sessions, pages, minutes, clicks...
    as_of: pd.Timestamp
    event_window_days: float


def _safe(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        try:
            return parse(value)
        except Exception:  # messy rows the import would quarantine: left out here
            return None

    return apply


def _mapped(column: pd.Series, parse: Callable[[Any], Any]) -> pd.Series:
    """Parse each distinct value once (there are far fewer than rows)."""
    uniques = pd.Series(column.unique())
    table = dict(zip(uniques, uniques.map(_safe(parse)), strict=True))
    return column.map(table)


def clean_orders(orders: pd.DataFrame, person_of: pd.Series) -> pd.DataFrame:
    """Orders in the base currency with UTC times, as the import would store them."""
    amount = _mapped(orders["total"], lambda v: float(parse_amount(v)))
    currency = _mapped(orders["currency"], normalise_currency)
    placed = pd.to_datetime(_mapped(orders["placed_at"], parse_datetime), utc=True)
    frame = pd.DataFrame(
        {
            "profile_id": orders["order_id"].map(person_of),
            "placed_at": placed,
            "total": amount * currency.map(RATES),
            "status": orders["status"].astype(object),
            "category": orders["category"].astype(object),
            "items": pd.to_numeric(orders["items"], errors="coerce"),
        }
    )
    keep = frame["profile_id"].notna() & frame["placed_at"].notna() & frame["total"].notna()
    frame = frame.loc[keep & (frame["total"] > 0)].copy()
    frame["profile_id"] = frame["profile_id"].astype("int64")
    return frame


def _events(events: pd.DataFrame, person_of: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "profile_id": events["message_id"].map(person_of).astype("int64").to_numpy(),
            "type": events["type"].to_numpy(),
            "event": events["event"].to_numpy(),
            "session_id": events["session_id"].to_numpy(),
            "timestamp": pd.to_datetime(events["timestamp"], utc=True).to_numpy(),
        }
    ).assign(timestamp=lambda f: pd.to_datetime(f["timestamp"], utc=True))


def daily_activity(events: pd.DataFrame) -> pd.DataFrame:
    """One row per person and UTC day, dated at the end of the day (no leakage at midnight
    cutoffs): sessions, page views, email opens and clicks."""
    day = events["timestamp"].dt.floor("D")
    frame = events.assign(
        day=day,
        page=(events["type"] == "page").astype(np.int64),
        open=(events["event"] == EMAIL_EVENTS[0]).astype(np.int64),
        click=(events["event"] == EMAIL_EVENTS[1]).astype(np.int64),
    )
    grouped = frame.groupby(["profile_id", "day"])
    rolled = pd.DataFrame(
        {
            "sessions": grouped["session_id"].nunique(),
            "pages": grouped["page"].sum(),
            "email_opens": grouped["open"].sum(),
            "email_clicks": grouped["click"].sum(),
        }
    ).reset_index()
    rolled["occurred_at"] = rolled["day"] + pd.Timedelta(days=1, microseconds=-1)
    columns = ["profile_id", "occurred_at", "sessions", "pages", "email_opens", "email_clicks"]
    return rolled[columns].astype(dict.fromkeys(columns[2:], "float64"))


def web_features(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per person: days since the last event, sessions, pages, minutes and pages per session,
    email opens and clicks (whole event window)."""
    web = events.dropna(subset=["session_id"])
    sessions = web.groupby(["profile_id", "session_id"])["timestamp"].agg(["min", "max", "size"])
    sessions["minutes"] = (sessions["max"] - sessions["min"]).dt.total_seconds() / 60
    by_person = sessions.groupby("profile_id")
    age = (as_of - events.groupby("profile_id")["timestamp"].max()).dt.total_seconds() / 86_400
    return pd.DataFrame(
        {
            "last_event_days": age,
            "sessions": by_person.size(),
            "pages": events[events["type"] == "page"].groupby("profile_id").size(),
            "session_minutes": by_person["minutes"].mean(),
            "pages_per_session": by_person["size"].mean(),
            "email_opens": events[events["event"] == EMAIL_EVENTS[0]].groupby("profile_id").size(),
            "email_clicks": events[events["event"] == EMAIL_EVENTS[1]].groupby("profile_id").size(),
        }
    )


def build(
    *,
    people: int,
    seed: int,
    events_per_person: float,
    as_of: datetime.date,
    chunk_people: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> DemoFrames:
    """Generate `people` with the demo generator and reduce every chunk to frames."""
    config = GeneratorConfig(
        people=people, seed=seed, as_of=as_of, events_per_person=events_per_person
    )
    stamp = pd.Timestamp(as_of, tz="UTC")
    personas, signups, orders, activity, web = [], [], [], [], []
    offset = 0
    for chunk in generate_chunks(config, chunk_people=chunk_people):
        index = pd.Series(
            np.arange(offset, offset + len(chunk.people)), index=chunk.people["person_id"]
        )
        person_of = chunk.truth.set_index("record_id")["person_id"].map(index)
        personas.append(pd.Series(chunk.people["persona"].to_numpy(), index=index.to_numpy()))
        signups.append(
            pd.Series(pd.to_datetime(chunk.people["signup_date"], utc=True).to_numpy(),
                      index=index.to_numpy())
        )  # fmt: skip
        orders.append(clean_orders(chunk.orders, person_of))
        events = _events(chunk.events, person_of)
        activity.append(daily_activity(events))
        web.append(web_features(events, stamp))
        offset += len(chunk.people)
        if progress is not None:
            progress(offset)
    window = float((stamp - pd.concat(activity)["occurred_at"].min()).days) if activity else 0.0
    return DemoFrames(
        personas=pd.concat(personas),
        signup=pd.to_datetime(pd.concat(signups), utc=True),
        orders=pd.concat(orders, ignore_index=True),
        activity=pd.concat(activity, ignore_index=True),
        web=pd.concat(web),
        as_of=stamp,
        event_window_days=window,
    )


def customer_frame(frames: DemoFrames) -> pd.DataFrame:
    """One row per customer (a completed order before as_of): the candidate clustering
    features, raw (the pipeline imputes, logs and scales them), and the true persona."""
    completed = frames.orders.loc[
        (frames.orders["status"] == "completed") & (frames.orders["placed_at"] < frames.as_of)
    ]
    grouped = completed.groupby("profile_id")
    category = completed["category"]
    out = pd.DataFrame(
        {
            "frequency": grouped.size().astype("float64"),
            "median_order_value": grouped["total"].median(),
            "sale_share": (category == "sale").groupby(completed["profile_id"]).mean(),
            "new_season_share": (category == "new_season").groupby(completed["profile_id"]).mean(),
            "items_per_order": grouped["items"].mean(),
        }
    )
    out["tenure_days"] = (frames.as_of - frames.signup.reindex(out.index)).dt.days.astype(float)
    last = grouped["placed_at"].max()
    out["recency_days"] = (frames.as_of - last).dt.total_seconds() / 86_400
    # Expected gaps since the last order: recency / (tenure / orders). Lapsed customers are
    # many gaps overdue; occasional ones, with long gaps, are not.
    out["overdue_ratio"] = (
        out["recency_days"] * out["frequency"] / out["tenure_days"].clip(lower=30)
    )
    web = frames.web.reindex(out.index)
    out["days_since_last_event"] = web["last_event_days"].fillna(NEVER_DAYS)
    for name in ("sessions", "pages", "email_opens", "email_clicks"):
        out[name] = web[name].fillna(0.0)
    out["session_minutes"] = web["session_minutes"]
    out["pages_per_session"] = web["pages_per_session"]
    out["persona"] = frames.personas.reindex(out.index)
    return out.rename_axis("profile_id").reset_index()
