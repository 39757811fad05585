"""API Gateway (HTTP API, payload format 2.0) in front of the local deployment.

- :func:`http_event` builds the event API Gateway hands a function (lower-cased header names,
  ``requestContext.http``, ``timeEpoch``, base64 for binary bodies): what the tests send.
- :class:`LocalHttpApi` is a loopback HTTP server that turns real requests into those events for
  the functions the template routes (``Events`` of type ``HttpApi``): so the sandbox Okta can
  deliver event hooks over HTTP, and a client can call the endpoints with ``curl``.
- :class:`LocalRestApi` does the same for a REST API (``Events`` of type ``Api``), with its
  Lambda authorizer and gateway responses (status, headers mapped from literals, the request and
  the authorizer's context, and body templates, as the template defines them).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .deployment import LocalDeployment


def http_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | bytes | None = None,
    query: str = "",
    route_key: str | None = None,
    source_ip: str = "203.0.113.10",
) -> dict[str, Any]:
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
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "local.execute-api.local",
            "domainPrefix": "local",
            "stage": "$default",
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method} {path}",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
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


# Powertools' event handler keeps the request being resolved in a class attribute
# (``BaseRouter.current_event``), shared by every resolver in the process. On Lambda each container
# is its own process; here every container shares one, so API functions are invoked one at a time.
# The requests still arrive concurrently, and the executions they start still run concurrently.
_API_FUNCTION_LOCK = threading.Lock()


def _invoke_api_function(stack: LocalDeployment, function: str, event: dict) -> Any:
    with _API_FUNCTION_LOCK:
        return stack.invoke(function, event)


class _BurstTolerantServer(ThreadingHTTPServer):
    """API Gateway accepts bursts: a deep listen backlog instead of socketserver's 5."""

    request_queue_size = 256


class _LoopbackGateway:
    """A threaded HTTP server on loopback that hands each request to :meth:`handle` and writes back
    ``(status, headers, body)``. Subclasses say what API Gateway does in between."""

    name = "local-api"

    def __init__(self, host: str, port: int) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: requests carry secrets in headers
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else None
                status, headers, raw = gateway.handle(self.command, self.path, self.headers, body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                if raw:
                    self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self.server = _BurstTolerantServer((host, port), Handler)
        self.server.daemon_threads = True
        # A short poll interval: shutdown() waits for the loop to notice (the default 0.5 s was
        # most of the wall time of a test that sends a request or two).
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, method: str, raw_path: str, headers, body: str | None) -> tuple[int, dict, bytes]:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _proxy_result(result: dict[str, Any]) -> tuple[int, dict, bytes]:
    """A Lambda proxy integration's answer as (status, headers, body)."""
    headers = dict(result.get("headers") or {})
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(values)
    payload = result.get("body") or ""
    raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
    return result.get("statusCode", 200), headers, raw


class LocalHttpApi(_LoopbackGateway):
    """An HTTP API (payload 2.0) routing to the functions with ``HttpApi`` events."""

    name = "local-http-api"

    def __init__(self, stack: LocalDeployment, host: str = "127.0.0.1", port: int = 0) -> None:
        self.stack = stack
        self.routes = routes(stack)
        super().__init__(host, port)

    @property
    def url(self) -> str:
        return self.origin

    def handle(self, method: str, raw_path: str, headers, body: str | None) -> tuple[int, dict, bytes]:
        parts = urlsplit(raw_path)
        function = self.routes.get((method, parts.path)) or self.routes.get(("ANY", parts.path))
        if function is None:
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        event = http_event(
            method,
            parts.path,
            headers=dict(headers.items()),
            body=body,
            query=parts.query,
            route_key=f"{method} {parts.path}",
        )
        try:
            result = _invoke_api_function(self.stack, function, event)
        except Exception:  # Lambda error -> API Gateway 500
            return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        return _proxy_result(result)


