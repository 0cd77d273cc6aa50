"""Demo data: web sessions and devices (browsing, carts, purchases, logins) of one chunk."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from . import ids, timeline
from .names import USER_AGENTS
from .orders import OrderSet
from .people import Population
from .personas import ActivityClock, persona_array

MAX_DEVICES = 4
LOGIN_RATE = 0.3  # chance that a session of someone with an account starts with a login
LANDING_PRODUCT_SHARE = 0.3  # sessions that land straight on a product page
CHECKOUT_REACHED = 0.6  # abandoned carts that get as far as "Checkout Started"
ABANDON_EXTRA_ADDS = 0.3  # mean products added beyond the first in an abandoned cart
PURCHASE_PAGE_FACTOR = 0.5  # purchase sessions browse this share of a browse session's pages
MINUTE = 1.0 / 1440.0
# First octets of address blocks that consumer ISPs use (no private, multicast or reserved ones).
PUBLIC_FIRST_OCTETS = (24, 31, 37, 46, 62, 71, 73, 77, 78, 81, 82, 84, 86, 88, 90, 92, 94, 98,
                       99, 108, 109, 151, 176, 178, 185, 188, 212, 213, 217)  # fmt: skip


@dataclass(frozen=True, kw_only=True, eq=False)
class Devices:
    """Browsers of the chunk's people; each keeps one anonymousId."""

    person: np.ndarray
    anonymous_id: np.ndarray  # object
    user_agent: np.ndarray  # object
    ip: np.ndarray  # object


@dataclass(frozen=True, kw_only=True, eq=False)
class Sessions:
    """Web sessions sorted by device, then start. Days are relative to as_of midnight UTC."""

    person: np.ndarray
    device: np.ndarray  # row in Devices
    start: np.ndarray
    duration: np.ndarray
    order: np.ndarray  # order position for a purchase session, -1 otherwise
    free_pages: np.ndarray  # pages besides landing, login, cart products and checkout
    adds: np.ndarray  # products put in the cart
    reaches_checkout: np.ndarray
    is_logged_in: np.ndarray
    is_login: np.ndarray  # the session where this device logs in (identify call)
    session_id: np.ndarray  # object

    @property
    def size(self) -> int:
        """Number of sessions."""
        return len(self.person)


def _devices(rng: np.random.Generator, pop: Population) -> tuple[Devices, np.ndarray, np.ndarray]:
    mean = persona_array("devices_mean")[pop.persona]
    count = np.minimum(1 + rng.poisson(mean - 1.0), MAX_DEVICES)
    person = np.repeat(np.arange(pop.size), count)
    first = np.cumsum(count) - count
    first_octet = np.array(PUBLIC_FIRST_OCTETS)[
        rng.integers(0, len(PUBLIC_FIRST_OCTETS), person.size)
    ]
    octets = np.column_stack([first_octet, rng.integers(1, 255, (person.size, 3))]).tolist()
    agents = rng.integers(0, len(USER_AGENTS), person.size)
    devices = Devices(
        person=person,
        anonymous_id=np.array(ids.uuid4_strings(rng, person.size), dtype=object),
        user_agent=np.array(USER_AGENTS, dtype=object)[agents],
        ip=np.array([f"{a}.{b}.{c}.{d}" for a, b, c, d in octets], dtype=object),
    )
    return devices, first, count


