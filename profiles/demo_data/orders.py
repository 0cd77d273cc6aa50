"""Demo data: the shop's orders (true values for the events, messy rows for orders.csv)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import formats, ids, timeline
from .catalog import Catalog
from .names import COUNTRIES
from .people import Population
from .personas import CATEGORIES, ActivityClock, persona_array

ORDER_COLUMNS = (
    "order_id", "user_id", "email", "placed_at", "currency", "total", "items", "category",
    "status",
)  # fmt: skip
CURRENCIES = ("EUR", "USD", "GBP")
CURRENCY_SPELLINGS = {"EUR": ("eur", "€", "Euro"), "USD": ("usd", "$", "US$"), "GBP": ("gbp", "£")}
FOREIGN_CURRENCY_RATE = 0.03
MAX_LINES = 6
ANOMALY_RATE = {"negative_total": 0.003, "unknown_currency": 0.002, "impossible_date": 0.002}


@dataclass(frozen=True, kw_only=True, eq=False)
class OrderSet:
    """One chunk's orders: the orders.csv frame plus the true values behind each row."""

    frame: pd.DataFrame  # ORDER_COLUMNS, one row per order, sorted by person then time
    person: np.ndarray  # person position in the chunk
    day: np.ndarray  # placed at, float days relative to as_of (whole seconds)
    total: np.ndarray  # true amount
    currency: np.ndarray  # true ISO code
    is_web: np.ndarray  # placed in the web shop (has an "Order Completed" event)
    is_logged_in: np.ndarray  # placed with the shop login (user_id set)
    line_order: np.ndarray  # order position of each order line
    line_product: np.ndarray  # catalogue row of each order line
    line_quantity: np.ndarray

    @property
    def order_id(self) -> np.ndarray:
        """The order ids, as in orders.csv."""
        return self.frame["order_id"].to_numpy(dtype=object)


