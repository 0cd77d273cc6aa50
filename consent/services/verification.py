"""Consent services: identity verification by a one-time code sent to an identifier the CDP
already knows for the person. Codes are stored as keyed hashes, expire, allow a few attempts,
and their issuance is rate limited."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cdp.core.actor import Actor
from cdp.core.audit import audit_record
from cdp.core.errors import DomainError, InvalidInputError
from cdp.core.hashing import identifier_hash, keyed_hash
from consent.models import DataSubjectRequest, VerificationCode

from .providers import profile_locate
from .requests import dsr_lock, dsr_mark_verified, dsr_require_state, step_record

CODE_TTL = timedelta(minutes=30)
MAX_ATTEMPTS = 5
MIN_INTERVAL = timedelta(seconds=60)
MAX_CODES_PER_DAY = 5
CODE_DIGITS = 6


class RateLimitedError(DomainError):
    code = "rate_limited"
    status_code = 429


class NoKnownIdentifierError(DomainError):
    code = "no_known_identifier"
    status_code = 409


class CodeRejectedError(DomainError):
    code = "code_rejected"
    status_code = 400


def _code_hash(request_id: int, code: str) -> str:
    return keyed_hash(code, domain=f"dsr-code:{request_id}")


def _known_email(request: DataSubjectRequest) -> str:
    """The first email of the request that the CDP already holds (on a profile): a code never
    goes to an address only the requester claims."""
    for kind, value in request.identifiers:
        if kind == "email" and profile_locate(identifier_type=kind, value=value) is not None:
            return str(value)
    raise NoKnownIdentifierError(
        "None of the request's email addresses is known for this person: verify manually."
    )


def _check_rate(request: DataSubjectRequest) -> None:
    now = timezone.now()
    recent = VerificationCode.objects.filter(
        request=request, created_at__gte=now - timedelta(days=1)
    ).order_by("-created_at")
    last = recent.first()
    if last is not None and last.created_at > now - MIN_INTERVAL:
        raise RateLimitedError("A code was sent less than a minute ago; wait before resending.")
    if recent.count() >= MAX_CODES_PER_DAY:
        raise RateLimitedError(f"At most {MAX_CODES_PER_DAY} codes a day per request.")


@transaction.atomic
def dsr_verification_send(*, request_id: int, actor: Actor) -> VerificationCode:
    """Email a fresh 6-digit code to a known email of the person; earlier codes stop working.

    Raises RequestStateError unless received, NoKnownIdentifierError when the CDP holds none of
    the request's emails for the person, RateLimitedError when sent too often.
    """
    request = dsr_lock(request_id)
    dsr_require_state(request, DataSubjectRequest.State.RECEIVED)
    email = _known_email(request)
    _check_rate(request)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    VerificationCode.objects.filter(request=request, used_at=None).update(expires_at=now)
    row = VerificationCode.objects.create(
        request=request,
        code_hash=_code_hash(request.pk, code),
        sent_to_type="email",
        sent_to_hash=identifier_hash("email", email),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    send_mail(
        subject=f"Your verification code for privacy request #{request.pk}",
        message=(
            f"Your code is {code}. It expires in {int(CODE_TTL.total_seconds() // 60)} minutes.\n"
            "If you did not ask us about your personal data, ignore this message."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
    step_record(request=request, actor=actor, action="code_sent", details={"code_id": row.pk})
    audit_record(
        actor=actor, action="consent.dsr.code_send", target=request, details={"code_id": row.pk}
    )
    return row


def dsr_verification_confirm(*, request_id: int, code: str, actor: Actor) -> DataSubjectRequest:
    """Check a code; on success the request is verified. A wrong code uses up one of
    MAX_ATTEMPTS (kept even though the call fails). Raises CodeRejectedError for a wrong,
    expired, used-up or missing code, RequestStateError unless the request is received."""
    code = code.strip()
    if not code:
        raise InvalidInputError("Enter the code.")
    with transaction.atomic():
        request = dsr_lock(request_id)
        dsr_require_state(request, DataSubjectRequest.State.RECEIVED)
        row = (
            VerificationCode.objects.select_for_update()
            .filter(request=request, used_at=None, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if row is None:
            raise CodeRejectedError("No valid code: send a new one.")
        if row.attempts >= MAX_ATTEMPTS:
            raise CodeRejectedError("Too many wrong codes: send a new one.")
        matches = hmac.compare_digest(row.code_hash, _code_hash(request.pk, code))
        if matches:
            row.used_at = timezone.now()
            row.save(update_fields=["used_at"])
            dsr_mark_verified(request=request, method="code", actor=actor)
            return request
        VerificationCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        step_record(request=request, actor=actor, action="code_wrong", details={"code_id": row.pk})
        left = MAX_ATTEMPTS - row.attempts - 1
    raise CodeRejectedError(f"Wrong code; {left} attempt(s) left.", details={"attempts_left": left})


def verification_codes_expire(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete codes that expired more than `older_than` ago (their hashes serve no purpose)."""
    deleted, _ = VerificationCode.objects.filter(
        expires_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
