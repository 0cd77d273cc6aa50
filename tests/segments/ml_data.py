"""Test data for the ML services: profiles with computed traits drawn from known groups
(bulk-written, fast), and order/event histories of steady buyers and of customers who stop."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from cdp.core.actor import Actor
from profiles.models import ComputedTraits, Event, Order, Profile, Source
from profiles.services.sources import source_create
from segments.models import ClusterDefinition, PredictiveModel
from segments.services.ml.definitions import (
    ClusterDefinitionInput,
    PredictiveModelInput,
    cluster_definition_create,
    predictive_model_create,
)

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
ACTOR = Actor(user_id=None, label="test")
# (orders_count, lifetime_value, sessions_30d, days since last order) per group: well apart.
GROUPS = {
    "big spenders": (12.0, 2400.0, 9.0, 5.0),
    "bargain hunters": (6.0, 180.0, 4.0, 30.0),
    "sleepers": (1.0, 60.0, 0.0, 400.0),
}
FEATURES = ("orders_count", "lifetime_value", "sessions_30d", "recency_days")
_orders = itertools.count(1)


def spec(features: tuple[str, ...] = FEATURES, **extra: object) -> dict[str, object]:
    """A pipeline spec: median imputation, log scaling for money and counts."""
    scaling = {"lifetime_value": "log1p_standard", "orders_count": "log1p_standard"}
    return {
        "numeric": [
            {"name": name, "imputation": "median", "scaling": scaling.get(name, "standard")}
            for name in features
        ],
        "max_missing_share": 0.5,
        **extra,
    }


def population(
    per_group: int = 60, *, seed: int = 0, shift: float = 1.0, now: datetime = NOW
) -> dict[int, str]:
    """Profiles with computed traits around each group's centre (lognormal noise); `shift`
    multiplies money and counts (a changed population). Returns profile id -> group."""
    rng = np.random.default_rng(seed)
    truth: dict[int, str] = {}
    rows: list[ComputedTraits] = []
    for group, (orders, value, sessions, recency) in GROUPS.items():
        profiles = Profile.objects.bulk_create(Profile() for _ in range(per_group))
        for profile in profiles:
            noise = rng.lognormal(0.0, 0.15, size=4)
            rows.append(
                ComputedTraits(
                    profile=profile,
                    computed_at=now,
                    orders_count=round(orders * shift * noise[0]),
                    lifetime_value=Decimal(str(round(value * shift * noise[1], 2))),
                    sessions_30d=round(sessions * shift * noise[2]),
                    last_order_at=now - timedelta(days=float(recency * noise[3])),
                )
            )
            truth[profile.pk] = group
    ComputedTraits.objects.bulk_create(rows)
    return truth


def definition(name: str = "Customers", **overrides: object) -> ClusterDefinition:
    fields: dict[str, object] = {"spec": spec(), "k_min": 2, "k_max": 6, "stability_boots": 3}
    fields.update(overrides)
    return cluster_definition_create(
        data=ClusterDefinitionInput(name=name, **fields),  # type: ignore[arg-type]
        actor=ACTOR,
    )


def shop_source() -> Source:
    existing = Source.objects.filter(name="ml-shop").first()
    if existing is not None:
        return existing
    created, _ = source_create(name="ml-shop", actor=ACTOR)
    return created


def order(profile: Profile, at: datetime, total: float, status: str = "completed") -> Order:
    amount = Decimal(str(round(total, 2)))
    return Order(
        order_id=f"ml-{next(_orders)}",
        profile=profile,
        origin_profile=profile,
        source=shop_source(),
        placed_at=at,
        status=status,
        currency="EUR",
        total=amount,
        total_base=amount,
    )


def page_view(profile: Profile, at: datetime) -> Event:
    number = next(_orders)
    return Event(
        source=shop_source(),
        message_id=f"ml-e-{number}",
        type="page",
        timestamp=at,
        received_at=at,
        payload={"type": "page"},
        status=Event.Status.PROCESSED,
        processed_at=at,
        profile=profile,
        origin_profile=profile,
    )


def histories(
    steady: int = 80, stopping: int = 80, *, seed: int = 0, now: datetime = NOW
) -> dict[int, bool]:
    """Customers over two years: steady buyers order every ~25 days until now; the others
    stop at a random time (so some stop inside each outcome window). Each order day also has
    a page view. Returns profile id -> stops."""
    rng = np.random.default_rng(seed)
    truth: dict[int, bool] = {}
    orders: list[Order] = []
    events: list[Event] = []
    start = now - timedelta(days=730)
    for index in range(steady + stopping):
        stops = index >= steady
        profile = Profile.objects.create()
        end = now - timedelta(days=float(rng.uniform(20, 500))) if stops else now
        day = start + timedelta(days=float(rng.uniform(0, 40)))
        while day < end:
            orders.append(order(profile, day, float(rng.lognormal(4.0, 0.4))))
            events.append(page_view(profile, day))
            day += timedelta(days=float(rng.gamma(4.0, 25.0 / 4.0 if not stops else 40.0 / 4.0)))
        truth[profile.pk] = stops
    Order.objects.bulk_create(orders)
    Event.objects.bulk_create(events)
    return truth


def predictive(name: str, target: str, **overrides: object) -> PredictiveModel:
    fields: dict[str, object] = {"horizon_days": 60, "n_splits": 3, "algorithms": ("logistic",)}
    fields.update(overrides)
    return predictive_model_create(
        data=PredictiveModelInput(name=name, target=target, **fields),  # type: ignore[arg-type]
        actor=ACTOR,
    )