# ---------------------------------------------------------------------------- REST APIs
def _template_regex(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


class LocalRestApi(_LoopbackGateway):
    """A REST API (``AWS::Serverless::Api``) of the template on loopback, with what API Gateway
    does around the functions: the stage in the path, the Lambda REQUEST authorizer (identity
    sources checked first: one missing or empty -> UNAUTHORIZED without calling it;
    ``Exception("Unauthorized")`` -> UNAUTHORIZED; a policy that does not allow the method ARN ->
    ACCESS_DENIED, which sees the policy's context; any other failure -> AUTHORIZER_FAILURE), the
    template's gateway responses (:meth:`_gateway`), and proxy integration (payload 1.0,
    ``requestContext.authorizer`` from the authorizer's context). Authorizer caching is not
    emulated: an authorizer with a result TTL other than 0 is refused here.
    """

    name = "local-rest-api"

    def __init__(self, stack: LocalDeployment, api: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.stack = stack
        props = stack.template.resolve(stack.template.resources[api]["Properties"])
        self.stage = props.get("StageName", "Prod")
        auth = props.get("Auth", {})
        self.authorizer = None
        if auth.get("DefaultAuthorizer"):
            spec = auth["Authorizers"][auth["DefaultAuthorizer"]]
            identity = spec.get("Identity", {})
            if str(identity.get("ReauthorizeEvery")) != "0":  # SAM's default is 300 s
                raise NotImplementedError(f"{api}: authorizer result caching is not emulated (ReauthorizeEvery)")
            self.authorizer = (spec["FunctionArn"].rsplit(":", 1)[-1], identity.get("Headers", []))
        self.gateway_responses = props.get("GatewayResponses", {})
        self.routes: list[tuple[str, str, re.Pattern, str]] = []
        for logical_id in stack.template.of_type("AWS::Serverless::Function"):
            for spec in (stack.template.function(logical_id).get("Events") or {}).values():
                p = spec.get("Properties", {})
                if spec.get("Type") == "Api" and p.get("RestApiId") == {"Ref": api}:
                    self.routes.append((p["Method"].upper(), p["Path"], _template_regex(p["Path"]), logical_id))
        self.api_id = api.lower()
        super().__init__(host, port)

    @property
    def url(self) -> str:
        return f"{self.origin}/{self.stage}"

    # -- what API Gateway does ------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers, body: str | None) -> tuple[int, dict, bytes]:
        parts = urlsplit(raw_path)
        prefix = f"/{self.stage}"
        if not parts.path.startswith(prefix + "/"):
            return self._gateway("MISSING_AUTHENTICATION_TOKEN", 403, {"message": "Missing Authentication Token"})
        path = parts.path[len(prefix) :]
        found = self._route(method, path)
        if found is None:
            return self._gateway("MISSING_AUTHENTICATION_TOKEN", 403, {"message": "Missing Authentication Token"})
        template, match, function = found
        host, port = self.server.server_address[:2]
        single = {k: v for k, v in headers.items()}
        multi: dict[str, list[str]] = {}
        for k, v in headers.items():
            multi.setdefault(k, []).append(v)
        single["X-Forwarded-Proto"] = "http"  # API Gateway adds it (https there)
        multi["X-Forwarded-Proto"] = ["http"]
        context = {
            "accountId": self.stack.template.account,
            "apiId": self.api_id,
            "stage": self.stage,
            "domainName": f"{host}:{port}",
            "path": parts.path,
            "resourcePath": template,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.10"},
            "requestTimeEpoch": int(time.time() * 1000),
        }
        method_arn = (
            f"arn:aws:execute-api:{self.stack.template.region}:{self.stack.template.account}:"
            f"{self.api_id}/{self.stage}/{method}{path}"
        )
        authorizer_context: dict[str, Any] = {}
        request = {"header": single, "path": match.groupdict(), "querystring": dict(parse_qsl(parts.query))}
        if self.authorizer:
            authorizer, identity = self.authorizer
            present = {k.lower(): v for k, v in single.items()}
            if any(not present.get(h.lower()) for h in identity):
                return self._gateway("UNAUTHORIZED", 401, {"message": "Unauthorized"}, context, request)
            event = {
                "type": "REQUEST",
                "methodArn": method_arn,
                "resource": template,
                "path": path,
                "httpMethod": method,
                "headers": single,
                "multiValueHeaders": multi,
                "queryStringParameters": dict(parse_qsl(parts.query)) or None,
                "pathParameters": match.groupdict() or None,
                "stageVariables": None,
                "requestContext": context,
            }
            try:
                decision = _invoke_api_function(self.stack, authorizer, event)
            except Exception as exc:
                if str(exc) == "Unauthorized":
                    return self._gateway("UNAUTHORIZED", 401, {"message": "Unauthorized"}, context, request)
                return self._gateway("AUTHORIZER_FAILURE", 500, {"message": None}, context, request)
            authorizer_context = {
                "principalId": decision.get("principalId"),
                **{k: _stringified(v) for k, v in (decision.get("context") or {}).items()},
            }
            if not _allows(decision, method_arn):
                denied = {**context, "authorizer": authorizer_context}
                message = {"message": "User is not authorized to access this resource"}
                return self._gateway("ACCESS_DENIED", 403, message, denied, request)
        proxy = {
            "resource": template,
            "path": path,
            "httpMethod": method,
            "headers": single,
            "multiValueHeaders": multi,
            "queryStringParameters": dict(parse_qsl(parts.query)) or None,
            "multiValueQueryStringParameters": None,
            "pathParameters": match.groupdict() or None,
            "stageVariables": None,
            "requestContext": {**context, "authorizer": authorizer_context},
            "body": body,
            "isBase64Encoded": False,
        }
        try:
            result = _invoke_api_function(self.stack, function, proxy)
        except Exception:
            return 502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
        return _proxy_result(result)

    def _route(self, method: str, path: str) -> tuple[str, re.Match, str] | None:
        for route_method, template, pattern, function in self.routes:
            match = pattern.match(path)
            if match and route_method == method:
                return template, match, function
        return None

    def _gateway(
        self,
        kind: str,
        default_status: int,
        default_body: dict,
        context: dict[str, Any] | None = None,
        request: dict[str, dict[str, str]] | None = None,
    ) -> tuple[int, dict, bytes]:
        """The template's gateway response of type ``kind`` (API Gateway's default when it has
        none): its status code; its headers, each mapped from a literal (``'…'``), a context
        variable (``context.authorizer.challenge``: a key of the authorizer's context) or a method
        request parameter (``method.request.header.Host``), and left out when the value is absent;
        its ``application/json`` template with ``$context.…`` variables substituted."""
        spec = self.gateway_responses.get(kind, {})
        context = {**(context or {}), "error": {"responseType": kind}}
        headers = {"Content-Type": "application/json"}
        for key, source in (spec.get("ResponseParameters", {}).get("Headers") or {}).items():
            value = _mapped(source, context, request or {})
            if value is not None:
                headers[key] = value
        template = (spec.get("ResponseTemplates") or {}).get("application/json")
        if template:
            raw = re.sub(r"\$context\.([A-Za-z0-9_.]+)", lambda m: _variable(context, m[1]) or "", template).encode()
        else:
            raw = json.dumps(default_body).encode()
        return int(spec.get("StatusCode", default_status)), headers, raw


def _stringified(value: Any) -> str:
    """A context value as ``$context.authorizer.<key>`` gives it: stringified (``true``, ``1``)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _variable(context: dict[str, Any], name: str) -> str | None:
    """``$context.<name>`` (dotted), or None when the request has no such value."""
    value: Any = context
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if value is None or isinstance(value, dict) else str(value)


def _mapped(source: str, context: dict[str, Any], request: dict[str, dict[str, str]]) -> str | None:
    """A gateway response header's mapping expression (REST API parameter mapping sources)."""
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    if source.startswith("context."):
        return _variable(context, source[len("context.") :])
    matched = re.fullmatch(r"method\.request\.(header|path|querystring)\.(.+)", source)
    if matched is None:
        raise NotImplementedError(f"gateway response mapping {source!r} is not emulated")
    where, name = matched.groups()
    values = request.get(where, {})
    if where == "header":
        return {k.lower(): v for k, v in values.items()}.get(name.lower())
    return values.get(name)


def _allows(decision: Any, method_arn: str) -> bool:
    """IAM-style evaluation of the authorizer's policy for this method ARN (explicit deny wins)."""
    import fnmatch

    statements = ((decision or {}).get("policyDocument") or {}).get("Statement") or []
    matching = []
    for statement in statements:
        resources = statement.get("Resource")
        resources = resources if isinstance(resources, list) else [resources]
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if any(fnmatch.fnmatchcase(method_arn, r) for r in resources) and any(
            a in ("execute-api:Invoke", "execute-api:*", "*") for a in actions
        ):
            matching.append(statement.get("Effect"))
    return "Allow" in matching and "Deny" not in matching
