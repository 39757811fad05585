"""The tenant base class: one loopback server per tenant and the request pipeline.

For every request (admin endpoints under ``/__sandbox/`` excepted, see :mod:`sandbox.admin`):

1. route match (unknown path -> the tenant's 404, known path + wrong method -> 405);
2. in-flight accounting (optional concurrency limit);
3. fault injection (delay / error / drop);
4. rate limiting (the tenant classifies the request into buckets);
5. the route handler, run under the tenant lock (state is plain Python objects);
6. common headers (rate-limit headers, ``Date``, request ids), call recording.

Subclasses (:class:`sandbox.okta.OktaTenant`, :class:`sandbox.auth0.Auth0Tenant`) provide
routes, state, auth and the service-specific error shapes through the hook methods below.
"""

from __future__ import annotations

import contextlib
import copy
import email.utils
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from okta_auth0_sync_sandbox.admin import AdminApi
from okta_auth0_sync_sandbox.calls import Call, CallLog
from okta_auth0_sync_sandbox.clock import Clock
from okta_auth0_sync_sandbox.faults import Fault, FaultInjector
from okta_auth0_sync_sandbox.jose import random_token
from okta_auth0_sync_sandbox.ratelimit import Decision, RateLimiter
from okta_auth0_sync_sandbox.server import HTTPError, Request, Response, Router, SandboxHTTPServer

log = logging.getLogger("sandbox")

UNMATCHED_ROUTE = "<unmatched>"


class SandboxApiError(Exception):
    """A Python-API call broke a service rule; ``response`` is what the HTTP API returns."""

    def __init__(self, response: Response) -> None:
        body = response.json_body() or {}
        summary = body.get("errorSummary") or body.get("message") or body.get("error_description") or ""
        code = body.get("errorCode") or body.get("error") or ""
        super().__init__(f"{response.status} {code} {summary}".strip())
        self.response = response
        self.status = response.status
        self.body = body


