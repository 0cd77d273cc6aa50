"""Admin UI (ML): template filters for the run pages — dict lookup, shares and KPI formats."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

KPI_LABELS = {
    "customers": "Customers",
    "share": "Share",
    "conversion_rate": "Conversion rate (order in 90 days)",
    "aov": "Average order value",
    "lifetime_value": "Lifetime value",
    "repeat_purchase_rate": "Repeat purchase rate",
    "email_click_rate": "Email click rate",
}
_RATES = {"share", "conversion_rate", "repeat_purchase_rate", "email_click_rate"}


@register.filter
def get(mapping: Any, key: str) -> Any:
    """mapping[key], or None (for dicts from JSON columns)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


@register.filter
def kpi_label(column: str) -> str:
    return KPI_LABELS.get(column, column.replace("_", " "))


@register.filter
def kpi_value(value: Any, column: str) -> str:
    if value is None:
        return "—"
    if column in _RATES:
        return percent(value)
    if column == "customers":
        return f"{int(value):,}"
    return f"{float(value):,.2f}"