def _pick_devices(
    rng: np.random.Generator, person: np.ndarray, first: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """A device per session; the first device (the phone, say) carries most sessions."""
    share = rng.random(person.size) ** 1.7 * count[person]
    return first[person] + np.minimum(share.astype(np.int64), count[person] - 1)


def _durations(rng: np.random.Generator, minutes: np.ndarray, sigma: float) -> np.ndarray:
    return np.clip(minutes * np.exp(rng.normal(0.0, sigma, minutes.size)), 0.5, 150.0) * MINUTE


def _browse(
    rng: np.random.Generator, pop: Population, clock: ActivityClock, *, as_of: datetime.date,
    window_days: float, scale: float,
) -> dict[str, np.ndarray]:  # fmt: skip
    start = np.maximum(pop.signup_day, -window_days)
    rate = persona_array("session_rate")[pop.persona] / 30.0 * scale
    person, day = timeline.renewal_days(
        rng, clock, persona=pop.persona, start=start, end=pop.end_day, rate=rate,
        regularity=np.ones(len(persona_array("share"))),
    )  # fmt: skip
    offsets = timeline.utc_offsets_hours(as_of)[pop.city[person]]
    day = timeline.at_local_time(rng, day, offsets, pop.end_day[person])
    persona = pop.persona[person]
    duration = _durations(rng, persona_array("session_minutes")[persona], 0.6)
    day = np.minimum(day, pop.end_day[person] - duration - MINUTE)
    abandons = rng.random(person.size) < persona_array("cart_abandon_rate")[persona]
    adds = np.where(abandons, 1 + np.minimum(rng.poisson(ABANDON_EXTRA_ADDS, person.size), 3), 0)
    return {
        "person": person,
        "start": day,
        "duration": duration,
        "order": np.full(person.size, -1, dtype=np.int64),
        "free_pages": rng.poisson(persona_array("pages_mean")[persona] - 1.0),
        "adds": adds,
        "reaches_checkout": abandons & (rng.random(person.size) < CHECKOUT_REACHED),
    }


def _purchases(
    rng: np.random.Generator, pop: Population, orders: OrderSet, window_days: float
) -> dict[str, np.ndarray]:
    order = np.flatnonzero(orders.is_web & (orders.day >= -window_days))
    person = orders.person[order]
    persona = pop.persona[person]
    duration = _durations(rng, persona_array("session_minutes")[persona] * 1.2, 0.5)
    lines = np.bincount(orders.line_order, minlength=orders.person.size)[order]
    extra = (persona_array("pages_mean")[persona] - 1.0) * PURCHASE_PAGE_FACTOR
    return {
        "person": person,
        "start": orders.day[order] - duration,
        "duration": duration,
        "order": order,
        "free_pages": rng.poisson(extra),
        "adds": lines,
        "reaches_checkout": np.ones(order.size, dtype=bool),
    }


def _logins(
    rng: np.random.Generator, *, device: np.ndarray, has_account: np.ndarray,
    logged_purchase: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Sessions are sorted by device and start: once a device logs in, it stays logged in."""
    flag = logged_purchase | (has_account & (rng.random(device.size) < LOGIN_RATE))
    running = np.cumsum(flag)
    new_device = np.ones(device.size, dtype=bool)
    new_device[1:] = device[1:] != device[:-1]
    group_start = np.maximum.accumulate(np.where(new_device, np.arange(device.size), 0))
    before = running[group_start] - flag[group_start]
    seen = running - before
    return seen > 0, flag & (seen == 1)


def build_sessions(
    rng: np.random.Generator, pop: Population, orders: OrderSet, *, clock: ActivityClock,
    as_of: datetime.date, window_days: float, browse_scale: float,
) -> tuple[Sessions, Devices]:  # fmt: skip
    """Browse and purchase sessions in the event window, with devices and login state."""
    devices, first_device, device_count = _devices(rng, pop)
    browse = _browse(rng, pop, clock, as_of=as_of, window_days=window_days, scale=browse_scale)
    purchase = _purchases(rng, pop, orders, window_days)
    parts = {key: np.concatenate([browse[key], purchase[key]]) for key in browse}
    device = _pick_devices(rng, parts["person"], first_device, device_count)
    order = np.lexsort((parts["start"], device))
    parts = {key: value[order] for key, value in parts.items()}
    device = device[order]
    logged_purchase = parts["order"] >= 0
    logged_purchase[logged_purchase] = orders.is_logged_in[parts["order"][logged_purchase]]
    is_logged_in, is_login = _logins(
        rng, device=device, has_account=pop.has_account[parts["person"]],
        logged_purchase=logged_purchase,
    )  # fmt: skip
    tokens = ids.hex_tokens(rng, device.size, chars=16)
    sessions = Sessions(
        device=device, is_logged_in=is_logged_in, is_login=is_login,
        session_id=np.array([f"s_{t}" for t in tokens], dtype=object), **parts,
    )  # fmt: skip
    return sessions, devices
