"""The webhook HTTP client against scripted local servers (real sockets): keep-alive reuse,
response framings (Content-Length, chunked, to the end of the connection), interim 1xx
answers, receivers that close idle connections, timeouts and malformed answers; and the
JSON body (Django's formats for datetimes and UUIDs)."""

import http.client
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder

import pytest

from campaigns.services.channel_webhook import WebhookClient, WebhookRequest, webhook_body
from campaigns.services.webhook_http import (
    InvalidTargetError,
    PostConnection,
    request_head,
    target_of,
)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class ScriptedServer:
    """Accepts connections and answers each request with the next scripted response.

    A script item is raw response bytes, or a callable taking the connection (to stall,
    close, or answer in pieces). After each answer the server keeps reading requests on
    the same connection until the client closes it or the item ends with `close=True`.
    """

    def __init__(self, script: list[bytes | tuple[bytes, str] | Callable[[socket.socket], None]]):
        self.script = list(script)
        self.requests: list[tuple[bytes, bytes]] = []  # (head, body)
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook?x=1"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                self.requests.append((head, body))
                item = self.script.pop(0) if self.script else OK
                if callable(item):
                    item(conn)
                    return
                if isinstance(item, tuple):
                    conn.sendall(item[0])
                    return  # ("…", "close"): answer, then close the connection
                conn.sendall(item)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def serve():
    servers: list[ScriptedServer] = []

    def make(*script):
        server = ScriptedServer(list(script))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _connection(server: ScriptedServer, timeout: float = 2.0) -> tuple[PostConnection, bytes]:
    target = target_of(urlsplit(server.url))
    head = request_head(target, length=5, headers={"X-Test": "1"})
    return PostConnection(target.origin, timeout=timeout, tls=ssl.create_default_context()), head


def test_requests_reuse_one_keep_alive_connection_and_are_well_formed(serve):
    server = serve(OK, OK, OK)
    connection, head = _connection(server)

    assert [connection.post(head, b"hello") for _ in range(3)] == [200, 200, 200]

    assert server.connections == 1
    request_line, *headers = server.requests[0][0].split(b"\r\n")
    assert request_line == b"POST /hook?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in headers
    assert b"Content-Length: 5" in headers
    assert b"X-Test: 1" in headers
    assert [body for _, body in server.requests] == [b"hello"] * 3


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 201 Created\nContent-Length: 1\n\nx",  # bare LF line ends, as http.client
    ],
)
def test_each_body_framing_is_drained_and_the_connection_kept(serve, answer):
    server = serve(answer, OK)
    connection, head = _connection(server)

    assert connection.post(head, b"hello") in (201, 204)
    assert connection.post(head, b"hello") == 200
    assert server.connections == 1


def test_a_body_read_to_the_end_of_the_connection_closes_it(serve):
    server = serve((b"HTTP/1.0 200 OK\r\n\r\nall of it", "close"), OK)
    connection, head = _connection(server)

    assert connection.post(head, b"hello") == 200
    assert connection.post(head, b"hello") == 200
    assert server.connections == 2


def test_connection_close_is_honoured(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", OK)
    connection, head = _connection(server)

    assert connection.post(head, b"hello") == 200
    assert connection.post(head, b"hello") == 200
    assert server.connections == 2


def test_an_idle_connection_the_receiver_closed_is_reopened_once(serve):
    server = serve((OK, "close"), OK)  # answers keep-alive, then drops the connection
    connection, head = _connection(server)
    assert connection.post(head, b"first") == 200

    assert connection.post(head, b"again") == 200

    assert server.connections == 2
    assert [body for _, body in server.requests] == [b"first", b"again"]


def test_a_fresh_connection_closed_without_an_answer_is_not_resent(serve):
    server = serve(lambda conn: None)  # reads the request, closes without answering
    connection, head = _connection(server)

    with pytest.raises(http.client.RemoteDisconnected):
        connection.post(head, b"hello")
    assert len(server.requests) == 1


def test_a_silent_receiver_times_out(serve):
    stop = threading.Event()
    server = serve(lambda conn: stop.wait(5))
    connection, head = _connection(server, timeout=0.2)

    with pytest.raises(TimeoutError):
        connection.post(head, b"hello")
    stop.set()


@pytest.mark.parametrize(
    "answer",
    [
        b"SMTP 200 what\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
    ],
)
def test_a_malformed_answer_raises_and_closes(serve, answer):
    server = serve((answer, "close"), OK)
    connection, head = _connection(server)

    with pytest.raises(http.client.HTTPException):
        connection.post(head, b"hello")
    assert connection.post(head, b"hello") == 200  # a new connection
    assert server.connections == 2


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "http:///x", "http://example.com/a b", "http://example.com/\u00e9",
     "http://example.com:99999/x"],
)  # fmt: skip
def test_urls_that_cannot_make_a_request_line_are_refused(url):
    with pytest.raises(InvalidTargetError):
        target_of(urlsplit(url))


