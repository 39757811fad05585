"""The test bed: sandbox Okta and Auth0 tenants on loopback, and the template's stack in moto
with every Lambda task routed to our handlers in-process."""

import pytest

from okta_auth0_sync.base import counters
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment

HOOK_SECRET = "hook-shared-secret-for-tests-0123456789"


@pytest.fixture(scope="session")
def tenants():
    sb = sandbox_runner.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def credentials(tenants):
    return sandbox_runner.provision_credentials(tenants)


@pytest.fixture
def sb(tenants):
    """The tenants, back to the fixture's data for this test (credentials kept)."""
    tenants.reset()  # data, limits, faults, call log, event hooks and their delivery settings
    yield tenants
    tenants.reset()


def connection_secrets(credentials, *, okta="okta"):
    return {
        "Auth0ConnectionSecret": credentials.auth0,
        "OktaConnectionSecret": getattr(credentials, okta),
        "EventHookSecret": {"current": HOOK_SECRET, "previous": ""},
    }


@pytest.fixture
def stack(sb, credentials):
    counters.api_calls.reset()
    counters.tokens_minted.reset()
    with LocalDeployment(
        connection_secrets(credentials), parameters={"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain}
    ) as deployment:
        yield deployment


EVENT_TYPES = ["user.lifecycle.deactivate", "user.lifecycle.activate", "user.lifecycle.reactivate"]


@pytest.fixture
def api(stack):
    from okta_auth0_sync_testbed.apigateway import LocalHttpApi

    with LocalHttpApi(stack) as local_api:
        yield local_api


@pytest.fixture
def hook(sb, api):
    """The event hook registered (and verified) in the sandbox Okta, as an admin would."""
    return sb.okta.register_event_hook(f"{api.url}/okta/event-hook", EVENT_TYPES, HOOK_SECRET)


def deliver(sb):
    """Okta delivers what its event hooks have queued; every delivery must be accepted."""
    deliveries = sb.okta.flush_event_hooks()
    assert deliveries and all(d.outcome == "success" for d in deliveries), [d.as_dict() for d in deliveries]
    return deliveries
