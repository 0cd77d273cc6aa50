"""Core kernel: middleware turning a lost database into 503 + Retry-After on every path."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from .api import RETRY_AFTER_SECONDS, error_body


class DatabaseUnavailableMiddleware:
    """An OperationalError escaping a view (outside DRF's handler) becomes 503, never 200/500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        body = error_body("database_unavailable", "The database is unavailable; retry shortly.")
        response = HttpResponse(json.dumps(body), status=503, content_type="application/json")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
