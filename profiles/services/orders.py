"""Profiles services: orders from "Order Completed" events, in their own and the base currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from profiles.compute.normalise import (
    NormalisationError,
    convert_amount,
    normalise_currency,
    parse_amount,
)
from profiles.models import Event, Order

ORDER_EVENTS = frozenset({"Order Completed", "Order Cancelled", "Order Refunded"})
_STATUS_BY_EVENT = {
    "Order Completed": "completed",
    "Order Cancelled": "cancelled",
    "Order Refunded": "refunded",
}


def order_record_from_event(*, event: Event, profile_id: int) -> Order | None:
    """Create or update the Order an order event describes; None when it names no order.

    Idempotent: the same event twice leaves one row. A later status (refund) updates it.
    Money that cannot be read is left out (the event stays; the data-quality report counts it).
    """
    properties: dict[str, Any] = event.payload.get("properties") or {}
    order_id = str(properties.get("order_id") or properties.get("orderId") or "").strip()
    if not order_id:
        return None
    try:
        currency = normalise_currency(properties.get("currency") or settings.CDP_BASE_CURRENCY)
        total = parse_amount(
            properties.get("total", properties.get("revenue", properties.get("value")))
        )
        total_base = convert_amount(
            total or Decimal(0),
            currency=currency or "",
            base=settings.CDP_BASE_CURRENCY,
            rates=settings.CDP_CURRENCY_RATES,
        )
    except NormalisationError:
        return None
    status = str(properties.get("status") or _STATUS_BY_EVENT.get(event.event, "completed"))
    defaults = {
        "profile_id": profile_id,
        "origin_profile_id": profile_id,
        "source_id": event.source_id,
        "event": event,
        "placed_at": event.timestamp,
        "currency": currency,
        "total": total or Decimal(0),
        "total_base": total_base,
        "items": _count_items(properties),
        "category": _category(properties),
        "status": status if status in Order.Status.values else Order.Status.COMPLETED,
    }
    order, created = Order.objects.get_or_create(order_id=order_id, defaults=defaults)
    if not created and event.event != "Order Completed" and order.status != defaults["status"]:
        order.status = defaults["status"]
        order.save(update_fields=["status"])
    return order


def _count_items(properties: dict[str, Any]) -> int:
    products = properties.get("products")
    if isinstance(products, list):
        return sum(_as_int(item.get("quantity", 1)) for item in products if isinstance(item, dict))
    return _as_int(properties.get("items", 0))


def _as_int(value: Any) -> int:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return 0


def _category(properties: dict[str, Any]) -> str:
    category = properties.get("category")
    if not category and isinstance(properties.get("products"), list) and properties["products"]:
        first = properties["products"][0]
        category = first.get("category") if isinstance(first, dict) else None
    return str(category or "")[:100]
