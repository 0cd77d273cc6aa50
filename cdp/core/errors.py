"""Core kernel: the domain error base class that the API and admin turn into clear messages."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A request that the domain refuses; carries a machine-readable code and an HTTP status."""

    code: ClassVar[str] = "domain_error"
    status_code: ClassVar[int] = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFoundError(DomainError):
    code = "not_found"
    status_code = 404


class ConflictError(DomainError):
    code = "conflict"
    status_code = 409


class InvalidInputError(DomainError):
    code = "invalid_input"
    status_code = 400
