"""HTTP plumbing shared by both tenants.

* :class:`Request` / :class:`Response`: small value objects the route handlers work with.
* :class:`Router`: route templates such as ``/api/v1/users/{id}`` matched against the
  **percent-decoded** request path (as Okta and Auth0 do), so ``auth0%7Cabc`` arrives as
  ``auth0|abc`` and an encoded ``/`` cannot be addressed.
* :class:`SandboxHTTPServer`: a ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive.
  Every response carries ``Content-Length``; request bodies may use ``Content-Length`` or
  chunked encoding.  The server hands each parsed request to an *application* (a tenant)
  and writes back what it returns (``None`` means "drop the connection without answering").

Nothing here knows about Okta or Auth0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("okta_auth0_sync_sandbox.server")

JSON_TYPE = "application/json"


class Response:
    """An HTTP response: status, ordered headers (repeats allowed) and a body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int = 200, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()) -> None:
        self.status = status
        self.body = body
        self.headers: list[tuple[str, str]] = list(headers)

    @classmethod
    def json(
        cls, obj: Any, status: int = 200, headers: Iterable[tuple[str, str]] = (), content_type: str = ""
    ) -> Response:
        body = json.dumps(obj, separators=(",", ":")).encode()
        ctype = content_type or f"{JSON_TYPE};charset=UTF-8"
        return cls(status, body, [("Content-Type", ctype), *headers])

    @classmethod
    def empty(cls, status: int = 204, headers: Iterable[tuple[str, str]] = ()) -> Response:
        return cls(status, b"", headers)

    @classmethod
    def html(cls, status: int, headers: Iterable[tuple[str, str]] = ()) -> Response:
        """A bare-bones HTML error page, as front-end proxies (nginx, Cloudflare) return."""
        phrase = f"{status} {HTTPStatus(status).phrase}"
        page = (
            f"<html>\r\n<head><title>{phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{phrase}</h1></center>\r\n</body>\r\n</html>\r\n"
        )
        return cls(status, page.encode(), [("Content-Type", "text/html"), *headers])

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        lname = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lname]
        self.headers.append((name, value))

    def add_header(self, name: str, value: str) -> None:
        self.headers.append((name, value))

    def json_body(self) -> Any:
        return json.loads(self.body) if self.body else None


class HTTPError(Exception):
    """Raised by handlers (and helpers they call) to answer with ``response`` at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class BadRequestBody(ValueError):
    """The request body could not be decoded as the handler asked."""


class Request:
    """A parsed request.  ``path`` is percent-decoded; ``raw_path`` is as received."""

    def __init__(
        self,
        method: str,
        target: str,
        headers: Any,
        body: bytes,
        base_url: str,
        client_address: tuple[str, int] | None = None,
    ) -> None:
        parts = urlsplit(target)
        self.method = method.upper()
        self.target = target
        self.raw_path = parts.path or "/"
        self.path = unquote(self.raw_path)
        self.query_string = parts.query
        self.query: dict[str, list[str]] = parse_qs(parts.query, keep_blank_values=True)
        self._headers = headers
        self.body = body
        self.base_url = base_url
        self.client_address = client_address
        self.route: str | None = None
        self.params: dict[str, str] = {}
        self.context: dict[str, Any] = {}

    # -- headers -------------------------------------------------------------------------
    def header(self, name: str, default: str | None = None) -> str | None:
        value = self._headers.get(name)
        return default if value is None else value

    def header_values(self, name: str) -> list[str]:
        return list(self._headers.get_all(name) or [])

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    # -- query ---------------------------------------------------------------------------
    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def has_arg(self, name: str) -> bool:
        return name in self.query

    # -- body ----------------------------------------------------------------------------
    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequestBody(str(exc)) from exc

    def form(self) -> dict[str, str]:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestBody(str(exc)) from exc
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    # -- URLs ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The URL as the client addressed it (base URL + raw path + query)."""
        query = f"?{self.query_string}" if self.query_string else ""
        return f"{self.base_url}{self.raw_path}{query}"

    @property
    def decoded_url(self) -> str:
        """scheme://host/path with the path percent-decoded and no query (DPoP ``htu``)."""
        return f"{self.base_url}{self.path}"


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str] = field(repr=False, default=re.compile(""))
    meta: dict[str, Any] = field(default_factory=dict)


_PARAM = re.compile(r"\{(\w+)\}")


class Router:
    """Route templates (``/api/v1/users/{id}``) to handlers.  Literal segments win over
    parameters because routes are tried in registration order: register literals first."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, **meta: Any) -> None:
        pieces, pos = [], 0
        for m in _PARAM.finditer(template):
            pieces.append(re.escape(template[pos : m.start()]))
            pieces.append(f"(?P<{m.group(1)}>[^/]+)")
            pos = m.end()
        pieces.append(re.escape(template[pos:]))
        pattern = re.compile("^" + "".join(pieces) + "$")
        self.routes.append(Route(method.upper(), template, handler, pattern, meta))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Return ``(route, params, path_known)``; ``path_known`` tells 405 from 404."""
        path_known = False
        for route in self.routes:
            m = route.pattern.match(path)
            if not m:
                continue
            path_known = True
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, m.groupdict(), True
        return None, {}, path_known

    def templates(self) -> list[tuple[str, str]]:
        return [(r.method, r.template) for r in self.routes]


class Application(Protocol):
    """What the HTTP server needs from a tenant."""

    max_request_line: int
    base_url: str

    def handle(self, request: Request) -> Response | None: ...

    def length_required(self, request: Request) -> Response | None: ...

    def request_line_too_long(self, request_line: str) -> Response: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: SandboxHTTPServer
    # keep-alive connections that go idle are closed after this many seconds
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` when a PUT/POST came without any length."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(1024).split(b";")[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        n = int(length)
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self) -> None:
        app = self.server.app
        if len(self.requestline) > app.max_request_line:
            self.close_connection = True
            self._write(app.request_line_too_long(self.requestline))
            return
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._write(Response.html(400))
            return
        request = Request(self.command, self.path, self.headers, body or b"", app.base_url, self.client_address)
        if body is None:
            refusal = app.length_required(request)
            if refusal is not None:
                self.close_connection = True
                self._write(refusal)
                return
        response = app.handle(request)
        if response is None:  # fault injection: drop the connection without a response
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _write(self, response: Response) -> None:
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        self.send_response_only(response.status, phrase)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)
        self.wfile.flush()


class SandboxHTTPServer(ThreadingHTTPServer):
    """A loopback HTTP/1.1 server delegating every request to ``app``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self, name: str = "sandbox") -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response (timeouts in tests) are routine, not errors.
        log.debug("connection error from %s", client_address, exc_info=True)
