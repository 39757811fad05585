"""Sandbox Okta and Auth0 tenants: loopback HTTP servers speaking the real APIs.

Quick start::

    import okta_auth0_sync_sandbox as sandbox

    with sandbox.start() as sb:                 # default fixture, ephemeral ports
        print(sb.okta.base_url, sb.auth0.base_url)
        key = sb.okta.register_app_key("0oaOKNNcFC2APG9zdPRV")   # -> GeneratedKey
        secret = sb.auth0.register_client_secret("luUzrF3YzNGBlxHPqRetDe5OQ4hCgbPj")
        sb.okta.set_rate_limit("users", 600, window=6)
        sb.auth0.set_rate_limit("global", burst=10, rate=2)
        sb.auth0.faults.error("/api/v2/users-by-email", status=503, times=1)
        sb.okta.calls.count(route="/api/v1/users")

See ``docs/sandbox.md`` for the fixture shape, rate-limit buckets, faults, admin endpoints
and the CLI (``python -m okta_auth0_sync_sandbox``).
"""

from okta_auth0_sync_sandbox.auth0 import Auth0Tenant
from okta_auth0_sync_sandbox.clock import FakeClock
from okta_auth0_sync_sandbox.jose import GeneratedKey
from okta_auth0_sync_sandbox.okta import OktaTenant
from okta_auth0_sync_sandbox.runner import (
    Credentials,
    Sandbox,
    launch,
    load_fixture,
    provision_credentials,
    start,
    write_credentials,
)
from okta_auth0_sync_sandbox.tenant import SandboxApiError

__all__ = [
    "Auth0Tenant",
    "Credentials",
    "FakeClock",
    "GeneratedKey",
    "OktaTenant",
    "Sandbox",
    "SandboxApiError",
    "launch",
    "load_fixture",
    "provision_credentials",
    "start",
    "write_credentials",
]
