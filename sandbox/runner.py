"""Starting the two tenants together, and provisioning credentials for clients.

``start()`` returns a running :class:`Sandbox` (also a context manager)::

    with sandbox.start() as sb:
        sb.okta.base_url, sb.auth0.base_url
        key = sb.okta.register_app_key(OKTA_CLIENT_ID)

``provision_credentials(sb, secrets_dir)`` creates the credentials the project's library
needs (Okta service-app key pair, SSWS token, Auth0 client secret) and writes them as JSON
files (mode 0600); the CLI (``python -m okta_auth0_sync_sandbox``) is built on it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from okta_auth0_sync_sandbox.auth0 import Auth0Tenant
from okta_auth0_sync_sandbox.clock import Clock
from okta_auth0_sync_sandbox.okta import OktaTenant

FIXTURE_FILES = {"okta": "okta.json", "okta_ssws": "okta-ssws.json", "auth0": "auth0.json"}


def load_fixture(fixture: str | os.PathLike[str] | dict[str, Any] | None = None) -> dict[str, Any]:
    """The default fixture (``sandbox/fixtures/default.json``), a path, or a dict as is."""
    if isinstance(fixture, dict):
        return fixture
    if fixture is None:
        text = resources.files("okta_auth0_sync_sandbox").joinpath("fixtures/default.json").read_text(encoding="utf-8")
    else:
        text = Path(fixture).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or "okta" not in data or "auth0" not in data:
        raise ValueError("a sandbox fixture is an object with 'okta' and 'auth0' sections")
    return data


class Sandbox:
    """Both tenants.  ``okta`` / ``auth0`` are :class:`OktaTenant` / :class:`Auth0Tenant`."""

    def __init__(self, okta: OktaTenant, auth0: Auth0Tenant, fixture: dict[str, Any]) -> None:
        self.okta = okta
        self.auth0 = auth0
        self.fixture = fixture

    @property
    def tenants(self) -> tuple[OktaTenant, Auth0Tenant]:
        return self.okta, self.auth0

    def set_clock(self, clock: Clock) -> None:
        for tenant in self.tenants:
            tenant.clock = clock

    def reset(self) -> None:
        """Both tenants back to the fixture (credentials kept)."""
        for tenant in self.tenants:
            tenant.reset()

    def stop(self) -> None:
        for tenant in self.tenants:
            tenant.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    fixture: str | os.PathLike[str] | dict[str, Any] | None = None,
    *,
    okta_port: int = 0,
    auth0_port: int = 0,
    host: str = "127.0.0.1",
    okta_domain: str | None = None,
    auth0_domain: str | None = None,
    clock: Clock | None = None,
    fault_seed: int | None = None,
) -> Sandbox:
    """Start both tenants on loopback (ephemeral ports by default) and return them."""
    data = load_fixture(fixture)
    okta = OktaTenant(data["okta"], domain=okta_domain, host=host, port=okta_port, clock=clock, fault_seed=fault_seed)
    try:
        auth0 = Auth0Tenant(
            data["auth0"], domain=auth0_domain, host=host, port=auth0_port, clock=clock, fault_seed=fault_seed
        )
    except BaseException:
        okta.stop()
        raise
    return Sandbox(okta, auth0, data)


# -- credentials -------------------------------------------------------------------------------
@dataclass
class Credentials:
    """Connection settings in the shapes the project's library reads (contain secrets)."""

    okta: dict[str, Any]
    okta_ssws: dict[str, Any]
    auth0: dict[str, Any]


def _first(items: list[dict[str, Any]], predicate: Any, what: str) -> dict[str, Any]:
    for item in items:
        if predicate(item):
            return item
    raise ValueError(f"the fixture has no {what}")


