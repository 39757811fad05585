"""API Gateway (HTTP API, payload format 2.0) in front of the local deployment.

- :func:`http_event` builds the event API Gateway hands a function (lower-cased header names,
  ``requestContext.http``, ``timeEpoch``, base64 for binary bodies): what the tests send.
- :class:`LocalHttpApi` is a loopback HTTP server that turns real requests into those events for
  the functions the template routes (``Events`` of type ``HttpApi``): so the sandbox Okta can
  deliver event hooks over HTTP, and a client can call the endpoints with ``curl``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .deployment import LocalDeployment


def http_event(method: str, path: str, *, headers: dict[str, str] | None = None, body: str | bytes | None = None,
               query: str = "", route_key: str | None = None, source_ip: str = "203.0.113.10") -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    encoded = isinstance(body, bytes)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "local.execute-api.local",
            "domainPrefix": "local", "stage": "$default", "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method} {path}",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": headers.get("user-agent", "")},
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) if "=" in p else (p, "") for p in query.split("&"))
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if encoded else body
    return event


def routes(stack: LocalDeployment) -> dict[tuple[str, str], str]:
    """``{(METHOD, path): function logical id}`` from the template's HttpApi events."""
    table = {}
    for logical_id in stack.template.of_type("AWS::Serverless::Function"):
        for spec in (stack.template.function(logical_id).get("Events") or {}).values():
            if spec.get("Type") == "HttpApi":
                props = spec.get("Properties", {})
                table[(props.get("Method", "ANY").upper(), props.get("Path", "/"))] = logical_id
    return table


class LocalHttpApi:
    def __init__(self, stack: LocalDeployment, host: str = "127.0.0.1", port: int = 0) -> None:
        self.stack = stack
        self.routes = routes(stack)
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: requests carry secrets in headers
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else None
                function = api.routes.get((self.command, parts.path)) or api.routes.get(("ANY", parts.path))
                if function is None:
                    return self._reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
                event = http_event(self.command, parts.path, headers=dict(self.headers.items()), body=body,
                                   query=parts.query, route_key=f"{self.command} {parts.path}")
                try:
                    result = api.stack.invoke(function, event)
                except Exception:  # Lambda error -> API Gateway 500
                    return self._reply(500, {"content-type": "application/json"},
                                       b'{"message":"Internal Server Error"}')
                status = result.get("statusCode", 200)
                headers = result.get("headers") or {}
                payload = result.get("body") or ""
                raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
                return self._reply(status, headers, raw)

            def _reply(self, status: int, headers: dict, raw: bytes):
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                if raw:
                    self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="local-http-api", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalHttpApi:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_body(result: dict[str, Any]) -> Any:
    body = result.get("body")
    return json.loads(body) if body else None
