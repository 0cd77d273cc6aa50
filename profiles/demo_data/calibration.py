"""Demo data: choosing the event window and rates that give the requested events per person."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .email_events import CAMPAIGN_EVERY_DAYS
from .personas import PERSONAS, Persona
from .sessions import (
    ABANDON_EXTRA_ADDS,
    CHECKOUT_REACHED,
    LANDING_PRODUCT_SHARE,
    LOGIN_RATE,
    PURCHASE_PAGE_FACTOR,
)

GRID = 64  # quantiles per uniform when averaging over tenure and lapse
PURCHASE_SHARE_OF_TARGET = 0.6  # web purchases may use at most this share of the event budget
MIN_WINDOW_DAYS = 14.0


@dataclass(frozen=True, kw_only=True)
class EventBudget:
    """How the generator meets `events_per_person` on average."""

    window_days: float  # events are generated for the last window_days before as_of
    browse_scale: float  # multiplier on each persona's browse-session rate
    email_scale: float  # share of weekly campaigns each consenting person receives
    expected_per_person: float


def _quantiles(bounds: tuple[int, int] | None) -> np.ndarray:
    if bounds is None:
        return np.zeros(1)
    return bounds[0] + (np.arange(GRID) + 0.5) / GRID * (bounds[1] - bounds[0])


def active_days(persona: Persona, window_days: float) -> float:
    """Mean days a person of this persona is active inside the last `window_days`."""
    tenure = _quantiles(persona.tenure_days)[:, None]
    lapse = _quantiles(persona.lapse_days)[None, :]
    days = np.maximum(-lapse - np.maximum(-tenure, -window_days), 0.0)
    return float(days.mean())


def _per_person(persona: Persona, window_days: float) -> tuple[float, float, float]:
    """Expected (purchase + login, browse per unit scale, email per unit scale) events."""
    active = active_days(persona, window_days)
    q = persona.product_page_share
    purchase = (
        1 + LANDING_PRODUCT_SHARE + (persona.pages_mean - 1) * PURCHASE_PAGE_FACTOR * (1 + q)
        + 3 * persona.lines_mean + 4
    )  # fmt: skip
    browse = (
        1 + LANDING_PRODUCT_SHARE + (persona.pages_mean - 1) * (1 + q)
        + persona.cart_abandon_rate * (3 * (1 + ABANDON_EXTRA_ADDS) + 2 * CHECKOUT_REACHED)
    )  # fmt: skip
    web_orders = persona.order_rate[0] / 365.0 * active * persona.web_share
    logins = 2 * persona.account_rate * min(persona.devices_mean, LOGIN_RATE * 10)
    fixed = web_orders * purchase + (logins if active > 0 else 0.0)
    open_rate = persona.email_open[0] / sum(persona.email_open)
    click_rate = persona.email_click[0] / sum(persona.email_click)
    email = active / CAMPAIGN_EVERY_DAYS * persona.consent[0] * open_rate * (1 + click_rate)
    return fixed, persona.session_rate / 30.0 * active * browse, email


def _totals(window_days: float) -> tuple[float, float, float]:
    parts = np.array([_per_person(p, window_days) for p in PERSONAS])
    shares = np.array([p.share for p in PERSONAS])
    fixed, browse, email = shares @ parts
    return float(fixed), float(browse), float(email)


def _window(target: float, history_days: int) -> float:
    """The longest window (days) whose web purchases stay within their share of the target."""
    low, high = MIN_WINDOW_DAYS, float(history_days)
    if _totals(high)[0] <= PURCHASE_SHARE_OF_TARGET * target:
        return high
    for _ in range(30):
        middle = (low + high) / 2
        if _totals(middle)[0] <= PURCHASE_SHARE_OF_TARGET * target:
            low = middle
        else:
            high = middle
    return float(np.floor(low))


def event_budget(*, target: float, history_days: int, window_days: int | None) -> EventBudget:
    """Pick the event window (unless given) and the browse/email scales for `target` events.

    Web purchases in the window are fixed by the orders; browsing sessions and campaign emails
    fill the rest of the budget. The average cannot fall below the purchase events.
    """
    window = float(window_days) if window_days is not None else _window(target, history_days)
    fixed, browse, email = _totals(window)
    rest = max(target - fixed, 0.0)
    scale = rest / (browse + email) if browse + email > 0 else 0.0
    email_scale = min(scale, 1.0)
    browse_scale = (rest - email_scale * email) / browse if browse > 0 else 0.0
    expected = fixed + browse_scale * browse + email_scale * email
    return EventBudget(
        window_days=window, browse_scale=browse_scale, email_scale=email_scale,
        expected_per_person=expected,
    )  # fmt: skip
