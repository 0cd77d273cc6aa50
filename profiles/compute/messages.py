"""Profiles compute: Segment-spec message validation and identifier extraction (pure, hot path).

Every function here runs once per ingested message, so it avoids regexes, deep copies and
repeated serialisation: a message is serialised exactly once, and that string is both the size
check and the value stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from .normalise import NormalisationError, normalise_email, normalise_phone

MESSAGE_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
MAX_ID_LENGTH = 255
MAX_MESSAGE_ID_LENGTH = 128
MAX_EVENT_NAME_LENGTH = 200
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")

# Error codes a client sees per message (stable API; documented in docs/api.md).
ERROR_MESSAGES = {
    "invalid_message": "Each message must be a JSON object.",
    "invalid_type": "type must be one of identify, track, page, screen, group, alias.",
    "missing_identity": "userId or anonymousId is required.",
    "invalid_identity": (
        "userId and anonymousId must be strings or numbers of at most 255 characters."
    ),
    "missing_event": "A track call needs a non-empty event name.",
    "invalid_event": "event/name must be a string of at most 200 characters.",
    "missing_group_id": "A group call needs groupId.",
    "missing_previous_id": "An alias call needs previousId (and userId).",
    "invalid_field_type": "properties, traits, context and integrations must be JSON objects.",
    "invalid_message_id": "messageId must be a string of at most 128 characters.",
    "invalid_timestamp": "timestamp must be an ISO 8601 date-time.",
    "message_too_large": "A message may be at most 32 KB.",
    "invalid_encoding": "The message contains text that is not valid Unicode.",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageError:
    index: int
    message_id: str
    code: str
    message: str
    field: str = ""

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "index": self.index,
            "messageId": self.message_id,
            "code": self.code,
            "message": self.message,
        }
        if self.field:
            body["field"] = self.field
        return body


@dataclass(frozen=True, kw_only=True, slots=True)
class ValidMessage:
    index: int
    message_id: str
    message_id_assigned: bool
    type: str
    event: str
    user_id: str
    anonymous_id: str
    timestamp: datetime
    payload: dict[str, Any]
    payload_json: str


def _error(index: int, message_id: str, code: str, field: str = "") -> MessageError:
    return MessageError(
        index=index, message_id=message_id, code=code, message=ERROR_MESSAGES[code], field=field
    )


def parse_timestamp(raw: Any) -> datetime | None:
    """Parse an ISO 8601 date-time (Z or offset; naive means UTC). None if it is not one."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _identity(raw: Any) -> str | None:
    """userId/anonymousId as a string; None when the type or length is wrong."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        raw = str(raw)
    if not isinstance(raw, str) or len(raw) > MAX_ID_LENGTH:
        return None
    return raw.strip()


def _has_trait_identity(raw: Mapping[str, Any]) -> bool:
    traits = message_traits(raw)
    return any(
        traits.get(key) not in (None, "") for key in ("email", "phone", "crm_id", "loyalty_id")
    )


def _strip_nul(value: Any) -> Any:
    """Copy of `value` with NUL characters removed from every string (PostgreSQL rejects them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(key): _strip_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strip_nul(item) for item in value]
    return value


def _check_shape(message: dict[str, Any], kind: str) -> tuple[str, str] | None:
    """Return (code, field) of the first shape error, or None."""
    for name in _OBJECT_FIELDS:
        value = message.get(name)
        if value is not None and not isinstance(value, dict):
            return "invalid_field_type", name
    event = message.get("event") if kind == "track" else message.get("name")
    if kind == "track" and (not isinstance(event, str) or not event.strip()):
        return "missing_event", "event"
    if event is not None and (not isinstance(event, str) or len(event) > MAX_EVENT_NAME_LENGTH):
        return "invalid_event", "event" if kind == "track" else "name"
    if kind == "group" and message.get("groupId") in (None, ""):
        return "missing_group_id", "groupId"
    if kind == "alias" and (message.get("previousId") in (None, "") or not message.get("userId")):
        return "missing_previous_id", "previousId"
    return None