def provision_credentials(
    sb: Sandbox, okta_client_id: str | None = None, auth0_client_id: str | None = None
) -> Credentials:
    """Generate credentials for the fixture's first service app / M2M client (or the given
    ones): an Okta RSA key pair (public half registered, ``kid`` set), an SSWS token and an
    Auth0 client secret."""
    okta_fx, auth0_fx = sb.fixture["okta"], sb.fixture["auth0"]
    app = _first(
        okta_fx.get("service_apps", []),
        lambda a: (a["client_id"] == okta_client_id) if okta_client_id else not a.get("dpop_bound"),
        "Okta service app",
    )
    m2m = _first(
        auth0_fx.get("clients", []),
        lambda c: (
            (c["client_id"] == auth0_client_id)
            if auth0_client_id
            else c.get("token_endpoint_auth_method", "client_secret_post") != "private_key_jwt"
            and "management_api_scopes" in c
        ),
        "Auth0 M2M client with a Management API grant",
    )
    key = sb.okta.register_app_key(app["client_id"])
    assert key is not None
    return Credentials(
        okta={
            "domain": sb.okta.domain,
            "client_id": app["client_id"],
            "private_key": key.private_key_pem,
            "key_id": key.kid,
            "scopes": list(app.get("scopes", [])),
            "base_url": sb.okta.base_url,
        },
        okta_ssws={
            "domain": sb.okta.domain,
            "api_token": sb.okta.register_api_token("sandbox-cli"),
            "base_url": sb.okta.base_url,
        },
        auth0={
            "domain": sb.auth0.domain,
            "client_id": m2m["client_id"],
            "client_secret": sb.auth0.register_client_secret(m2m["client_id"]),
            "base_url": sb.auth0.base_url,
        },
    )


def write_credentials(credentials: Credentials, secrets_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``okta.json``, ``okta-ssws.json`` and ``auth0.json`` (mode 0600)."""
    directory = Path(secrets_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, filename in FIXTURE_FILES.items():
        path = directory / filename
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(getattr(credentials, name), fh, indent=2)
            fh.write("\n")
        os.chmod(path, 0o600)
        paths[name] = path
    return paths


def launch(
    fixture: str | os.PathLike[str] | dict[str, Any] | None = None,
    *,
    host: str = "127.0.0.1",
    okta_port: int = 0,
    auth0_port: int = 0,
    okta_domain: str | None = None,
    auth0_domain: str | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
    okta_client_id: str | None = None,
    auth0_client_id: str | None = None,
    okta_rate_limits: dict[str, Any] | None = None,
    auth0_rate_limits: dict[str, Any] | None = None,
    event_hooks_background: bool = False,
) -> tuple[Sandbox, dict[str, Any]]:
    """What ``python -m okta_auth0_sync_sandbox`` does, reusable by other tools: start both tenants, apply
    rate limits, optionally deliver event hooks in the background, and (with
    ``secrets_dir``) provision and write credentials.  Returns the running sandbox and a
    summary without secrets: ``{"okta": {"base_url", "domain"}, "auth0": {…}, "files": {…}}``."""
    sb = start(
        fixture,
        okta_port=okta_port,
        auth0_port=auth0_port,
        host=host,
        okta_domain=okta_domain,
        auth0_domain=auth0_domain,
    )
    try:
        if okta_rate_limits:
            sb.okta.configure_rate_limits(okta_rate_limits)
        if auth0_rate_limits:
            sb.auth0.configure_rate_limits(auth0_rate_limits)
        if event_hooks_background:
            sb.okta.hooks.start_background()
        summary: dict[str, Any] = {
            "okta": {"base_url": sb.okta.base_url, "domain": sb.okta.domain},
            "auth0": {"base_url": sb.auth0.base_url, "domain": sb.auth0.domain},
        }
        if secrets_dir is not None:
            creds = provision_credentials(sb, okta_client_id, auth0_client_id)
            summary["files"] = {k: str(v) for k, v in write_credentials(creds, secrets_dir).items()}
    except BaseException:
        sb.stop()
        raise
    return sb, summary


def stop_on_sigterm():
    """An event set by SIGTERM: install it before announcing that the servers are up."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def serve_until_stopped(stop) -> None:
    """Block until ``stop`` is set (SIGTERM) or Ctrl-C (the CLIs' main loop)."""
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
