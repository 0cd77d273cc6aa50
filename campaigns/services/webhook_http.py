"""Campaigns services: the HTTP/1.1 exchange of one webhook POST on a persistent keep-alive
connection — the whole request written in one send, the response's status read and its body
drained (never kept: a receiver may echo personal data back).

A small client of its own: per request it costs a sixth of http.client's CPU (which writes
the head and the body in two sends, validates each header with a regular expression and
parses the response head with the email package), and the webhook thread pool is what bounds
a dispatcher's throughput. It speaks only what a POST needs: Content-Length and chunked
response bodies, bodies read to the end of the connection, interim 1xx answers, keep-alive
and `Connection: close`.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult

MAX_HEAD = 64 * 1024  # bytes of status line and headers
MAX_DRAIN = 1024 * 1024  # response body bytes read to keep the connection; past that, close
_RECV = 64 * 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE = re.compile(rb"\r?\n")
# Request targets and header values we write: visible ASCII only (no CR/LF injection).
_VISIBLE = re.compile(r"[\x21-\x7e]+")


class InvalidTargetError(ValueError):
    """The URL cannot be written into a request line (not http(s), no host, control or
    non-ASCII characters)."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where a webhook goes: the origin (one connection per thread) and the request's head."""

    origin: tuple[str, str, int]  # scheme, host, port
    path: str
    host_header: str


def target_of(url: SplitResult) -> Target:
    """The request target of a parsed URL. Raises InvalidTargetError."""
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InvalidTargetError("InvalidURL")
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
        host = url.hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise InvalidTargetError("InvalidURL") from exc
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    if not _VISIBLE.fullmatch(path):
        raise InvalidTargetError("InvalidURL")
    shown = f"[{host}]" if ":" in host else host
    default_port = 443 if url.scheme == "https" else 80
    host_header = shown if port == default_port else f"{shown}:{port}"
    return Target(origin=(url.scheme, host, port), path=path, host_header=host_header)


class PostConnection:
    """One keep-alive connection to one origin, used by one thread at a time."""

    def __init__(
        self, origin: tuple[str, str, int], *, timeout: float, tls: ssl.SSLContext
    ) -> None:
        self._scheme, self._host, self._port = origin
        self._timeout = timeout
        self._tls = tls
        self._sock: socket.socket | None = None
        self._buffer = b""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buffer = b""

    def post(self, head: bytes, body: bytes) -> int:
        """Send one request (`head` ends with the blank line) and return the response status.

        A kept-alive connection that the receiver closed while idle is reopened once (the
        request never reached it). Raises OSError (timeouts, refusals) or
        http.client.HTTPException (a malformed answer); the connection is then closed.
        """
        for attempt in (1, 2):
            reused = self._sock is not None
            try:
                return self._exchange(head + body)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or not reused:
                    raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
        raise http.client.HTTPException("unreachable")  # pragma: no cover

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._scheme == "https":
            sock = self._tls.wrap_socket(sock, server_hostname=self._host)
        self._sock = sock
        self._buffer = b""
        return sock

    def _exchange(self, request: bytes) -> int:
        sock = self._sock or self._open()
        sock.sendall(request)
        while True:
            status, keep_alive, framing = self._read_head()
            if 100 <= status < 200 and status != 101:
                continue  # interim answer (100 Continue, 103 Early Hints): the real one follows
            break
        if framing is None:  # no body (204, 304)
            drained = True
        elif framing == -1:
            drained = self._drain_chunked()
        elif framing == -2:
            self._drain_to_close()
            drained, keep_alive = True, False
        else:
            drained = self._drain_exactly(framing)
        if not (keep_alive and drained) or self._buffer:
            self.close()  # told to, body too large, or bytes beyond the answer
        return status

    def _fill(self) -> bytes:
        """Read more bytes into the buffer; b"" at the end of the connection."""
        if self._sock is None:
            return b""
        data = self._sock.recv(_RECV)
        self._buffer += data
        return data

    def _read_head(self) -> tuple[int, bool, int | None]:
        """Status, keep-alive, and the body's framing: its length, -1 chunked, -2 to the end
        of the connection, None no body."""
        while True:
            end = _HEAD_END.search(self._buffer)
            if end is not None:
                break
            if len(self._buffer) > MAX_HEAD:
                raise http.client.LineTooLong("response head")
            if not self._fill():
                if self._buffer:
                    raise http.client.IncompleteRead(self._buffer)
                raise http.client.RemoteDisconnected("closed without a response")
        head, self._buffer = self._buffer[: end.start()], self._buffer[end.end() :]
        status_line, *lines = _LINE.split(head)
        version, status = _status_of(status_line)
        fields: dict[bytes, bytes] = {}
        for line in lines:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip().lower()
        connection = fields.get(b"connection", b"")
        if status < 200:
            keep_alive = False  # 101: the connection now speaks another protocol
        elif version == b"HTTP/1.1":
            keep_alive = b"close" not in connection
        else:
            keep_alive = b"keep-alive" in connection
        return status, keep_alive, _framing(status, fields)

    def _drain_exactly(self, length: int) -> bool:
        if length > MAX_DRAIN:
            return False
        while len(self._buffer) < length:
            if not self._fill():
                raise http.client.IncompleteRead(b"", length - len(self._buffer))
        self._buffer = self._buffer[length:]
        return True

    def _line(self) -> bytes:
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > MAX_HEAD:
                raise http.client.LineTooLong("chunk line")
            if not self._fill():
                raise http.client.IncompleteRead(self._buffer)
        line, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
        return line.rstrip(b"\r")

    def _drain_chunked(self) -> bool:
        total = 0
        while True:
            size_field = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError as exc:
                raise http.client.IncompleteRead(size_field) from exc
            if size == 0:
                while self._line():  # trailer fields, up to the blank line
                    pass
                return True
            total += size
            if total > MAX_DRAIN:
                return False
            self._drain_exactly(size)
            self._line()  # the CRLF after the chunk

    def _drain_to_close(self) -> None:
        total = 0
        while total <= MAX_DRAIN:
            self._buffer = b""
            data = self._fill()
            if not data:
                break
            total += len(data)
        self._buffer = b""


def _status_of(status_line: bytes) -> tuple[bytes, int]:
    """HTTP version and status code of a status line. Raises http.client.BadStatusLine."""
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise http.client.BadStatusLine(repr(status_line[:100]))
    status = int(parts[1])
    if not 100 <= status <= 999:
        raise http.client.BadStatusLine(repr(status_line[:100]))
    return parts[0], status


def _framing(status: int, fields: dict[bytes, bytes]) -> int | None:
    """How the body is delimited (RFC 9112, section 6.3)."""
    if status < 200 or status in (204, 304):
        return None
    coding = fields.get(b"transfer-encoding")
    if coding is not None:
        return -1 if coding.rsplit(b",", 1)[-1].strip() == b"chunked" else -2
    length = fields.get(b"content-length")
    if length is None:
        return -2
    values = {value.strip() for value in length.split(b",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise http.client.HTTPException("invalid Content-Length")
    return int(values.pop())


def request_head(target: Target, *, length: int, headers: dict[str, str]) -> bytes:
    """The request line and headers of a POST of `length` bytes, ending with the blank line.
    Raises ValueError for a header that would break the head (CR, LF, non-ASCII)."""
    if any("\n" in value or "\r" in value for value in headers.values()):
        raise ValueError("a header value contains a line break")
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"Host: {target.host_header}",
        f"Content-Length: {length}",
        "Accept-Encoding: identity",
        *(f"{name}: {value}" for name, value in headers.items()),
        "",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")
