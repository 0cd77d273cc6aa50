"""Bench baseline: one view — parse the JSON, one INSERT … ON CONFLICT DO NOTHING, answer."""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def batch(request: HttpRequest) -> HttpResponse:
    messages = json.loads(request.body)["batch"]
    rows = [(message["messageId"], json.dumps(message)) for message in messages]
    values = ", ".join(["(%s, %s)"] * len(rows))
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO bench_baseline (message_id, payload) VALUES {values} "  # noqa: S608
            "ON CONFLICT (message_id) DO NOTHING",
            params,
        )
    return HttpResponse(b'{"success": true}', content_type="application/json")


urlpatterns = [path("v1/batch", batch)]
