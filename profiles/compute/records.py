"""Profiles compute: file rows (CRM, orders, events) to Segment-spec messages, with validation.

A row is mapped to canonical column names, normalised, checked, and turned into the message the
HTTP API would have received; a row that fails becomes a RowRejection with every reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .normalise import (
    NormalisationError,
    normalise_currency,
    normalise_field,
    parse_amount,
    parse_bool,
    parse_datetime,
)
from .quality import check_amount, check_birth_date, check_event_time

KIND_CRM, KIND_ORDERS, KIND_EVENTS = "crm", "orders", "events"

CRM_COLUMNS = (
    "crm_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "loyalty_id",
    "signup_at",
    "updated_at",
    "consent_email",
    "consent_sms",
    "consent_analytics",
    "consent_ads",
)
CRM_REQUIRED = ("crm_id",)
ORDER_COLUMNS = (
    "order_id",
    "user_id",
    "email",
    "phone",
    "placed_at",
    "currency",
    "total",
    "items",
    "category",
    "status",
)
ORDER_REQUIRED = ("order_id", "placed_at", "currency", "total")
EVENT_COLUMNS = (
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "timestamp",
    "properties",
)
CANONICAL_COLUMNS = {KIND_CRM: CRM_COLUMNS, KIND_ORDERS: ORDER_COLUMNS, KIND_EVENTS: EVENT_COLUMNS}

# CRM consent columns -> Segment consent category names (mapped to purposes by the consent app).
CONSENT_COLUMNS = {
    "consent_email": "email",
    "consent_sms": "sms",
    "consent_analytics": "analytics",
    "consent_ads": "advertising",
}
_CRM_TRAIT_COLUMNS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "loyalty_id",
)
ORDER_STATUSES = {"completed", "cancelled", "refunded"}


@dataclass(frozen=True, kw_only=True, slots=True)
class RowRejection:
    position: int
    record_id: str
    reasons: tuple[tuple[str, str, str], ...]  # (field, code, message)

    @property
    def code(self) -> str:
        return self.reasons[0][1]

    @property
    def detail(self) -> str:
        return "; ".join(f"{field}: {message}" for field, _, message in self.reasons)


@dataclass(frozen=True, kw_only=True)
class RowContext:
    """What row conversion needs to know beyond the row: time, region, currency rules."""

    now: datetime
    today: date
    default_region: str | None
    base_currency: str
    currency_rates: Mapping[str, Decimal]


def apply_mapping(row: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Rename columns: `mapping` is canonical name -> column in the file. Unmapped columns keep
    their own name; blank strings become None."""
    reverse = {file_column: canonical for canonical, file_column in mapping.items()}
    mapped: dict[str, Any] = {}
    for column, value in row.items():
        if column is None:
            continue
        name = reverse.get(column, column.strip())
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                value = None
        mapped[name] = value
    return mapped


def missing_columns(header: list[str], kind: str, mapping: Mapping[str, str]) -> list[str]:
    """Required canonical columns that neither the header nor the mapping provides."""
    required = {KIND_CRM: CRM_REQUIRED, KIND_ORDERS: ORDER_REQUIRED}.get(kind, ())
    present = {mapping.get(name, name) for name in required} & set(header)
    return [name for name in required if mapping.get(name, name) not in present]