def test_host_headers_follow_the_url():
    assert target_of(urlsplit("https://example.com/h")).host_header == "example.com"
    assert target_of(urlsplit("http://example.com:8080")).host_header == "example.com:8080"
    assert target_of(urlsplit("http://[::1]:81/h")).host_header == "[::1]:81"
    assert target_of(urlsplit("http://example.com")).path == "/"


def test_a_header_value_with_a_line_break_is_refused():
    target = target_of(urlsplit("http://example.com/h"))
    with pytest.raises(ValueError, match="line break"):
        request_head(target, length=0, headers={"X-Evil": "a\r\nX-Injected: 1"})


def test_the_client_reports_status_codes_and_network_errors(serve):
    server = serve(
        b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n",
    )
    client = WebhookClient(threads=2, timeout=2.0)

    def request(url: str) -> WebhookRequest:
        return WebhookRequest(
            url=url, secret="s", delivery_id=str(uuid.uuid4()), attempt=1, payload={"a": 1}
        )

    busy, gone = client.post_many([request(server.url), request(server.url)])
    results = client.post_many([request("ftp://x/y"), request(server.url)])

    assert {(busy.is_ok, busy.error), (gone.is_ok, gone.error)} == {
        (False, "HTTP 503"),
        (False, "HTTP 410"),
    }
    assert (busy if busy.error == "HTTP 503" else gone).is_retryable
    assert [(result.is_ok, result.error) for result in results] == [
        (False, "InvalidURL"),
        (True, ""),
    ]


def test_many_requests_on_the_pool_come_back_in_order(serve):
    server = serve()
    client = WebhookClient(threads=4, timeout=2.0)
    requests_ = [
        WebhookRequest(url=server.url, secret="s", delivery_id=f"d{i}", attempt=1, payload={})
        for i in range(50)
    ]
    bad = WebhookRequest(
        url="http://127.0.0.1:1/x", secret="s", delivery_id="x", attempt=1, payload={}
    )

    results = client.post_many([*requests_, bad])

    assert [result.is_ok for result in results] == [True] * 50 + [False]
    assert results[-1].is_retryable
    assert results[-1].error == "ConnectionRefusedError"
    delivered = sorted(
        line.split(b": ")[1]
        for head, _ in server.requests
        for line in head.split(b"\r\n")
        if line.startswith(b"X-CDP-Delivery")
    )
    assert delivered == sorted(f"d{i}".encode() for i in range(50))
    assert server.connections <= 4


def test_the_body_writes_what_djangos_encoder_writes():
    payload = {
        "at": datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=UTC),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "amount": Decimal("9.50"),
        "name": "Zoë",
        "nested": {"n": [1, 2.5, None, True]},
    }

    body = webhook_body(payload)

    assert b" " not in body.replace(b"Zo\xc3\xab", b"")  # compact
    assert json.loads(body) == json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    assert json.loads(body)["at"] == "2026-03-02T10:00:00.123Z"
    assert json.loads(webhook_body({"big": 2**70, 1: "x"})) == {"big": 2**70, "1": "x"}
