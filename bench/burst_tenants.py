"""The burst's sandbox tenants, in this process (``inline``) or in a child process of their own
(``child``, the default): a remote tenant does not share our CPU, and here the tenants' request
handling (token checks, rate-limit buckets, the Management API) would otherwise share the
interpreter lock with moto's Step Functions and the handlers.

Both kinds seed the same crowd (one Okta user, deactivated, and one Auth0 account per person),
apply the same scaled limits and report the same outcome: the time of each account's last
successful write (PATCH or DELETE under ``/api/v2/users/{id}``) and the accounts whose
``app_metadata.okta_sync.deactivated`` flag is missing (lost events). The child speaks over a
``multiprocessing`` pipe; its CPU is read from ``/proc``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from typing import Any
from urllib.parse import unquote

from bench.provisioning import process_cpu_seconds
from okta_auth0_sync_sandbox import runner as sandbox_runner

AUTH0_BURST, AUTH0_RATE = 50, 16.0  # Enterprise production, Management API (global bucket)
OKTA_USER_READS = 1000  # per minute: the app's 50 % share of Workforce's 2,000/min GET /users/{id}
OKTA_TOKENS, OKTA_CONCURRENCY = 1000, 75


def configure_limits(sb: Any, scale: float) -> None:
    minute = 60.0 / scale
    sb.auth0.set_plan("enterprise")
    sb.auth0.configure_rate_limits(
        {"global": {"burst": AUTH0_BURST, "rate": AUTH0_RATE * scale}, "precise_reset": True}
    )
    sb.okta.configure_rate_limits(
        {
            "window": minute,
            "precise_reset": True,
            "concurrency": OKTA_CONCURRENCY,
            "user": {"limit": OKTA_USER_READS},
            "token": {"limit": OKTA_TOKENS},
        }
    )


def seed(sb: Any, count: int) -> list[dict[str, str]]:
    """``count`` people, each an Okta user (deactivated; no hook registered: the bench starts the
    executions itself) and one Auth0 account with the same email."""
    crowd = []
    for n in range(count):
        email = f"burst.person{n}@acme.example"
        okta = sb.okta.add_user({"login": email, "email": email, "firstName": "Burst", "lastName": str(n)})
        account = sb.auth0.add_user(email=email)["user_id"]
        crowd.append({"okta_id": okta["id"], "login": email, "account": account})
    for person in crowd:
        sb.okta.deactivate_user(person["okta_id"])
    return crowd


def outcome(sb: Any, crowd: list[dict[str, str]]) -> dict[str, Any]:
    """Each account's last successful write (epoch seconds) and how many accounts lack the flag."""
    last_write: dict[str, float] = {}
    for call in sb.auth0.calls.all():
        if call.method in ("PATCH", "DELETE") and call.status < 300 and call.path.count("/") >= 4:
            account = unquote(call.path.split("/")[4])
            last_write[account] = max(last_write.get(account, 0.0), call.time)
    lost = sum(
        1
        for p in crowd
        if not ((sb.auth0.get_user(p["account"]).get("app_metadata") or {}).get("okta_sync") or {}).get("deactivated")
    )
    return {"last_write": last_write, "lost": lost}


def _setup(sb: Any, events: int, scale: float) -> dict[str, Any]:
    creds = sandbox_runner.provision_credentials(sb)
    crowd = seed(sb, events)
    configure_limits(sb, scale)
    return {
        "secrets": {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta},
        "domains": {"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain},
        "crowd": crowd,
    }


def _serve(conn: Any, events: int, scale: float) -> None:
    """The child: start the tenants, seed them, then answer the parent's requests until "stop"."""
    with sandbox_runner.start() as sb:
        setup = _setup(sb, events, scale)
        conn.send(setup)
        while True:
            request = conn.recv()
            if request == "reset_calls":
                sb.auth0.calls.reset()
                conn.send(None)
            elif request == "outcome":
                conn.send(outcome(sb, setup["crowd"]))
            else:
                break


class InlineTenants:
    """The tenants in this process (sharing its CPU and interpreter lock)."""

    kind = "inline"
    pid = None

    def __init__(self, events: int, scale: float) -> None:
        self._sb = sandbox_runner.start()
        setup = _setup(self._sb, events, scale)
        self.secrets, self.domains, self.crowd = setup["secrets"], setup["domains"], setup["crowd"]

    def reset_calls(self) -> None:
        self._sb.auth0.calls.reset()

    def outcome(self) -> dict[str, Any]:
        return outcome(self._sb, self.crowd)

    def cpu_seconds(self) -> float:
        return 0.0  # counted in this process's own CPU

    def close(self) -> None:
        self._sb.stop()


class ChildTenants:
    """The tenants in a child process (``spawn``: no thread of ours is copied into it)."""

    kind = "child"

    def __init__(self, events: int, scale: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, events, scale), daemon=True)
        self._process.start()
        theirs.close()
        if not self._conn.poll(600):
            self.close()
            raise RuntimeError("the sandbox tenants did not start within 10 minutes")
        setup = self._conn.recv()
        self.secrets, self.domains, self.crowd = setup["secrets"], setup["domains"], setup["crowd"]
        self.pid = self._process.pid

    def _ask(self, request: str) -> Any:
        self._conn.send(request)
        return self._conn.recv()

    def reset_calls(self) -> None:
        self._ask("reset_calls")

    def outcome(self) -> dict[str, Any]:
        return self._ask("outcome")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid) if self.pid and os.path.exists(f"/proc/{self.pid}") else 0.0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._process.join(30)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(10)


def start(kind: str, events: int, scale: float) -> InlineTenants | ChildTenants:
    return ChildTenants(events, scale) if kind == "child" else InlineTenants(events, scale)
