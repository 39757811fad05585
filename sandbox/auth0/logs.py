"""The Auth0 sandbox's tenant logs: what the real tenant logs for the writes the sandbox performs,
and the log stream's EventBridge envelope.

- Every successful Management API write (POST, PUT, PATCH, DELETE under ``/api/v2/``) is logged
  as ``sapi`` ("Success API Operation"): ``client_id``/``client_name`` of the caller (the
  token's ``azp``), ``user_id`` empty (an M2M caller), ``description`` the operation's summary,
  ``details.request`` (``method`` lower-case, ``path`` as sent, percent-encoding kept, ``query``,
  ``body``, ``channel``, ``auth``) and ``details.response`` (``statusCode``, ``body``).
- Deleting a user also logs ``sdu`` ("Successful User Deletion") naming the deleted user.
- ``log_id``: 56 digits that sort in the order the logs were written (the checkpoint API's order).

Subscribers (:meth:`TenantLogs.subscribe`) receive each new log as the EventBridge event a log
stream delivers (:func:`eventbridge_envelope`): ``detail = {"log_id", "data": <the log>}``.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from okta_auth0_sync_sandbox.util import iso8601

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant
    from okta_auth0_sync_sandbox.server import Request, Response

#: (method, route template) -> the operation's summary (the OpenAPI spec's, as Auth0 logs it)
DESCRIPTIONS = {
    ("PATCH", "/api/v2/users/{id}"): "Update a User",
    ("DELETE", "/api/v2/users/{id}"): "Delete a User",
    ("POST", "/api/v2/roles/{id}/users"): "Assign users to a role",
    ("POST", "/api/v2/users/{id}/roles"): "Assign roles to a user",
    ("DELETE", "/api/v2/users/{id}/roles"): "Removes roles from a user",
    ("DELETE", "/api/v2/users/{id}/sessions"): "Delete sessions for user",
    ("DELETE", "/api/v2/users/{id}/refresh-tokens"): "Delete refresh tokens for a user",
    ("POST", "/api/v2/users/{id}/revoke-access"): "Revoke a user's access",
    ("DELETE", "/api/v2/sessions/{id}"): "Delete session",
    ("POST", "/api/v2/sessions/{id}/revoke"): "Revokes a session",
    ("DELETE", "/api/v2/refresh-tokens/{id}"): "Delete a refresh tokens",
    ("DELETE", "/api/v2/device-credentials/{id}"): "Delete a device credential",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARTNER_SOURCE = "aws.partner/auth0.com/{tenant}-{stream}/auth0.logs"
EnvelopeSubscriber = Callable[[dict[str, Any]], None]


def eventbridge_envelope(
    log: dict[str, Any], *, source: str, account: str = "123456789012", region: str = "us-east-1"
) -> dict[str, Any]:
    """The event an Auth0 log stream puts on the partner event bus for one log."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Auth0 log",
        "source": source,
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [],
        "detail": {"log_id": log["log_id"], "data": copy.deepcopy(log)},
    }