class Tenant:
    """Base class of the sandbox tenants.  Starts serving on construction."""

    kind = "tenant"
    rate_limit_model = "fixed_window"
    #: longest accepted request line (method + target + version), bytes; longer -> 414
    max_request_line = 8192

    def __init__(
        self,
        fixture: dict[str, Any],
        *,
        domain: str,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        fault_seed: int | None = None,
    ) -> None:
        self.domain = domain
        self.clock: Clock = clock or time.time
        self.lock = threading.RLock()
        self.faults = FaultInjector(seed=fault_seed)
        self.calls = CallLog()
        self.rate_limiter = RateLimiter(self.rate_limit_model)
        self.router = Router()
        self.concurrency_limit: int | None = None
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._fixture = copy.deepcopy(fixture)
        self._server = SandboxHTTPServer(self, host, port)
        self.base_url = f"http://{host}:{self._server.port}"
        self._stopped = False
        self.admin = AdminApi(self)
        self.register_routes()
        with self.lock:
            self.load_fixture(copy.deepcopy(self._fixture))
        self._server.start(name=f"sandbox-{self.kind}")

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.port

    def now(self) -> float:
        return self.clock()

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if not self._stopped:
            self._stopped = True
            self._server.stop()

    def reset(self, fixture: dict[str, Any] | None = None) -> None:
        """Back to the fixture: data, rate limits, faults and the call log.  Registered
        credentials survive (see the subclass)."""
        if fixture is not None:
            self._fixture = copy.deepcopy(fixture)
        with self.lock:
            self.load_fixture(copy.deepcopy(self._fixture))
        self.rate_limiter.clear()
        self.concurrency_limit = None
        self.faults.clear()
        self.calls.reset()

    # -- rate limits ------------------------------------------------------------------------
    def set_rate_limit(self, bucket: str, **params: Any) -> None:
        """Configure one bucket (see :mod:`sandbox.ratelimit`); unknown buckets are refused."""
        if bucket not in self.rate_limit_buckets():
            raise ValueError(f"unknown {self.kind} rate-limit bucket {bucket!r}; known: {self.rate_limit_buckets()}")
        self.rate_limiter.configure(bucket, **params)

    def remove_rate_limit(self, bucket: str) -> None:
        self.rate_limiter.remove(bucket)

    def clear_rate_limits(self) -> None:
        self.rate_limiter.clear()
        self.concurrency_limit = None

    @property
    def rate_limits(self) -> dict[str, Any]:
        return self.rate_limiter.config()

    def configure_rate_limits(self, spec: dict[str, Any]) -> None:
        """Bulk form used by the admin API and the CLI: ``{bucket: params | None}``, and
        ``"precise_reset": true`` for reset headers to the millisecond (time-scaled benchmarks)."""
        spec = dict(spec)
        if "precise_reset" in spec:
            self.rate_limiter.precise_reset = bool(spec.pop("precise_reset"))
        for bucket, params in spec.items():
            if params is None:
                self.remove_rate_limit(bucket)
            else:
                self.set_rate_limit(bucket, **params)

    # -- pipeline ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[int]:
        with self._inflight_lock:
            self._inflight += 1
            current = self._inflight
        try:
            yield current
        finally:
            with self._inflight_lock:
                self._inflight -= 1

    def handle(self, request: Request) -> Response | None:
        if request.path == "/__sandbox" or request.path.startswith("/__sandbox/"):
            return self.admin.handle(request)
        request.context["request_id"] = self.new_request_id()
        route, params, path_known = self.router.match(request.method, request.path)
        request.route = route.template if route else UNMATCHED_ROUTE
        request.params = params
        with self._in_flight() as inflight:
            response = self._process(request, route, path_known, inflight)
        if response is not None:
            self.decorate(request, response)
        self.calls.record(
            Call(request.method, request.route, request.path, response.status if response else 0, self.now())
        )
        return response

    def _process(self, request: Request, route: Any, path_known: bool, inflight: int) -> Response | None:
        fault = self.faults.match(request.method, request.route or "", request.path)
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            if fault.action == "drop":
                return None
            if fault.action == "error":
                return self._fault_response(fault)
        if self.concurrency_limit is not None and inflight > self.concurrency_limit:
            return self.concurrency_limited(request)
        if route is None:
            return self.method_not_allowed(request) if path_known else self.not_found(request)
        denied, report = self.rate_limiter.check(self.classify(request), self.now())
        if denied is not None:
            response = self.rate_limited(request, denied)
        else:
            try:
                with self.lock:
                    response = route.handler(request)
            except HTTPError as exc:
                response = exc.response
            except Exception as exc:
                log.exception("sandbox %s handler failed for %s %s", self.kind, request.method, request.route)
                response = self.internal_error(request, exc)
        if report is not None:
            for name, value in self.rate_limit_headers(report):
                response.set_header(name, value)
        return response

    def _fault_response(self, fault: Fault) -> Response:
        if fault.body is not None:
            body = fault.body
            response = (
                Response.json(body, fault.status)
                if not isinstance(body, str)
                else Response(fault.status, body.encode(), [("Content-Type", "text/plain")])
            )
        else:
            response = self.fault_response(fault.status)
        for name, value in (fault.headers or {}).items():
            response.set_header(name, value)
        return response

    def http_date(self) -> str:
        return email.utils.formatdate(self.now(), usegmt=True)

    @staticmethod
    def new_request_id() -> str:
        return random_token(20)[:27]

    # -- hooks for subclasses ---------------------------------------------------------------
    def register_routes(self) -> None:
        raise NotImplementedError

    def load_fixture(self, fixture: dict[str, Any]) -> None:
        raise NotImplementedError

    def rate_limit_buckets(self) -> tuple[str, ...]:
        raise NotImplementedError

    def classify(self, request: Request) -> list[str]:
        """The rate-limit buckets a (routed) request counts against, checked in order."""
        raise NotImplementedError

    def rate_limit_headers(self, decision: Decision) -> list[tuple[str, str]]:
        raise NotImplementedError

    def rate_limited(self, request: Request, decision: Decision) -> Response:
        raise NotImplementedError

    def concurrency_limited(self, request: Request) -> Response:
        return Response.html(429)

    def fault_response(self, status: int) -> Response:
        return Response.html(status)

    def not_found(self, request: Request) -> Response:
        return Response.html(404)

    def method_not_allowed(self, request: Request) -> Response:
        return Response.html(405)

    def internal_error(self, request: Request, exc: Exception) -> Response:
        return self.fault_response(500)

    def length_required(self, request: Request) -> Response | None:
        """Called for a PUT/POST/PATCH without Content-Length or chunked body."""
        return None

    def request_line_too_long(self, request_line: str) -> Response:
        return Response.html(414)

    def decorate(self, request: Request, response: Response) -> None:
        response.set_header("Date", self.http_date())

    def snapshot(self) -> dict[str, Any]:
        """State for humans (admin ``/__sandbox/state``); never secrets."""
        raise NotImplementedError

    def admin_routes(self, router: Router) -> None:
        """Extra ``/__sandbox/...`` routes of the tenant."""
