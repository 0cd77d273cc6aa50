"""Demo data: "Email Opened" and "Email Clicked" events from weekly marketing campaigns."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np

from . import ids
from .events import EVENT_COLUMNS, EventRows
from .names import USER_AGENTS
from .people import Population
from .sessions import PUBLIC_FIRST_OCTETS

CAMPAIGN_EVERY_DAYS = 7
SEND_HOUR_UTC = 8.0
OPEN_DELAY_DAYS = 0.3  # mean delay from send to open
CLICK_DELAY_DAYS = 2.0 / 1440.0  # mean delay from open to click
MAIL_CLIENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    USER_AGENTS[3],
)


def campaign_days(*, window_days: float) -> np.ndarray:
    """Send days (relative to as_of) of the weekly campaigns inside the event window."""
    weeks = np.arange(int(window_days // CAMPAIGN_EVERY_DAYS))
    return -(weeks * CAMPAIGN_EVERY_DAYS + 3.0) + SEND_HOUR_UTC / 24.0


def _campaign_ids(as_of: datetime.date, sends: np.ndarray) -> list[str]:
    dates = np.datetime64(as_of, "D") + np.floor(sends).astype(np.int64).astype("timedelta64[D]")
    return [f"cmp_{d.replace('-', '')}" for d in np.datetime_as_string(dates).tolist()]


def _opens(
    rng: np.random.Generator, pop: Population, sends: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, campaign, open day) of every opened email, in person order."""
    eligible = pop.consent[:, 0] & (pop.frame["email"].to_numpy(dtype=object) != "")
    received = (
        eligible[:, None]
        & (sends[None, :] >= pop.signup_day[:, None])
        & (rng.random((pop.size, sends.size)) < scale)
    )
    opened = (
        received
        & (sends[None, :] < pop.end_day[:, None])  # lapsed people stop reading
        & (rng.random((pop.size, sends.size)) < pop.open_rate[:, None])
    )
    person, campaign = np.nonzero(opened)
    day = sends[campaign] + rng.exponential(OPEN_DELAY_DAYS, person.size)
    keep = day < np.minimum(pop.end_day[person], -1.0 / 1440.0)
    return person[keep], campaign[keep], day[keep]


def build_email_events(
    rng: np.random.Generator, pop: Population, *, as_of: datetime.date, window_days: float,
    scale: float, seed: int, start: int,
) -> EventRows:  # fmt: skip
    """Opens and clicks of the chunk's people (email consent only) in the event window."""
    sends = campaign_days(window_days=window_days)
    person, campaign, open_day = _opens(rng, pop, sends, scale)
    clicked = rng.random(person.size) < pop.click_rate[person]
    click_day = open_day + rng.exponential(CLICK_DELAY_DAYS, person.size)
    clicked &= click_day < np.minimum(pop.end_day[person], 0.0)
    email_ids = [f"em_{t}" for t in ids.hex_tokens(rng, person.size, chars=16)]
    is_click = np.concatenate(
        [np.zeros(person.size, dtype=bool), np.ones(clicked.sum(), dtype=bool)]
    )
    source = np.concatenate([np.arange(person.size), np.flatnonzero(clicked)])
    day = np.concatenate([open_day, click_day[clicked]])
    who = person[source]
    user = pop.frame["user_id"].to_numpy(dtype=object)
    esp = ids.scramble(
        start + np.arange(pop.size), modulus=10**9, multiplier=ids.ESP_MULTIPLIER,
        offset=ids.seed_offset(seed, salt=6, modulus=10**9),
    )  # fmt: skip
    esp_ids = ids.prefixed_numbers("esp_", esp, width=9)
    emails = pop.frame["email"].to_numpy(dtype=object)
    campaign_ids = _campaign_ids(as_of, sends)
    clients = rng.integers(0, len(MAIL_CLIENTS), source.size).tolist()
    first_octet = np.array(PUBLIC_FIRST_OCTETS)[
        rng.integers(0, len(PUBLIC_FIRST_OCTETS), source.size)
    ]
    octets = np.column_stack([first_octet, rng.integers(1, 255, (source.size, 3))]).tolist()
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for p, s, click, client, ip in zip(
        who.tolist(), source.tolist(), is_click.tolist(), clients, octets, strict=True
    ):
        has_login = bool(user[p])
        context: dict[str, Any] = {"ip": ".".join(map(str, ip)), "userAgent": MAIL_CLIENTS[client]}
        if not has_login:
            context["traits"] = {"email": emails[p]}
        columns["type"].append("track")
        columns["event"].append("Email Clicked" if click else "Email Opened")
        columns["name"].append(None)
        columns["user_id"].append(user[p] if has_login else None)
        columns["anonymous_id"].append(None if has_login else esp_ids[p])
        columns["session_id"].append(None)
        columns["properties"].append(
            {"campaign_id": campaign_ids[campaign[s]], "email_id": email_ids[s]}
        )
        columns["context"].append(context)
        columns["traits"].append(None)
    columns["message_id"] = ids.uuid4_strings(rng, source.size)
    return EventRows(columns=columns, person=who, day=day)