class TenantLogs:
    """The tenant's log, oldest first. Thread-safe; survives nothing (cleared by ``reset``)."""

    def __init__(self, tenant: Auth0Tenant) -> None:
        self.tenant = tenant
        self._lock = threading.Lock()
        self._logs: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}
        self._sequence = itertools.count(1)
        self._subscribers: list[tuple[EnvelopeSubscriber, str]] = []
        self.stream_id = uuid.uuid4().hex[:12]

    @property
    def partner_source(self) -> str:
        """The stream's partner event source name (``aws.partner/auth0.com/{tenant}-{id}/auth0.logs``)."""
        return PARTNER_SOURCE.format(tenant=self.tenant_name, stream=self.stream_id)

    @property
    def tenant_name(self) -> str:
        return self.tenant.domain.split(".")[0]

    # -- reading -------------------------------------------------------------------------------
    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(log) for log in self._logs]

    def get(self, log_id: str) -> dict[str, Any] | None:
        with self._lock:
            log = self._by_id.get(log_id)
            return copy.deepcopy(log) if log else None

    def after(self, log_id: str | None) -> list[dict[str, Any]]:
        """Logs whose id sorts after ``log_id`` (all without one), in id order."""
        with self._lock:
            return [copy.deepcopy(x) for x in self._logs if log_id is None or x["log_id"] > log_id]

    def clear(self) -> None:
        with self._lock:
            self._logs.clear()
            self._by_id.clear()

    # -- the stream ------------------------------------------------------------------------------
    def subscribe(self, callback: EnvelopeSubscriber, *, source: str | None = None) -> Callable[[], None]:
        """Deliver every new log to ``callback`` as its EventBridge envelope (the stream); returns
        the function that unsubscribes."""
        entry = (callback, source or self.partner_source)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    # -- writing -------------------------------------------------------------------------------
    def _new_id(self, now: float) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}"
        return f"900{stamp}{next(self._sequence):036d}"  # 3 + 17 + 36 = 56 digits, in write order

    def emit(self, log_type: str, description: str, **fields: Any) -> dict[str, Any]:
        now = self.tenant.now()
        with self._lock:
            log_id = self._new_id(now)
            log = {
                "date": iso8601(now),
                "type": log_type,
                "description": description,
                "ip": "203.0.113.7",
                "hostname": self.tenant.domain,
                "user_agent": "Python-requests / sandbox",
                "details": {},
                **fields,
                "log_id": log_id,
                "tenant_name": self.tenant_name,
                "environment_name": "sandbox-1",
                "$event_schema": {"version": "1.0.0"},
                "isMobile": False,
            }
            self._logs.append(log)
            self._by_id[log_id] = log
            subscribers = list(self._subscribers)
            copies = [eventbridge_envelope(log, source=source) for _, source in subscribers]
        for (callback, _), envelope in zip(subscribers, copies, strict=True):
            callback(envelope)
        return copy.deepcopy(log)

    def api_write(self, request: Request, response: Response) -> dict[str, Any] | None:
        """Log a successful Management API write (``sapi``) as Auth0 does; None for anything else."""
        claims = request.context.get("claims")
        if (
            request.method not in WRITE_METHODS
            or not (request.route or "").startswith("/api/v2/")
            or not 200 <= response.status < 300
            or not isinstance(claims, dict)
        ):
            return None
        client_id = str(claims.get("azp") or str(claims.get("sub", "")).removesuffix("@clients"))
        client = self.tenant.clients.get(client_id)
        try:
            body = request.json() if request.body else {}
        except Exception:  # a form body: logged as its fields
            body = dict(request.form())
        description = DESCRIPTIONS.get((request.method, request.route or ""), "Management API operation")
        return self.emit(
            "sapi",
            description,
            client_id=client_id,
            client_name=client.name if client else "",
            user_id="",
            details={
                "request": {
                    "method": request.method.lower(),
                    "path": request.raw_path,
                    "query": {k: v for k, v in _query(request).items()},
                    "body": body if body is not None else {},
                    "channel": "api",
                    "ip": "203.0.113.7",
                    "auth": {
                        "user": {},
                        "strategy": "jwt",
                        "credentials": {
                            "jti": str(claims.get("jti", "")),
                            "scopes": str(claims.get("scope", "")).split(),
                        },
                    },
                },
                "response": {"statusCode": response.status, "body": response.json_body() or {}},
            },
        )

    def user_deleted(self, user: dict[str, Any], client_id: str) -> dict[str, Any]:
        """``sdu``: the user named in ``user_id`` was deleted."""
        identity = (user.get("identities") or [{}])[0]
        return self.emit(
            "sdu",
            "",
            client_id=client_id,
            client_name=getattr(self.tenant.clients.get(client_id), "name", ""),
            user_id=user["user_id"],
            user_name=user.get("email") or user.get("name") or "",
            connection=identity.get("connection", ""),
            strategy=identity.get("provider", ""),
            strategy_type="database" if identity.get("provider") == "auth0" else "enterprise",
            details={},
        )


def _query(request: Request) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(request.query_string, keep_blank_values=True))
