"""Shared test configuration: no test reaches beyond loopback, and no real AWS account."""

import os
import socket

import pytest

# Never let a test talk to a real AWS account, whatever the developer's shell has.
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["POWERTOOLS_TRACE_DISABLED"] = "1"
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "okta-auth0-sync-tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OktaAuth0SyncTests")

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOOPBACK:
        raise ConnectionRefusedError(f"tests may only use loopback, not {host}")
    return _real_connect(self, address)


def pytest_collection_modifyitems(items):
    """Modules with a ``slow`` test first (their order otherwise kept): a parallel run
    (``-n``, one module per worker at a time) starts them at once, so the workers finish together."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture(autouse=True, scope="session")
def _cheaper_fakes():
    """The test bed's speed-ups that change no behaviour (okta_auth0_sync_testbed.fidelity): every
    moto mock and simulated cold start builds new boto3 Sessions (botocore's data files parsed
    once), the ledger's conditional writes (moto's expression parsing done once per expression),
    and every Okta or Auth0 call (the proxy lookup of ``requests``)."""
    from okta_auth0_sync_testbed import fidelity

    with (
        fidelity.botocore_data_parsed_once(),
        fidelity.dynamodb_expressions_parsed_once(),
        fidelity.proxy_lookup_without_decoding(),
    ):
        yield


@pytest.fixture(autouse=True)
def _counters_from_zero():
    """The API call and token counters are process-wide: every test starts them from zero, whatever
    ran before it in this process (with several workers, which modules did is not fixed)."""
    from okta_auth0_sync.base import counters

    counters.api_calls.reset()
    counters.tokens_minted.reset()


@pytest.fixture(autouse=True, scope="session")
def _loopback_only():
    socket.socket.connect = _guarded_connect
    yield
    socket.socket.connect = _real_connect


@pytest.fixture(autouse=True)
def _settings_read_afresh():
    """The library reads the environment once per container (``okta_auth0_sync.settings.current``);
    each test sets its own environment, so each test starts with the settings unread."""
    from okta_auth0_sync import settings

    settings.reset()
    yield
    settings.reset()