def validate_message(
    raw: Any,
    *,
    index: int,
    type_hint: str | None,
    received_at: datetime,
    batch_sent_at: datetime | None = None,
    batch_context: Mapping[str, Any] | None = None,
    batch_integrations: Mapping[str, Any] | None = None,
    max_bytes: int = 32 * 1024,
    correct_skew: bool = True,
    trait_identity: bool = False,
) -> ValidMessage | MessageError:
    """Check one Segment-spec message; return it ready to store, or the reason it is refused.

    Batch-level context/integrations fill in what the message lacks; a missing messageId is
    assigned; the timestamp is corrected for client clock skew with sentAt, as Segment does.
    `trait_identity` (file imports) lets an email, phone or CRM id in the traits stand in for
    userId/anonymousId.
    """
    if not isinstance(raw, dict):
        return _error(index, "", "invalid_message")
    raw_id = raw.get("messageId")
    message_id = str(raw_id) if isinstance(raw_id, str | int) and raw_id != "" else ""
    kind = type_hint or raw.get("type")
    if kind not in MESSAGE_TYPES:
        return _error(index, message_id, "invalid_type", "type")
    if (
        raw_id is not None
        and raw_id != ""
        and (not isinstance(raw_id, str | int) or len(message_id) > MAX_MESSAGE_ID_LENGTH)
    ):
        return _error(index, "", "invalid_message_id", "messageId")
    user_id, anonymous_id = _identity(raw.get("userId")), _identity(raw.get("anonymousId"))
    if user_id is None or anonymous_id is None:
        return _error(index, message_id, "invalid_identity", "userId")
    if not user_id and not anonymous_id and not (trait_identity and _has_trait_identity(raw)):
        return _error(index, message_id, "missing_identity", "userId")
    shape_error = _check_shape(raw, kind)
    if shape_error is not None:
        return _error(index, message_id, shape_error[0], shape_error[1])
    timestamp = _event_time(raw, received_at, batch_sent_at, correct_skew)
    if timestamp is None:
        return _error(index, message_id, "invalid_timestamp", "timestamp")
    message = _complete(raw, kind, message_id, batch_context, batch_integrations)
    assigned = not message_id
    if assigned:
        message["messageId"] = message_id = str(uuid.uuid4())
    return _serialise(
        message,
        index=index,
        message_id=message_id,
        assigned=assigned,
        kind=kind,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=timestamp,
        max_bytes=max_bytes,
    )


def _event_time(
    raw: dict[str, Any], received_at: datetime, batch_sent_at: datetime | None, correct_skew: bool
) -> datetime | None:
    raw_timestamp = raw.get("timestamp")
    if raw_timestamp is None or raw_timestamp == "":
        return received_at
    timestamp = parse_timestamp(raw_timestamp)
    if timestamp is None:
        return None
    sent_at = parse_timestamp(raw.get("sentAt")) or batch_sent_at
    if correct_skew and sent_at is not None:
        timestamp = timestamp + (received_at - sent_at)
    return timestamp


def _complete(
    raw: dict[str, Any],
    kind: str,
    message_id: str,
    batch_context: Mapping[str, Any] | None,
    batch_integrations: Mapping[str, Any] | None,
) -> dict[str, Any]:
    message = dict(raw)
    message["type"] = kind
    if message_id:
        message["messageId"] = message_id
    if batch_context:
        message["context"] = {**batch_context, **(raw.get("context") or {})}
    if batch_integrations and "integrations" not in raw:
        message["integrations"] = dict(batch_integrations)
    return message


def _serialise(
    message: dict[str, Any],
    *,
    index: int,
    message_id: str,
    assigned: bool,
    kind: str,
    user_id: str,
    anonymous_id: str,
    timestamp: datetime,
    max_bytes: int,
) -> ValidMessage | MessageError:
    try:
        encoded = orjson.dumps(message)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates, integers over 64 bits
        return _error(index, message_id, "invalid_encoding")
    if b"\\u0000" in encoded:
        message = _strip_nul(message)
        encoded = orjson.dumps(message)
        message_id, user_id = message_id.replace("\x00", ""), user_id.replace("\x00", "")
        anonymous_id = anonymous_id.replace("\x00", "")
    size = len(encoded)
    if size > max_bytes:
        return _error(index, message_id, "message_too_large")
    event = message.get("event") if kind == "track" else message.get("name")
    return ValidMessage(
        index=index,
        message_id=message_id,
        message_id_assigned=assigned,
        type=kind,
        event=(event or "").strip(),
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=timestamp,
        payload=message,
        payload_json=encoded.decode(),
    )


def message_traits(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Traits a message carries: identify `traits`, then `context.traits` for the rest.
    Tolerates malformed messages (non-object parts are ignored): it also reads quarantined ones.
    """
    context = payload.get("context")
    context_traits = context.get("traits") if isinstance(context, dict) else None
    traits = dict(context_traits) if isinstance(context_traits, dict) else {}
    own = payload.get("traits")
    if payload.get("type") in ("identify", "group") and isinstance(own, dict):
        traits.update(own)
    return traits


def message_identifiers(
    payload: Mapping[str, Any], *, default_region: str | None
) -> list[tuple[str, str]]:
    """(type, normalised value) of every identifier in a message; invalid ones are skipped."""
    found: list[tuple[str, str]] = []
    user_id, anonymous_id = payload.get("userId"), payload.get("anonymousId")
    if user_id not in (None, ""):
        found.append(("user_id", str(user_id).strip()))
    if anonymous_id not in (None, ""):
        found.append(("anonymous_id", str(anonymous_id).strip()))
    traits = message_traits(payload)
    for kind, raw in (("email", traits.get("email")), ("phone", traits.get("phone"))):
        value = _normalised_identifier(kind, raw, default_region)
        if value:
            found.append((kind, value))
    for key in ("loyalty_id", "loyaltyId"):
        if traits.get(key) not in (None, ""):
            found.append(("loyalty_id", str(traits[key]).strip()))
            break
    if traits.get("crm_id") not in (None, ""):
        found.append(("crm_id", str(traits["crm_id"]).strip()))
    return found


def _normalised_identifier(kind: str, raw: Any, default_region: str | None) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        if kind == "email":
            return normalise_email(raw)
        return normalise_phone(raw, default_region=default_region)
    except NormalisationError:
        return None
