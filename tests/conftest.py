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
# Lambda's Python runtime ships boto3 without awscrt, so botocore signs requests with its own
# SigV4; awscrt is here only because aws-sam-cli needs it (and its signer costs more per call).
os.environ["BOTO_DISABLE_CRT"] = "true"
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "okta-auth0-sync-tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OktaAuth0SyncTests")

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOOPBACK:
        raise ConnectionRefusedError(f"tests may only use loopback, not {host}")
    return _real_connect(self, address)


# Modules whose tests share no module or session state of their own (function fixtures only):
# a parallel run may hand each of their tests to any worker. Every other module goes to one
# worker whole (``--dist loadfile``), so its module fixtures are built once.
ANY_WORKER_PER_TEST = (
    "tests/integration/test_deactivation_convergence.py",
    "tests/integration/test_provisioning.py",
)


def pytest_collection_modifyitems(items):
    """The ``slow`` tests first (the order otherwise kept): a parallel run starts them at once on
    every worker, and the short ones fill in after, so the workers finish together."""
    items.sort(key=lambda item: not item.get_closest_marker("slow"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, except that each test of ``ANY_WORKER_PER_TEST`` is a unit of its own."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return nodeid if module in ANY_WORKER_PER_TEST else module

    return Scheduling(config, log)


@pytest.fixture(autouse=True, scope="session")
def _cheaper_fakes():
    """The test bed's speed-ups that change no behaviour, for the whole session (the list and
    why each is safe: ``okta_auth0_sync_testbed.fidelity.cheaper_fakes``)."""
    from okta_auth0_sync_testbed import fidelity

    with fidelity.cheaper_fakes():
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