def _lines(
    rng: np.random.Generator, catalog: Catalog, pop: Population, person: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = persona_array("lines_mean")[pop.persona[person]]
    count = np.minimum(1 + rng.poisson(mean - 1.0), MAX_LINES)
    line_order = np.repeat(np.arange(person.size), count)
    owner = person[line_order]
    product = catalog.pick(
        rng,
        category_preferences=pop.category_preferences[owner],
        price_level=pop.price_level[owner],
    )
    u = rng.random(line_order.size)
    quantity = 1 + (u < 0.1) + (u < 0.02)
    return line_order, product, quantity


def _currencies(rng: np.random.Generator, pop: Population, person: np.ndarray) -> np.ndarray:
    home = np.array([CURRENCIES.index(c.currency) for c in COUNTRIES])[pop.country[person]]
    foreign = rng.random(person.size) < FOREIGN_CURRENCY_RATE
    other = (home + rng.integers(1, len(CURRENCIES), person.size)) % len(CURRENCIES)
    return np.array(CURRENCIES, dtype=object)[np.where(foreign, other, home)]


def _checkout_emails(
    rng: np.random.Generator, pop: Population, person: np.ndarray, is_web: np.ndarray
) -> list[str]:
    primary = pop.frame["email"].to_numpy(dtype=object)[person].tolist()
    second = pop.frame["second_email"].to_numpy(dtype=object)[person].tolist()
    draw = rng.random(person.size).tolist()
    chosen = []
    for main, other, web, u in zip(primary, second, is_web.tolist(), draw, strict=True):
        if not web and u < 0.3:
            chosen.append("")  # store sale without an e-receipt
        elif other and u > 0.9:
            chosen.append(other)
        else:
            chosen.append(main)
    return formats.format_emails(rng, chosen, case_rate=0.06, space_rate=0.01, malformed_rate=0)


def _currency_text(rng: np.random.Generator, currency: np.ndarray) -> list[str]:
    draw = rng.random(currency.size).tolist()
    out = []
    for code, u in zip(currency.tolist(), draw, strict=True):
        if u < ANOMALY_RATE["unknown_currency"]:
            out.append("XXX")
        elif u > 0.85:
            spellings = CURRENCY_SPELLINGS[code]
            out.append(spellings[int((u - 0.85) / 0.15 * len(spellings))])
        else:
            out.append(code)
    return out


def _total_text(rng: np.random.Generator, total: np.ndarray, currency: np.ndarray) -> list[str]:
    draw = rng.random(total.size).tolist()
    out = []
    for amount, code, u in zip(total.tolist(), currency.tolist(), draw, strict=True):
        if u < ANOMALY_RATE["negative_total"]:
            amount = -amount
        if u > 0.9 and code == "EUR":  # European notation: 1.234,50
            text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
        elif u > 0.85:
            text = f"{amount:,.2f}"
        else:
            text = f"{amount:.2f}"
        out.append(text)
    return out


def _placed_at_text(rng: np.random.Generator, seconds: np.ndarray, city: np.ndarray) -> list[str]:
    wall, offsets = timeline.local_iso(seconds, city)
    utc = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").tolist()
    draw = rng.random(seconds.size).tolist()
    out = []
    for local, offset, instant, u in zip(wall, offsets, utc, draw, strict=True):
        if u < ANOMALY_RATE["impossible_date"]:
            text = f"{local[:4]}-02-30T{local[11:]}{offset}"
        elif u > 0.97:
            text = f"{instant}Z"
        elif u > 0.93:
            text = f"{local[8:10]}/{local[5:7]}/{local[:4]} {local[11:16]}"
        elif u > 0.88:
            text = instant.replace("T", " ")
        else:
            text = f"{local}{offset}"
        out.append(text)
    return out


def _statuses(rng: np.random.Generator, persona: np.ndarray) -> np.ndarray:
    cancel = persona_array("cancel_rate")[persona]
    refund = persona_array("refund_rate")[persona]
    u = rng.random(persona.size)
    return np.where(u < cancel, "cancelled", np.where(u < cancel + refund, "refunded", "completed"))


def build_orders(
    rng: np.random.Generator, pop: Population, *, catalog: Catalog, clock: ActivityClock,
    as_of: datetime.date, history_days: int, first_order: int, seed: int,
) -> OrderSet:  # fmt: skip
    """Orders of the chunk's people over the history window, before as_of."""
    start = np.maximum(pop.signup_day, -float(history_days))
    person, day = timeline.renewal_days(
        rng, clock, persona=pop.persona, start=start, end=pop.end_day, rate=pop.order_rate,
        regularity=persona_array("order_regularity"),
    )  # fmt: skip
    offsets = timeline.utc_offsets_hours(as_of)[pop.city[person]]
    day = timeline.at_local_time(rng, day, offsets, pop.end_day[person])
    order = np.lexsort((day, person))
    person, day = person[order], day[order]
    line_order, product, quantity = _lines(rng, catalog, pop, person)
    amounts = catalog.price[product] * quantity
    total = np.round(np.bincount(line_order, weights=amounts, minlength=person.size), 2)
    main_line = np.cumsum(np.bincount(line_order, minlength=person.size)) - np.bincount(
        line_order, minlength=person.size
    )
    category = np.array(CATEGORIES, dtype=object)[catalog.category[product[main_line]]]
    is_web = rng.random(person.size) < persona_array("web_share")[pop.persona[person]]
    is_logged_in = is_web & pop.has_account[person]
    currency = _currencies(rng, pop, person)
    seconds = timeline.epoch_seconds(as_of, day)
    number = ids.scramble(
        first_order + np.arange(person.size),
        modulus=10**9,
        multiplier=ids.ORDER_MULTIPLIER,
        offset=ids.seed_offset(seed, salt=5, modulus=10**9),
    )
    user_id = pop.frame["user_id"].to_numpy(dtype=object)[person]
    frame = pd.DataFrame(
        {
            "order_id": ids.prefixed_numbers("O", number, width=9),
            "user_id": np.where(is_logged_in, user_id, ""),
            "email": _checkout_emails(rng, pop, person, is_web),
            "placed_at": _placed_at_text(rng, seconds, pop.city[person]),
            "currency": _currency_text(rng, currency),
            "total": _total_text(rng, total, currency),
            "items": np.bincount(line_order, weights=quantity, minlength=person.size)
            .astype(np.int64)
            .astype(str),
            "category": category,
            "status": _statuses(rng, pop.persona[person]),
        },
        columns=list(ORDER_COLUMNS),
    )
    return OrderSet(
        frame=frame, person=person, day=day, total=total, currency=currency, is_web=is_web,
        is_logged_in=is_logged_in, line_order=line_order, line_product=product,
        line_quantity=quantity,
    )  # fmt: skip
