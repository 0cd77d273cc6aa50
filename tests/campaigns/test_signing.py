"""Webhook signatures (pure): HMAC-SHA-256 over timestamp and body, with replay tolerance."""

import hashlib
import hmac

from campaigns.compute.signing import verify_webhook_signature, webhook_signature

BODY = b'{"type":"campaign.message"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()

    assert webhook_signature("s3cret", timestamp=1_700_000_000, body=BODY) == (
        f"t=1700000000,v1={expected}"
    )


def test_a_valid_signature_verifies_and_any_change_does_not():
    header = webhook_signature("s3cret", timestamp=1_700_000_000, body=BODY)

    assert verify_webhook_signature("s3cret", header=header, body=BODY, now=1_700_000_100)
    assert not verify_webhook_signature(
        "s3cret", header=header, body=BODY + b" ", now=1_700_000_100
    )
    assert not verify_webhook_signature("other", header=header, body=BODY, now=1_700_000_100)
    assert not verify_webhook_signature("s3cret", header=header, body=BODY, now=1_700_000_301)
    assert not verify_webhook_signature("s3cret", header="garbage", body=BODY, now=1_700_000_000)
