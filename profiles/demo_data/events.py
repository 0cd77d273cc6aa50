"""Demo data: Segment-spec web events (page, identify, track) built from the sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ids
from .catalog import Catalog
from .names import COUNTRIES
from .orders import OrderSet
from .people import Population
from .personas import CATEGORIES, persona_array
from .sessions import LANDING_PRODUCT_SHARE, Devices, Sessions

EVENT_COLUMNS = (
    "message_id", "type", "event", "name", "user_id", "anonymous_id", "timestamp", "session_id",
    "properties", "context", "traits",
)  # fmt: skip
SHOP_URL = "https://shop.example.com"
HOME, CATEGORY, PRODUCT, LOGIN, CHECKOUT, CONFIRMATION = range(6)  # page kinds
IDENTIFY, VIEWED, ADDED, STARTED, COMPLETED = range(6, 11)  # other kinds
PAGE_NAMES = ("Home", "Category", "Product", "Login", "Checkout", "Order Confirmation")
TRACK_EVENTS = {VIEWED: "Product Viewed", ADDED: "Product Added", STARTED: "Checkout Started",
                COMPLETED: "Order Completed"}  # fmt: skip
KIND_TYPES = np.array(["page"] * 6 + ["identify"] + ["track"] * 4, dtype=object)
KIND_EVENTS = np.array(
    [None] * 7 + [TRACK_EVENTS[k] for k in range(VIEWED, COMPLETED + 1)], dtype=object
)
KIND_NAMES = np.array([*PAGE_NAMES] + [None] * 5, dtype=object)
TRAIT_COLUMNS = ("email", "first_name", "last_name")
LOGIN_KEY = 2  # rows of a login session before this key happen before the login
FREE_KEY, CART_KEY, CHECKOUT_KEY = 10, 100_000, 200_000


@dataclass(frozen=True, kw_only=True, eq=False)
class EventRows:
    """Events of one chunk as parallel columns (EVENT_COLUMNS) plus each row's person."""

    columns: dict[str, list[Any]]
    person: np.ndarray
    day: np.ndarray  # float days relative to as_of midnight UTC

    @property
    def size(self) -> int:
        """Number of events."""
        return len(self.person)


def _rows(
    session: np.ndarray, key: np.ndarray | int, kind: np.ndarray | int
) -> dict[str, np.ndarray]:
    return {
        "session": session,
        "key": np.broadcast_to(np.asarray(key, dtype=np.int64), session.shape),
        "kind": np.broadcast_to(np.asarray(kind, dtype=np.int64), session.shape),
    }


def _within(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    owner = np.repeat(np.arange(counts.size), counts)
    return owner, np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)


def _layout(rng: np.random.Generator, sessions: Sessions, pop: Population) -> dict[str, np.ndarray]:
    """Rows of every session in order: landing, login, browsing, cart, checkout, purchase."""
    every = np.arange(sessions.size)
    u = rng.random(sessions.size)
    landing = np.where(u < LANDING_PRODUCT_SHARE, PRODUCT, np.where(u < 0.65, CATEGORY, HOME))
    login = every[sessions.is_login]
    free, i = _within(sessions.free_pages)
    share = persona_array("product_page_share")[pop.persona[sessions.person[free]]]
    free_kind = np.where(rng.random(free.size) < share, PRODUCT, CATEGORY)
    cart, j = _within(sessions.adds)
    checkout = every[sessions.reaches_checkout]
    purchase = every[sessions.order >= 0]
    parts = [
        _rows(every, 0, landing),
        _rows(every[landing == PRODUCT], 1, VIEWED),
        _rows(login, LOGIN_KEY, LOGIN),
        _rows(login, LOGIN_KEY + 1, IDENTIFY),
        _rows(free, FREE_KEY + 2 * i, free_kind),
        _rows(free[free_kind == PRODUCT], FREE_KEY + 1 + 2 * i[free_kind == PRODUCT], VIEWED),
        _rows(cart, CART_KEY + 3 * j, PRODUCT),
        _rows(cart, CART_KEY + 3 * j + 1, VIEWED),
        _rows(cart, CART_KEY + 3 * j + 2, ADDED),
        _rows(checkout, CHECKOUT_KEY, CHECKOUT),
        _rows(checkout, CHECKOUT_KEY + 1, STARTED),
        _rows(purchase, CHECKOUT_KEY + 2, CONFIRMATION),
        _rows(purchase, CHECKOUT_KEY + 3, COMPLETED),
    ]
    rows = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    order = np.lexsort((rows["key"], rows["session"]))
    return {name: value[order] for name, value in rows.items()}


