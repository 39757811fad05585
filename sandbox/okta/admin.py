"""Okta-only admin endpoints (see :mod:`sandbox.admin` for the shared ones).

=======  ==========================================  =========================================
GET      /__sandbox/event-hooks                      hooks, queue size, knobs, deliveries
POST     /__sandbox/event-hooks                      register (+verify) ``{"url", "authorization",
                                                     "event_types", "headers", "name", "verify"}``
POST     /__sandbox/event-hooks/flush                deliver the queue now
PUT      /__sandbox/event-hooks/settings             ``{"batch_size", "duplicate", "timeout",
                                                     "background", "interval", "enabled"}``
                                                     (``enabled: false``: deliveries lost, an outage)
DELETE   /__sandbox/event-hooks/{id}                 remove a hook
POST     /__sandbox/users/{id}/lifecycle/{op}        an Admin-Console lifecycle action
POST     /__sandbox/oauth/sign-in                    test only: ``{"login", "decision"}`` an admin
                                                     signed in "in the browser": /authorize answers
                                                     as they would (approve or deny); login null
                                                     signs out
GET      /__sandbox/oauth/clients/{id}/refresh-tokens  ``{"valid": n}`` refresh tokens accepted now
POST     /__sandbox/oauth/clients/{id}/revoke        revoke every token family of the app
=======  ==========================================  =========================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from okta_auth0_sync_sandbox.server import Request, Response, Router
from okta_auth0_sync_sandbox.tenant import SandboxApiError

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.okta.tenant import OktaTenant


class OktaAdmin:
    def __init__(self, tenant: OktaTenant) -> None:
        self.tenant = tenant

    def register(self, router: Router) -> None:
        router.add("GET", "/__sandbox/event-hooks", self.hooks)
        router.add("POST", "/__sandbox/event-hooks", self.add_hook)
        router.add("POST", "/__sandbox/event-hooks/flush", self.flush)
        router.add("PUT", "/__sandbox/event-hooks/settings", self.hook_settings)
        router.add("DELETE", "/__sandbox/event-hooks/{id}", self.remove_hook)
        router.add("POST", "/__sandbox/users/{id}/lifecycle/{op}", self.lifecycle)
        router.add("POST", "/__sandbox/oauth/sign-in", self.sign_in)
        router.add("GET", "/__sandbox/oauth/clients/{id}/refresh-tokens", self.refresh_tokens)
        router.add("POST", "/__sandbox/oauth/clients/{id}/revoke", self.revoke_tokens)

    def hooks(self, request: Request) -> Response:
        return Response.json(
            {
                "hooks": [h.public_view(self.tenant.base_url) for h in self.tenant.hooks.hooks.values()],
                "pending": self.tenant.hooks.pending,
                "settings": {
                    "batch_size": self.tenant.hooks.batch_size,
                    "duplicate": self.tenant.hooks.duplicate,
                    "timeout": self.tenant.hooks.timeout,
                    "enabled": self.tenant.hooks.enabled,
                },
                "lost": list(self.tenant.hooks.lost),
                "deliveries": [d.as_dict() for d in self.tenant.hooks.deliveries],
            }
        )

    def add_hook(self, request: Request) -> Response:
        spec = request.json() or {}
        hook = self.tenant.register_event_hook(
            spec["url"],
            spec.get("event_types") or ["user.lifecycle.deactivate", "user.lifecycle.reactivate"],
            spec.get("authorization"),
            name=spec.get("name", "okta-auth0-sync"),
            headers=spec.get("headers"),
            verify=spec.get("verify", True),
        )
        status = 400 if spec.get("verify", True) and hook.verification_status != "VERIFIED" else 201
        return Response.json(hook.public_view(self.tenant.base_url), status)

    def flush(self, request: Request) -> Response:
        return Response.json({"deliveries": [d.as_dict() for d in self.tenant.hooks.flush()]})

    def hook_settings(self, request: Request) -> Response:
        spec = request.json() or {}
        if "batch_size" in spec:
            self.tenant.hooks.batch_size = int(spec["batch_size"])
        if "duplicate" in spec:
            self.tenant.hooks.duplicate = bool(spec["duplicate"])
        if "enabled" in spec:  # false: an outage, every subscribed event is lost (no replay)
            self.tenant.hooks.enabled = bool(spec["enabled"])
        if "timeout" in spec:
            self.tenant.hooks.timeout = float(spec["timeout"])
        if "background" in spec:
            if spec["background"]:
                self.tenant.hooks.start_background(float(spec.get("interval", 0.2)))
            else:
                self.tenant.hooks.stop_background()
        return self.hooks(request)

    def remove_hook(self, request: Request) -> Response:
        self.tenant.hooks.remove(request.params["id"])
        return Response.empty(204)

    def lifecycle(self, request: Request) -> Response:
        try:
            body = self.tenant.lifecycle(request.params["id"], request.params["op"])
        except SandboxApiError as exc:
            return exc.response
        return Response.json({"user": self.tenant.get_user(request.params["id"]), "result": body})

    def sign_in(self, request: Request) -> Response:
        spec = request.json() or {}
        try:
            self.tenant.sign_in(spec.get("login"), decision=spec.get("decision", "approve"))
        except ValueError as exc:
            return Response.json({"error": str(exc)}, 400)
        return Response.empty(204)

    def refresh_tokens(self, request: Request) -> Response:
        try:
            valid = self.tenant.grants.valid_refresh_tokens(request.params["id"])
        except KeyError:
            return Response.json({"error": "no such client"}, 404)
        return Response.json({"valid": valid})

    def revoke_tokens(self, request: Request) -> Response:
        return Response.json({"revoked_families": self.tenant.grants.revoke_all(request.params["id"])})
