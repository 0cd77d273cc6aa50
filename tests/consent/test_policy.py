import pytest

from consent.compute.policy import (
    UnknownPolicyError,
    event_purpose,
    has_gpc,
    ingestion_action,
    stripped_payload,
)

PAGE = {
    "type": "page",
    "name": "Shoes",
    "userId": "u1",
    "anonymousId": "a1",
    "messageId": "m1",
    "timestamp": "2026-01-01T00:00:00Z",
    "properties": {"url": "https://shop.example/shoes?email=x@y.z"},
    "context": {"ip": "203.0.113.9", "userAgent": "Firefox", "library": {"name": "js"}},
}
ORDER = {"type": "track", "event": "Order Completed", "userId": "u1", "properties": {"total": 3}}


@pytest.mark.parametrize(
    ("_case", "payload", "purpose"),
    [
        ("page view", PAGE, "analytics"),
        ("screen", {"type": "screen", "name": "Home"}, "analytics"),
        ("product viewed", {"type": "track", "event": "Product Viewed"}, "analytics"),
        ("identify", {"type": "identify", "traits": {"email": "a@b.c"}}, "service"),
        ("alias", {"type": "alias", "previousId": "a1"}, "service"),
        ("order", ORDER, "service"),
        ("consent banner", {"type": "track", "event": "Consent Updated"}, "service"),
    ],
)
def test_event_purpose(_case, payload, purpose):
    assert event_purpose(payload) == purpose


def test_strip_keeps_name_and_time_but_no_identifier_property_or_context():
    assert stripped_payload(PAGE) == {
        "type": "page",
        "name": "Shoes",
        "messageId": "m1",
        "timestamp": "2026-01-01T00:00:00Z",
        "context": {"library": {"name": "js"}},
        "stripped": True,
    }


@pytest.mark.parametrize(
    ("_case", "policy", "allowed", "restricted", "payload", "action", "reason"),
    [
        ("keep ignores consent", "keep", False, False, PAGE, "keep", ""),
        ("consented analytics kept", "drop", True, False, PAGE, "keep", ""),
        ("no consent, drop", "drop", False, False, PAGE, "drop", "no_analytics_consent"),
        ("no consent, strip", "strip", False, False, PAGE, "strip", "no_analytics_consent"),
        ("orders are service", "drop", False, False, ORDER, "keep", ""),
        ("restricted drops even orders", "keep", True, True, ORDER, "drop", "restricted"),
        (
            "restricted keeps consent messages",
            "keep",
            True,
            True,
            {"type": "track", "event": "Consent Withdrawn"},
            "keep",
            "",
        ),
    ],
)
def test_ingestion_action(_case, policy, allowed, restricted, payload, action, reason):
    outcome = ingestion_action(
        payload=payload, policy=policy, analytics_allowed=allowed, is_restricted=restricted
    )

    assert (outcome.action, outcome.reason) == (action, reason)
    if action == "drop":
        assert outcome.payload == {
            "type": payload["type"],
            "messageId": payload.get("messageId"),
            "dropped": reason,
        }


def test_an_unknown_policy_is_refused():
    with pytest.raises(UnknownPolicyError):
        ingestion_action(payload=PAGE, policy="maybe", analytics_allowed=True, is_restricted=False)


@pytest.mark.parametrize(
    ("_case", "context", "expected"),
    [
        ("gpc true", {"gpc": True}, True),
        ("globalPrivacyControl", {"globalPrivacyControl": True}, True),
        ("gpc string is not the signal", {"gpc": "1"}, False),
        ("gpc false", {"gpc": False}, False),
        ("no context", None, False),
    ],
)
def test_gpc_signal(_case, context, expected):
    payload = {"type": "page"} if context is None else {"type": "page", "context": context}
    assert has_gpc(payload) is expected
