"""Demo data: personas, the behaviour each one drives, and its seasonal activity curve."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

CATEGORIES: tuple[str, ...] = (
    "new_season", "womenswear", "menswear", "shoes", "accessories", "sale", "beauty", "home",
    "kids",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Persona:
    """How one kind of customer behaves; rates are per person, drawn around these values."""

    name: str
    share: float
    age: tuple[float, float]  # mean, standard deviation in years
    tenure_days: tuple[int, int]  # signed up this many days before as_of (uniform)
    lapse_days: tuple[int, int] | None  # last activity this many days before as_of (uniform)
    order_rate: tuple[float, float]  # orders per year: mean and Gamma shape across people
    order_regularity: float  # Gamma shape of the gaps between orders: 1 Poisson, >1 steadier
    price_level: tuple[float, float]  # Beta(a, b): where in a category's price range they buy
    lines_mean: float  # order lines per order (at least one)
    category_weights: tuple[float, ...]  # over CATEGORIES
    sale_affinity: float  # activity multiplier inside sale periods
    season_affinity: float  # activity multiplier in new-season launches
    web_share: float  # share of orders placed online (the rest in a store)
    cancel_rate: float
    refund_rate: float
    account_rate: float  # share with a web-shop login
    loyalty_rate: float  # share in the loyalty programme
    devices_mean: float
    session_rate: float  # browse sessions per 30 active days, before calibration
    pages_mean: float  # pages per browse session
    session_minutes: float  # median session duration
    product_page_share: float
    cart_abandon_rate: float  # share of browse sessions that fill a cart and leave
    email_open: tuple[float, float]  # Beta(a, b) of a person's open rate
    email_click: tuple[float, float]  # Beta(a, b) of a person's click rate once opened
    consent: tuple[float, float, float, float]  # P(yes) for email, sms, analytics, ads


PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="trendsetter",
        share=0.15,
        age=(29, 7),
        tenure_days=(60, 1500),
        lapse_days=None,
        order_rate=(4.5, 3.0),
        order_regularity=1.0,
        price_level=(4.0, 2.0),
        lines_mean=2.0,
        category_weights=(0.38, 0.18, 0.12, 0.14, 0.1, 0.02, 0.04, 0.01, 0.01),
        sale_affinity=0.6,
        season_affinity=2.5,
        web_share=0.85,
        cancel_rate=0.03,
        refund_rate=0.06,
        account_rate=0.95,
        loyalty_rate=0.6,
        devices_mean=2.2,
        session_rate=6.0,
        pages_mean=9.0,
        session_minutes=14.0,
        product_page_share=0.6,
        cart_abandon_rate=0.12,
        email_open=(4.0, 4.0),
        email_click=(2.0, 5.0),
        consent=(0.8, 0.35, 0.75, 0.6),
    ),
    Persona(
        name="deal_seeker",
        share=0.25,
        age=(38, 12),
        tenure_days=(60, 1800),
        lapse_days=None,
        order_rate=(3.5, 2.0),
        order_regularity=1.0,
        price_level=(1.3, 6.0),
        lines_mean=1.2,
        category_weights=(0.02, 0.1, 0.08, 0.08, 0.06, 0.5, 0.06, 0.05, 0.05),
        sale_affinity=4.0,
        season_affinity=0.7,
        web_share=0.8,
        cancel_rate=0.04,
        refund_rate=0.1,
        account_rate=0.9,
        loyalty_rate=0.55,
        devices_mean=1.8,
        session_rate=4.0,
        pages_mean=6.0,
        session_minutes=8.0,
        product_page_share=0.55,
        cart_abandon_rate=0.3,
        email_open=(6.0, 3.0),
        email_click=(5.0, 4.0),
        consent=(0.92, 0.5, 0.7, 0.55),
    ),
    Persona(
        name="occasional",
        share=0.30,
        age=(45, 15),
        tenure_days=(30, 2500),
        lapse_days=None,
        order_rate=(0.8, 2.5),
        order_regularity=1.0,
        price_level=(3.0, 3.0),
        lines_mean=1.5,
        category_weights=(0.05, 0.2, 0.16, 0.12, 0.1, 0.1, 0.08, 0.1, 0.09),
        sale_affinity=1.2,
        season_affinity=1.0,
        web_share=0.65,
        cancel_rate=0.04,
        refund_rate=0.05,
        account_rate=0.65,
        loyalty_rate=0.25,
        devices_mean=1.2,
        session_rate=0.8,
        pages_mean=3.5,
        session_minutes=4.0,
        product_page_share=0.45,
        cart_abandon_rate=0.08,
        email_open=(2.0, 8.0),
        email_click=(1.5, 8.5),
        consent=(0.5, 0.15, 0.6, 0.35),
    ),
    Persona(
        name="loyal",
        share=0.20,
        age=(48, 12),
        tenure_days=(800, 3600),
        lapse_days=None,
        order_rate=(5.0, 6.0),
        order_regularity=3.0,
        price_level=(3.5, 2.5),
        lines_mean=1.9,
        category_weights=(0.1, 0.22, 0.18, 0.12, 0.1, 0.06, 0.08, 0.07, 0.07),
        sale_affinity=1.0,
        season_affinity=1.2,
        web_share=0.7,
        cancel_rate=0.02,
        refund_rate=0.04,
        account_rate=0.97,
        loyalty_rate=0.9,
        devices_mean=1.6,
        session_rate=3.0,
        pages_mean=6.0,
        session_minutes=9.0,
        product_page_share=0.5,
        cart_abandon_rate=0.08,
        email_open=(5.0, 4.0),
        email_click=(2.5, 6.0),
        consent=(0.85, 0.4, 0.8, 0.45),
    ),
    Persona(
        name="lapsed",
        share=0.10,
        age=(42, 14),
        tenure_days=(520, 2500),
        lapse_days=(150, 400),
        order_rate=(3.0, 2.0),
        order_regularity=1.0,
        price_level=(3.0, 3.0),
        lines_mean=1.7,
        category_weights=(0.06, 0.2, 0.16, 0.12, 0.1, 0.12, 0.08, 0.08, 0.08),
        sale_affinity=1.1,
        season_affinity=1.0,
        web_share=0.7,
        cancel_rate=0.05,
        refund_rate=0.07,
        account_rate=0.85,
        loyalty_rate=0.45,
        devices_mean=1.4,
        session_rate=2.5,
        pages_mean=5.0,
        session_minutes=6.0,
        product_page_share=0.5,
        cart_abandon_rate=0.1,
        email_open=(3.0, 5.0),
        email_click=(1.5, 6.0),
        consent=(0.6, 0.2, 0.65, 0.4),
    ),
)

PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)


def persona_array(field: str) -> np.ndarray:
    """One persona attribute as an array indexed by persona number (2-D for tuples)."""
    return np.array([getattr(p, field) for p in PERSONAS], dtype=float)


def _in_windows(month_day: np.ndarray, windows: tuple[tuple[int, int], ...]) -> np.ndarray:
    hit = np.zeros(month_day.shape, dtype=bool)
    for first, last in windows:
        hit |= (month_day >= first) & (month_day <= last)
    return hit


SALE_PERIODS = ((101, 120), (625, 720), (1122, 1202), (1226, 1231))  # month*100 + day
SEASON_LAUNCHES = ((301, 415), (901, 1015))
CHRISTMAS = ((1201, 1223),)


def day_multipliers(persona: Persona, days: np.ndarray) -> np.ndarray:
    """Relative activity of a persona on each calendar day (datetime64[D]), mean 1 over `days`."""
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    month_day = months * 100 + (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    weight = np.ones(days.shape)
    weight[_in_windows(month_day, SALE_PERIODS)] *= persona.sale_affinity
    weight[_in_windows(month_day, SEASON_LAUNCHES)] *= persona.season_affinity
    weight[_in_windows(month_day, CHRISTMAS)] *= 1.3
    return weight / weight.mean()


@dataclass(frozen=True, kw_only=True, eq=False)
class ActivityClock:
    """Cumulative seasonal activity per persona: maps calendar time to 'activity time'.

    Times are float days relative to as_of midnight UTC (so all history is negative). A
    renewal process run at a constant rate in activity time and mapped back with `to_days`
    has the persona's seasonal intensity in calendar time.
    """

    grid: np.ndarray  # day boundaries, -history_days .. 0
    cumulative: np.ndarray  # shape (personas, len(grid)), starts at 0

    @classmethod
    def build(cls, *, as_of: datetime.date, history_days: int) -> ActivityClock:
        """Tabulate each persona's day multipliers over the history window."""
        end = np.datetime64(as_of, "D")
        days = np.arange(end - history_days, end)
        grid = np.arange(-history_days, 1, dtype=float)
        rows = [np.concatenate(([0.0], np.cumsum(day_multipliers(p, days)))) for p in PERSONAS]
        return cls(grid=grid, cumulative=np.vstack(rows))

    def to_activity(self, persona: int, days: np.ndarray) -> np.ndarray:
        """Calendar days (relative to as_of) to activity time for one persona."""
        return np.interp(days, self.grid, self.cumulative[persona])

    def to_days(self, persona: int, activity: np.ndarray) -> np.ndarray:
        """Activity time back to calendar days (relative to as_of) for one persona."""
        return np.interp(activity, self.cumulative[persona], self.grid)