def _missing(row: Mapping[str, Any], required: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return [(name, "missing_value", "is required") for name in required if row.get(name) is None]


def crm_row_to_message(
    row: Mapping[str, Any], *, position: int, context: RowContext
) -> dict[str, Any] | RowRejection:
    """One CRM record -> an identify message whose traits are normalised; consent in context."""
    reasons = _missing(row, CRM_REQUIRED)
    traits: dict[str, Any] = {}
    country = _country_hint(row)
    field_context = {"country": country, "default_region": country or context.default_region}
    for name, raw in row.items():
        if raw is None or name in CONSENT_COLUMNS or name in ("updated_at", "crm_id"):
            continue
        try:
            value = normalise_field(name, raw, context=field_context)
        except NormalisationError as exc:
            reasons.append((name, exc.code, str(exc)))
            continue
        traits[name] = _jsonable(value)
    reasons.extend(_crm_quality(traits, context))
    preferences, consent_reasons = _consent_preferences(row)
    reasons.extend(consent_reasons)
    record_id = str(row.get("crm_id") or "")
    if reasons:
        return RowRejection(position=position, record_id=record_id, reasons=tuple(reasons))
    traits["crm_id"] = record_id
    observed = _row_time(row.get("updated_at"), context)
    # Same record, same content -> same messageId, so re-importing a file stores nothing twice;
    # a changed record is a new observation.
    fingerprint = hashlib.sha256(
        json.dumps([traits, preferences], sort_keys=True).encode()
    ).hexdigest()[:20]
    message: dict[str, Any] = {
        "type": "identify",
        "messageId": f"crm:{record_id}:{fingerprint}",
        "traits": traits,
        "timestamp": observed.isoformat(),
        "context": {"source": "file", "import": {"position": position}},
    }
    if preferences:
        message["context"]["consent"] = {"categoryPreferences": preferences}
    return message


def _country_hint(row: Mapping[str, Any]) -> str | None:
    raw = row.get("country")
    if raw is None:
        return None
    try:
        return normalise_field("country", raw, context={})  # type: ignore[return-value]
    except NormalisationError:
        return None


def _crm_quality(traits: Mapping[str, Any], context: RowContext) -> list[tuple[str, str, str]]:
    birth = traits.get("birth_date")
    if not birth:
        return []
    issues = check_birth_date(date.fromisoformat(birth), today=context.today)
    return [(issue.field, issue.code, issue.message) for issue in issues]


def _consent_preferences(
    row: Mapping[str, Any],
) -> tuple[dict[str, bool], list[tuple[str, str, str]]]:
    preferences: dict[str, bool] = {}
    reasons: list[tuple[str, str, str]] = []
    for column, category in CONSENT_COLUMNS.items():
        raw = row.get(column)
        if raw is None:
            continue
        try:
            value = parse_bool(raw)
        except NormalisationError as exc:
            reasons.append((column, exc.code, str(exc)))
            continue
        if value is not None:
            preferences[category] = value
    return preferences, reasons


def _row_time(raw: Any, context: RowContext) -> datetime:
    if raw is None:
        return context.now
    try:
        return parse_datetime(raw) or context.now
    except NormalisationError:
        return context.now


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def order_row_to_message(
    row: Mapping[str, Any], *, position: int, context: RowContext
) -> dict[str, Any] | RowRejection:
    """One shop order -> an "Order Completed" track message with normalised money and time."""
    reasons = _missing(row, ORDER_REQUIRED)
    parsed: dict[str, Any] = {}
    for name, parse in (
        ("placed_at", parse_datetime),
        ("currency", normalise_currency),
        ("total", parse_amount),
    ):
        if row.get(name) is None:
            continue
        try:
            parsed[name] = parse(row[name])
        except NormalisationError as exc:
            reasons.append((name, exc.code, str(exc)))
    if parsed.get("currency") and parsed["currency"] not in context.currency_rates:
        reasons.append(("currency", "unknown_currency", "has no exchange rate configured"))
    if parsed.get("total") is not None:
        reasons.extend(
            (i.field, i.code, i.message) for i in check_amount(parsed["total"], field="total")
        )
    if parsed.get("placed_at") is not None:
        reasons.extend(
            (i.field, i.code, i.message)
            for i in check_event_time(parsed["placed_at"], now=context.now)
        )
    identity = _order_identity(row, context, reasons)
    status = str(row.get("status") or "completed").lower()
    if status not in ORDER_STATUSES:
        reasons.append(("status", "invalid_status", f"must be one of {sorted(ORDER_STATUSES)}"))
    if not identity and not any(field in ("email", "phone") for field, _, _ in reasons):
        reasons.append(("user_id", "missing_identity", "user_id, email or phone is required"))
    order_id = str(row.get("order_id") or "")
    if reasons:
        return RowRejection(position=position, record_id=order_id, reasons=tuple(reasons))
    return _order_message(row, parsed, identity, status, order_id, position)


def _order_identity(
    row: Mapping[str, Any], context: RowContext, reasons: list[tuple[str, str, str]]
) -> dict[str, str]:
    identity: dict[str, str] = {}
    if row.get("user_id") is not None:
        identity["user_id"] = str(row["user_id"])
    for name in ("email", "phone"):
        if row.get(name) is None:
            continue
        try:
            value = normalise_field(
                name, row[name], context={"default_region": context.default_region}
            )
        except NormalisationError as exc:
            reasons.append((name, exc.code, str(exc)))
            continue
        if value:
            identity[name] = str(value)
    return identity


def _order_message(
    row: Mapping[str, Any],
    parsed: Mapping[str, Any],
    identity: Mapping[str, str],
    status: str,
    order_id: str,
    position: int,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "order_id": order_id,
        "total": str(parsed["total"]),
        "revenue": str(parsed["total"]),
        "currency": parsed["currency"],
        "status": status,
    }
    if row.get("items") is not None:
        try:
            properties["items"] = int(float(row["items"]))
        except (TypeError, ValueError):
            properties["items"] = 0
    if row.get("category") is not None:
        properties["category"] = str(row["category"])
    message: dict[str, Any] = {
        "type": "track",
        "event": "Order Completed",
        "messageId": f"order:{order_id}:{status}",
        "timestamp": parsed["placed_at"].isoformat(),
        "properties": properties,
        "context": {"source": "file", "import": {"position": position}},
    }
    if identity.get("user_id"):
        message["userId"] = identity["user_id"]
    traits = {key: value for key, value in identity.items() if key in ("email", "phone")}
    if traits:
        message["context"]["traits"] = traits
    return message


def event_row_to_message(row: Mapping[str, Any], *, position: int) -> dict[str, Any]:
    """A CSV events row (canonical columns, properties as JSON or `prop.<name>` columns) ->
    a message; NDJSON lines are messages already and skip this."""
    properties: dict[str, Any] = {}
    raw_properties = row.get("properties")
    if isinstance(raw_properties, str):
        try:
            loaded = json.loads(raw_properties)
        except json.JSONDecodeError:
            loaded = {"_raw": raw_properties}
        properties = loaded if isinstance(loaded, dict) else {"_value": loaded}
    for name, value in row.items():
        if name.startswith("prop.") and value is not None:
            properties[name[5:]] = value
    message: dict[str, Any] = {"type": row.get("type") or "track", "properties": properties}
    for column, key in (
        ("message_id", "messageId"),
        ("event", "event"),
        ("user_id", "userId"),
        ("anonymous_id", "anonymousId"),
        ("timestamp", "timestamp"),
    ):
        if row.get(column) is not None:
            message[key] = row[column]
    if message["type"] in ("page", "screen") and "event" in message:
        message["name"] = message.pop("event")
    message["context"] = {"source": "file", "import": {"position": position}}
    return message
