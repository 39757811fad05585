"""Admin endpoints under ``/__sandbox/`` (both tenants).

These are for humans and for ``sam local`` setups; tests can use the Python API instead.
They are unauthenticated (the servers only listen on loopback), never rate limited, never
faulted and never recorded in the call log.  Responses never contain secrets.

=======  ============================  ==================================================
GET      /__sandbox                    index of the admin endpoints
GET      /__sandbox/state              state dump (users, groups, roles, clients…)
POST     /__sandbox/reset              reset data, limits, faults and calls to the fixture
GET      /__sandbox/rate-limits        current bucket configuration
PUT      /__sandbox/rate-limits        ``{"bucket": {params} | null, …}`` (Okta also
                                       ``"window"`` and ``"concurrency"``)
DELETE   /__sandbox/rate-limits        remove every limit
GET      /__sandbox/faults             active faults
POST     /__sandbox/faults             add one: ``{"action", "method", "route", …}``
DELETE   /__sandbox/faults             remove all;  ``/__sandbox/faults/{id}`` one
GET      /__sandbox/calls              ``{"total", "counts": [{method, route, status, count}]}``
DELETE   /__sandbox/calls              reset the call log
=======  ============================  ==================================================

Tenants add their own routes (Okta: event hooks, admin-console lifecycle actions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from okta_auth0_sync_sandbox.server import BadRequestBody, HTTPError, Request, Response, Router

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.tenant import Tenant


def admin_error(status: int, message: str) -> HTTPError:
    return HTTPError(Response.json({"error": message}, status))


def json_body(request: Request) -> Any:
    try:
        return request.json()
    except BadRequestBody as exc:
        raise admin_error(400, f"body is not valid JSON: {exc}") from exc


class AdminApi:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.router = Router()
        r = self.router
        r.add("GET", "/__sandbox", self.index)
        r.add("GET", "/__sandbox/", self.index)
        r.add("GET", "/__sandbox/state", self.state)
        r.add("POST", "/__sandbox/reset", self.reset)
        r.add("GET", "/__sandbox/rate-limits", self.get_rate_limits)
        r.add("PUT", "/__sandbox/rate-limits", self.put_rate_limits)
        r.add("DELETE", "/__sandbox/rate-limits", self.delete_rate_limits)
        r.add("GET", "/__sandbox/faults", self.list_faults)
        r.add("POST", "/__sandbox/faults", self.add_fault)
        r.add("DELETE", "/__sandbox/faults", self.clear_faults)
        r.add("DELETE", "/__sandbox/faults/{id}", self.remove_fault)
        r.add("GET", "/__sandbox/calls", self.get_calls)
        r.add("DELETE", "/__sandbox/calls", self.reset_calls)
        self._tenant_routes_added = False

    def handle(self, request: Request) -> Response:
        if not self._tenant_routes_added:
            self.tenant.admin_routes(self.router)
            self._tenant_routes_added = True
        route, params, known = self.router.match(request.method, request.path)
        if route is None:
            return Response.json({"error": "method not allowed" if known else "not found"}, 405 if known else 404)
        request.route, request.params = route.template, params
        try:
            response = route.handler(request)
        except HTTPError as exc:
            response = exc.response
        except (ValueError, TypeError, KeyError) as exc:
            response = Response.json({"error": str(exc)}, 400)
        response.set_header("Date", self.tenant.http_date())
        response.set_header("Cache-Control", "no-store")
        return response

    # -- handlers ---------------------------------------------------------------------------
    def index(self, request: Request) -> Response:
        return Response.json(
            {
                "tenant": self.tenant.kind,
                "domain": self.tenant.domain,
                "base_url": self.tenant.base_url,
                "endpoints": [f"{m} {t}" for m, t in self.router.templates()],
                "rate_limit_buckets": list(self.tenant.rate_limit_buckets()),
            }
        )

    def state(self, request: Request) -> Response:
        with self.tenant.lock:
            return Response.json(self.tenant.snapshot())

    def reset(self, request: Request) -> Response:
        self.tenant.reset()
        return Response.json({"reset": True})

    def get_rate_limits(self, request: Request) -> Response:
        return Response.json(self._limits())

    def _limits(self) -> dict[str, Any]:
        return {
            "buckets": self.tenant.rate_limits,
            "known_buckets": list(self.tenant.rate_limit_buckets()),
            "concurrency": self.tenant.concurrency_limit,
        }

    def put_rate_limits(self, request: Request) -> Response:
        spec = json_body(request)
        if not isinstance(spec, dict):
            raise admin_error(400, "body must be an object {bucket: params|null}")
        self.tenant.configure_rate_limits(spec)
        return Response.json(self._limits())

    def delete_rate_limits(self, request: Request) -> Response:
        self.tenant.clear_rate_limits()
        return Response.json(self._limits())

    def list_faults(self, request: Request) -> Response:
        return Response.json({"faults": [f.to_dict() for f in self.tenant.faults.list()]})

    def add_fault(self, request: Request) -> Response:
        spec = json_body(request)
        if not isinstance(spec, dict):
            raise admin_error(400, "body must be a fault object")
        if "seed" in spec:
            self.tenant.faults.reseed(spec.pop("seed"))
        fault = self.tenant.faults.add(**spec)
        return Response.json(fault.to_dict(), 201)

    def clear_faults(self, request: Request) -> Response:
        self.tenant.faults.clear()
        return Response.empty(204)

    def remove_fault(self, request: Request) -> Response:
        if not self.tenant.faults.remove(request.params["id"]):
            raise admin_error(404, "no such fault")
        return Response.empty(204)

    def get_calls(self, request: Request) -> Response:
        return Response.json({"total": len(self.tenant.calls), "counts": self.tenant.calls.summary()})

    def reset_calls(self, request: Request) -> Response:
        self.tenant.calls.reset()
        return Response.empty(204)