def _products(
    rng: np.random.Generator, rows: dict[str, np.ndarray], sessions: Sessions, pop: Population,
    orders: OrderSet, catalog: Catalog,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Product and quantity per row: chosen on page rows, carried to the rows after them."""
    kind, session = rows["kind"], rows["session"]
    pages = np.flatnonzero(kind <= PRODUCT)  # HOME, CATEGORY and PRODUCT pages
    person = sessions.person[session[pages]]
    product = np.full(kind.size, -1, dtype=np.int64)
    product[pages] = catalog.pick(
        rng,
        category_preferences=pop.category_preferences[person],
        price_level=pop.price_level[person],
    )
    quantity = np.ones(kind.size, dtype=np.int64)
    cart = np.flatnonzero((rows["key"] >= CART_KEY) & (rows["key"] < CHECKOUT_KEY))
    cart_order = sessions.order[session[cart]]
    bought = cart[cart_order >= 0]
    first_line = np.cumsum(np.bincount(orders.line_order, minlength=orders.person.size))
    first_line -= np.bincount(orders.line_order, minlength=orders.person.size)
    line = first_line[sessions.order[session[bought]]] + (rows["key"][bought] - CART_KEY) // 3
    product[bought] = orders.line_product[line]
    quantity[bought] = orders.line_quantity[line]
    latest_page = np.maximum.accumulate(np.where(kind <= CONFIRMATION, np.arange(kind.size), 0))
    return product[latest_page], quantity


def _times(rng: np.random.Generator, rows: dict[str, np.ndarray], sessions: Sessions) -> np.ndarray:
    session = rows["session"]
    count = np.bincount(session, minlength=sessions.size)
    rank = np.arange(session.size) - np.repeat(np.cumsum(count) - count, count)
    fraction = (rank + 0.8 * rng.random(session.size)) / count[session]
    fraction[rows["kind"] == COMPLETED] = 1.0  # the order's own timestamp
    return sessions.start[session] + sessions.duration[session] * fraction


def _path(kind: int, product_id: str, category: str) -> str:
    return ("/", f"/c/{category}", f"/p/{product_id}", "/account/login", "/checkout",
            "/checkout/complete")[kind]  # fmt: skip


@dataclass(frozen=True, kw_only=True, eq=False)
class _Lookups:
    """Per-session and per-person values the row builder needs, as plain Python lists."""

    catalog_id: list[str]
    catalog_sku: list[str]
    catalog_category: list[str]
    catalog_price: list[float]
    session_currency: list[str]
    session_cart: list[str]
    session_value: list[float]
    order_id: list[str]
    order_total: list[float]
    order_products: dict[int, list[dict[str, Any]]]


def _order_products(
    orders: OrderSet, catalog: Catalog, wanted: np.ndarray
) -> dict[int, list[dict[str, Any]]]:
    wanted_set = set(wanted.tolist())
    products: dict[int, list[dict[str, Any]]] = {o: [] for o in wanted_set}
    for o, p, q in zip(
        orders.line_order.tolist(),
        orders.line_product.tolist(),
        orders.line_quantity.tolist(),
        strict=True,
    ):
        if o in wanted_set:
            products[o].append(
                {
                    "product_id": catalog.product_id[p],
                    "sku": catalog.sku[p],
                    "category": CATEGORIES[catalog.category[p]],
                    "price": float(catalog.price[p]),
                    "quantity": q,
                }
            )
    return products


def _lookups(
    rng: np.random.Generator, sessions: Sessions, pop: Population, orders: OrderSet,
    catalog: Catalog, cart_value: np.ndarray,
) -> _Lookups:  # fmt: skip
    home = np.array([c.currency for c in COUNTRIES], dtype=object)[pop.country[sessions.person]]
    bought = sessions.order >= 0
    currency = home.copy()
    currency[bought] = orders.currency[sessions.order[bought]]
    carts = ids.hex_tokens(rng, sessions.size, chars=12)
    return _Lookups(
        catalog_id=catalog.product_id.tolist(),
        catalog_sku=catalog.sku.tolist(),
        catalog_category=[CATEGORIES[c] for c in catalog.category.tolist()],
        catalog_price=catalog.price.tolist(),
        session_currency=currency.tolist(),
        session_cart=[
            f"cart_{t}" if a else "" for t, a in zip(carts, sessions.adds.tolist(), strict=True)
        ],
        session_value=np.round(cart_value, 2).tolist(),
        order_id=orders.order_id.tolist(),
        order_total=orders.total.tolist(),
        order_products=_order_products(orders, catalog, sessions.order[bought]),
    )


def _properties(
    kind: int, product: int, quantity: int, session: int, order: int, page: dict[str, str],
    look: _Lookups,
) -> dict[str, Any] | None:  # fmt: skip
    if kind <= CONFIRMATION:
        return page
    if kind == IDENTIFY:
        return None
    currency = look.session_currency[session]
    if kind == STARTED:
        return {
            "cart_id": look.session_cart[session], "value": look.session_value[session],
            "currency": currency,
        }  # fmt: skip
    if kind == COMPLETED:
        return {"order_id": look.order_id[order], "revenue": look.order_total[order],
                "currency": currency, "products": look.order_products[order]}  # fmt: skip
    properties: dict[str, Any] = {
        "product_id": look.catalog_id[product], "sku": look.catalog_sku[product],
        "category": look.catalog_category[product], "price": look.catalog_price[product],
        "currency": currency,
    }  # fmt: skip
    if kind == ADDED:
        properties["quantity"] = quantity
        properties["cart_id"] = look.session_cart[session]
    return properties


def _consent_context(choices: tuple[bool, bool, bool, bool]) -> dict[str, Any]:
    """Segment's consent context for (email, sms, analytics, ads); sms has no web category."""
    email, _sms, analytics, ads = choices
    return {"categoryPreferences": {"analytics": analytics, "advertising": ads, "email": email}}


def _identities(
    rows: dict[str, np.ndarray], sessions: Sessions, devices: Devices, pop: Population
) -> tuple[list[str | None], list[str]]:
    session = rows["session"]
    before_login = sessions.is_login[session] & (rows["key"] < LOGIN_KEY)
    known = sessions.is_logged_in[session] & ~before_login
    user = pop.frame["user_id"].to_numpy(dtype=object)[sessions.person[session]]
    user_id = [u if k else None for u, k in zip(user.tolist(), known.tolist(), strict=True)]
    return user_id, devices.anonymous_id[sessions.device[session]].tolist()


def _traits(pop: Population, person: np.ndarray) -> list[dict[str, str]]:
    frame = pop.frame
    values = [frame[name].to_numpy(dtype=object)[person].tolist() for name in TRAIT_COLUMNS]
    return [dict(zip(TRAIT_COLUMNS, row, strict=True)) for row in zip(*values, strict=True)]


def _page_urls(
    kind: np.ndarray, product: np.ndarray, look: _Lookups
) -> tuple[list[str], list[str]]:
    """Path and URL of the page each row happens on."""
    latest_page = np.maximum.accumulate(np.where(kind <= CONFIRMATION, np.arange(kind.size), 0))
    pages = np.unique(latest_page)
    paths = np.empty(kind.size, dtype=object)
    paths[pages] = [
        _path(k, look.catalog_id[p] if p >= 0 else "", look.catalog_category[p] if p >= 0 else "")
        for k, p in zip(kind[pages].tolist(), product[pages].tolist(), strict=True)
    ]
    path = paths[latest_page].tolist()
    return path, [f"{SHOP_URL}{x}" for x in path]


def build_web_events(
    rng: np.random.Generator, sessions: Sessions, devices: Devices, pop: Population,
    orders: OrderSet, catalog: Catalog,
) -> EventRows:  # fmt: skip
    """One row per Segment message of every session, in session order."""
    rows = _layout(rng, sessions, pop)
    product, quantity = _products(rng, rows, sessions, pop, orders, catalog)
    kind, session = rows["kind"], rows["session"]
    added = kind == ADDED
    cart_value = np.bincount(
        session[added], weights=catalog.price[product[added]] * quantity[added],
        minlength=sessions.size,
    )  # fmt: skip
    look = _lookups(rng, sessions, pop, orders, catalog, cart_value)
    day = _times(rng, rows, sessions)
    person = sessions.person[session]
    device = sessions.device[session]
    path, url = _page_urls(kind, product, look)
    consent = pop.consent.tolist()
    with_consent = ((rows["key"] == 0) | (kind == IDENTIFY)).tolist()
    identify = np.flatnonzero(kind == IDENTIFY)
    traits = np.full(kind.size, None, dtype=object)
    traits[identify] = _traits(pop, person[identify])
    columns: dict[str, list[Any]] = {
        "type": KIND_TYPES[kind].tolist(),
        "event": KIND_EVENTS[kind].tolist(),
        "name": KIND_NAMES[kind].tolist(),
        "session_id": sessions.session_id[session].tolist(),
        "traits": traits.tolist(),
        "properties": [],
        "context": [],
    }
    columns["user_id"], columns["anonymous_id"] = _identities(rows, sessions, devices, pop)
    for k, s, p, q, order, who, ip, agent, sid, here, link, consents in zip(
        kind.tolist(), session.tolist(), product.tolist(), quantity.tolist(),
        sessions.order[session].tolist(), person.tolist(), devices.ip[device].tolist(),
        devices.user_agent[device].tolist(), columns["session_id"], path, url, with_consent,
        strict=True,
    ):  # fmt: skip
        context: dict[str, Any] = {
            "ip": ip, "userAgent": agent, "sessionId": sid, "page": {"path": here, "url": link},
        }  # fmt: skip
        if consents:
            context["consent"] = _consent_context(consent[who])
        page = {"path": here, "url": link, "title": PAGE_NAMES[k]} if k <= CONFIRMATION else {}
        columns["properties"].append(_properties(k, p, q, s, order, page, look))
        columns["context"].append(context)
    columns["message_id"] = ids.uuid4_strings(rng, kind.size)
    return EventRows(columns=columns, person=person, day=day)
