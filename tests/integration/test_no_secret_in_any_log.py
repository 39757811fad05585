"""No secret and no token in any log line, whatever the log settings, at every entry point.

The whole stack runs with the most revealing settings an operator can choose: the library's logger
at DEBUG (``LogLevel``), Powertools' event logging on (``POWERTOOLS_LOGGER_LOG_EVENT=true``: every
event logged whole), and a handler of its own on the root logger, as Lambda's runtime has (records
that reached it would be printed unredacted). Through it go every function's events/ samples, real
event hook deliveries, and invoke API calls with Bearer and DPoP tokens, which run the state
machines. (The root logger at DEBUG, which makes botocore write bodies and signed headers, is
tested where it is cheap: tests/unit/test_log_redaction.py.)

The secrets are the ones the sandbox issued (the Auth0 client secret, the Okta private key, the
SSWS token, the hook secret, the role's session token) and every token that crossed the wire
(access tokens the tenants minted, DPoP proofs, the invoke API callers' tokens), collected at the
HTTP transport as they pass."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import threading

import pytest
import requests

from okta_auth0_sync.base.logs import logger
from okta_auth0_sync_cli.client import InvokeApiClient
from okta_auth0_sync_testbed.apigateway import LocalHttpApi, LocalRestApi
from okta_auth0_sync_testbed.deployment import LocalDeployment

from .conftest import HOOK_SECRET, connection_secrets
from .test_invoke_api import AS_ID, DPOP_CLIENT, GRACE, GROUP, ROLE, caller
from .test_sample_events import EXECUTIONS, FUNCTIONS, event

TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKENforTHEfunctionROLE0123456789"  # the role's, on Lambda


class Wire:
    """Every credential that crosses the HTTP transport: request ``Authorization`` and ``DPoP``
    headers, and the tokens in token endpoint answers."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    def request(self, prepared: requests.PreparedRequest) -> None:
        for name in ("Authorization", "DPoP"):
            value = prepared.headers.get(name)
            if value:
                self.add(value.split(" ", 1)[-1])

    def response(self, response: requests.Response) -> None:
        if "/token" not in response.url or response.status_code != 200:
            return
        try:
            body = response.json()
        except ValueError:
            return
        for field in TOKEN_FIELDS:
            if isinstance(body, dict) and isinstance(body.get(field), str):
                self.add(body[field])

    def add(self, credential: str) -> None:
        if len(credential) >= 16:
            with self._lock:
                self.seen.add(credential)


@pytest.fixture
def wire(monkeypatch):
    seen = Wire()
    send = requests.Session.send

    def recording_send(session, prepared, **kwargs):
        seen.request(prepared)
        response = send(session, prepared, **kwargs)
        seen.response(response)
        return response

    monkeypatch.setattr(requests.Session, "send", recording_send)
    return seen


@pytest.fixture
def everything_logged(monkeypatch):
    """The library logger (LogLevel DEBUG in the stack) and a handler on the root logger (as
    Lambda's runtime has), into one buffer; Powertools' event logging on."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def issued_secrets(credentials) -> list[str]:
    """The sandbox-issued secrets, and the parts of the private key a leak would show."""
    pem = credentials.okta["private_key"]
    body = "".join(line for line in pem.splitlines() if "-----" not in line)
    return [
        credentials.auth0["client_secret"],
        credentials.okta_ssws["api_token"],
        HOOK_SECRET,
        SESSION_TOKEN,
        body[40:104],  # any 64 characters of the key's base64 body
        body[-100:-36],
        base64.b64encode(credentials.auth0["client_secret"].encode()).decode(),  # as Basic auth would carry it
    ]


def assert_nothing_leaked(text: str, secrets) -> None:
    leaked = sorted({secret[:12] + "..." for secret in secrets if secret and secret in text})

    assert not leaked, f"{len(leaked)} secrets or tokens in the logs (first characters only): {leaked}"


def test_every_entry_point_at_debug_with_events_logged(sb, credentials, wire, everything_logged):
    with LocalDeployment(
        connection_secrets(credentials),
        parameters={
            "OktaDomain": sb.okta.domain,
            "Auth0Domain": sb.auth0.domain,
            "ApiIssuer": f"{sb.okta.base_url}/oauth2/{AS_ID}",
            "LogLevel": "DEBUG",
        },
    ) as stack:
        logger.setLevel("DEBUG")  # what POWERTOOLS_LOG_LEVEL=DEBUG gives a new container
        # Every function's samples (the hook's carry the sample secret; a wrong one is refused, logged).
        for function, samples in FUNCTIONS.items():
            for name in samples:
                with contextlib.suppress(Exception):  # a refusal is an outcome here; only the logs are judged
                    stack.invoke(function, event(name))
        # Real hook deliveries, with the real secret, through the HTTP API.
        with LocalHttpApi(stack) as hook_api:
            url = f"{hook_api.url}/okta/event-hook"
            challenge = requests.get(
                url, headers={"Authorization": HOOK_SECRET, "X-Okta-Verification-Challenge": "c" * 24}
            )
            assert challenge.status_code == 200
            sb.okta.deactivate_user(GRACE)
            delivery = {
                "eventType": "com.okta.event_hook",
                "data": {"events": sb.okta.log_events("user.lifecycle.deactivate")},
            }
            assert requests.post(url, json=delivery, headers={"Authorization": HOOK_SECRET}).status_code == 204
        # The invoke API with a Bearer caller and a DPoP-bound one.
        with LocalRestApi(stack, "InvokeApi") as rest:
            bearer = InvokeApiClient(rest.url, caller(sb, ["sync.provision", "sync.read"]))
            bearer.wait(bearer.start_provisioning(ROLE, GROUP, dry_run=True)["execution_id"], interval=0.05, timeout=60)
            dpop = InvokeApiClient(rest.url, caller(sb, ["sync.users", "sync.read"], client_id=DPOP_CLIENT, dpop=True))
            dpop.wait(dpop.sync_user(GRACE)["execution_id"], interval=0.05, timeout=60)
            assert (
                requests.get(f"{rest.url}/executions/x", headers={"Authorization": "Bearer " + "e" * 40}).status_code
                == 401
            )
        for machine in EXECUTIONS:
            stack.wait_all(machine)
        histories = execution_histories(stack)
    text = everything_logged.getvalue()
    assert '"level":"DEBUG"' in text or '"rawPath":"/okta/event-hook"' in text  # events were logged
    assert len(wire.seen) >= 4, "tokens crossed the wire and were collected"
    assert_nothing_leaked(text, [*issued_secrets(credentials), *wire.seen])
    assert_nothing_leaked(histories, [*issued_secrets(credentials), *wire.seen])


def execution_histories(stack) -> str:
    """Every state's input and output of every execution, as Step Functions keeps them."""
    client = stack.client("stepfunctions")
    events = []
    for machine in EXECUTIONS:
        for execution in stack.executions(machine):
            arn = execution["executionArn"] if isinstance(execution, dict) else execution
            events += client.get_execution_history(executionArn=arn)["events"]
    return json.dumps(events, default=str)
