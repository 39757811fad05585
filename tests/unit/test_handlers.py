"""Each Lambda handler in ``functions/*/app.py``, alone: its collaborators replaced where the
handler meets the library (``connections.*``, ``PersonSync``, ``list_members``, ``executions.start_many``,
``invoke.start``, ``resource_server`` ...), no network, no AWS, no moto.

Every handler is checked for the four things a thin handler owes: it parses its typed input, it
rejects bad input with the library's ``InvalidInput`` (or the 4xx its API answers) before calling
anything, it calls its one service with the right arguments (from the event and the template's
environment), and it shapes an output that the state machine's ``ResultSelector`` can select
(read from ``statemachines/*.asl.json``, not copied here).

Handler modules are all called ``app``: each test loads a fresh copy under its own module name
(one Lambda container's globals), as the test bed does.
"""

from __future__ import annotations

import base64
import importlib.util
import itertools
import json
import re
import time
from collections import Counter
from pathlib import Path
from types import CodeType, ModuleType, SimpleNamespace
from typing import Any

import pytest

from okta_auth0_sync.base import container, counters
from okta_auth0_sync.base.errors import ConfigurationError, InvalidInput, NotFound, RateLimited
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.domain.deactivation import SyncReport, UserOutcome
from okta_auth0_sync.domain.events import LifecycleEvent
from okta_auth0_sync.domain.identities import Auth0User, OktaUser
from okta_auth0_sync.domain.lifecycle import DesiredState
from okta_auth0_sync.domain.payloads.invoke import ExecutionStatus, StartedExecution
from okta_auth0_sync.domain.payloads.provisioning.members import Listing
from okta_auth0_sync.domain.payloads.provisioning.report import RunCost, RunReport
from okta_auth0_sync.domain.payloads.provisioning.runs import FanOutInput, StartedRun
from okta_auth0_sync.domain.policies import ProvisioningPolicy, SyncPolicy
from okta_auth0_sync.domain.provisioning import RoleGroupMapping, RunOptions
from okta_auth0_sync.jose.resource_server import AuthFailure, Caller
from okta_auth0_sync.runtime import connections, observability
from okta_auth0_sync.services.deactivation import PersonSync
from okta_auth0_sync.services.lookup import IdentityMatch
from okta_auth0_sync.services.revocation import AccessRevoker
from okta_auth0_sync.store import aws, executions
from okta_auth0_sync.store.executions import Started
from okta_auth0_sync.store.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
_copies = itertools.count()

REGION, ACCOUNT = "us-east-1", "123456789012"
DEACTIVATION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:DeactivationSync"
PROVISIONING_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Provisioning"
OKTA_USER_ID = "00uieg27N0mAaWp92N5J"
EMAIL = "grace.hopper+ops@acme.example"
EVENT_UUID = "ab62c0bc-2837-11eb-9823-9fb8f750c5a9"
ROLE_ID, GROUP_ID = "rol_rRVnAbarjZsuC2Xn", "00gU18bXbD9XEKxR56aB"
HOOK_SECRET = "hook-shared-secret-for-unit-tests-0123456789"
TOKEN_VALUE = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0aGUtdG9rZW4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


# ---------------------------------------------------------------------------------- support


_compiled: dict[str, CodeType] = {}


def load_handler(name: str) -> ModuleType:
    """A fresh copy of ``functions/<name>/app.py`` under a unique module name (compiled once), in
    a new container: what the library keeps per container (the settings read from the environment,
    clients) is forgotten, so the handler reads the environment the test's fixture set."""
    container.new_container()
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"unit_handler_{name}_{next(_copies)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    code = _compiled.get(name)
    if code is None:
        code = _compiled[name] = compile(path.read_text(), str(path), "exec")
    exec(code, module.__dict__)  # what spec.loader.exec_module does, without recompiling the source
    return module


class FakeContext:
    """What the handlers (and Powertools) read from a Lambda context."""

    def __init__(self, function_name: str = "UnitTestFunction", remaining_ms: int = 30_000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = "6f1c2f9e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2024/05/02/[$LATEST]0123456789abcdef"
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def _states(states: dict) -> dict:
    """Every state of a definition, Map/Parallel children included."""
    found = {}
    for name, state in states.items():
        found[name] = state
        for child in ("ItemProcessor", "Iterator"):
            if child in state:
                found.update(_states(state[child]["States"]))
        for branch in state.get("Branches", []):
            found.update(_states(branch["States"]))
    return found


def asl_state(machine: str, state: str) -> dict:
    definition = json.loads((ROOT / "statemachines" / f"{machine}.asl.json").read_text())
    return _states(definition["States"])[state]


_PAYLOAD_PATH = re.compile(r"\$\.Payload((?:\.[A-Za-z_][A-Za-z0-9_]*)*)")


def assert_selectable(output: Any, machine: str, state: str) -> dict:
    """Every ``$.Payload...`` path the task's ResultSelector reads exists in ``output`` (as Step
    Functions would fail the task with States.Runtime otherwise); returns what it selects."""
    selector = asl_state(machine, state)["ResultSelector"]
    json.dumps(output)  # a Lambda result must be JSON
    selected = {}
    for key, expression in selector.items():
        if not key.endswith(".$"):
            continue
        paths = _PAYLOAD_PATH.findall(expression)
        assert paths, f"{machine}.{state}: {key} selects nothing from $.Payload"
        values = []
        for path in paths:
            value = output
            for part in filter(None, path.split(".")):
                assert isinstance(value, dict) and part in value, (
                    f"{machine}.{state}: {key} -> $.Payload{path} is missing from the handler's output"
                )
                value = value[part]
            values.append(value)
        if expression.startswith("States.MathAdd"):
            assert all(isinstance(v, int) and not isinstance(v, bool) for v in values), (key, values)
        selected[key[:-2]] = values[0] if len(values) == 1 else values
    return selected


def test_assert_selectable_notices_a_missing_field():
    with pytest.raises(AssertionError, match=r"\$\.Payload\.match_count is missing"):
        assert_selectable({"okta_user": {}, "auth0_users": []}, "identity_lookup", "LookupUsers")
    with pytest.raises(AssertionError):
        assert_selectable({"okta": {"minted": True}, "auth0": {"minted": 1}}, "provisioning", "EnsureTokens")


class Recorder:
    """A stand-in callable that records its calls and answers ``result`` (or raises it)."""

    def __init__(self, result: Any = None) -> None:
        self.result = result
        self.calls: list[tuple[tuple, dict]] = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result(*args, **kwargs) if callable(self.result) else self.result

    @property
    def called(self) -> bool:
        return bool(self.calls)

    @property
    def last(self) -> tuple[tuple, dict]:
        assert self.calls, "not called"
        return self.calls[-1]


class FakeStateTable:
    instances: list[FakeStateTable] = []

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self.summaries: list[tuple[str, str, dict]] = []
        FakeStateTable.instances.append(self)

    def put_summary(self, run_id: str, part: str, summary: dict) -> None:
        self.summaries.append((run_id, part, summary))


@pytest.fixture
def state_tables(monkeypatch):
    FakeStateTable.instances = []
    return FakeStateTable.instances


@pytest.fixture
def metrics(monkeypatch):
    """The metrics the handler publishes, by name (the shared Metrics instance's add_metric)."""
    published: Counter = Counter()

    def add_metric(*, name, unit, value, **_):
        published[name] += value

    monkeypatch.setattr(observability.metrics, "add_metric", add_metric)
    return published


@pytest.fixture
def tallies(monkeypatch):
    """Process-wide API-call and token tallies, empty for the test and restored after it."""
    monkeypatch.setattr(counters.api_calls, "_counts", Counter())
    monkeypatch.setattr(counters.tokens_minted, "_counts", Counter())


@pytest.fixture
def clients(monkeypatch):
    """``connections.auth0()``/``okta()`` answer sentinels and count how often they were asked."""
    made = SimpleNamespace(
        auth0=SimpleNamespace(name="auth0-client"), okta=SimpleNamespace(name="okta-client"), asked=Counter()
    )

    def auth0():
        made.asked["auth0"] += 1
        return made.auth0

    def okta():
        made.asked["okta"] += 1
        return made.okta

    monkeypatch.setattr(connections, "auth0", auth0)
    monkeypatch.setattr(connections, "okta", okta)
    return made


@pytest.fixture
def ctx():
    return FakeContext()


# ================================================================================== mint_token


class FakeTenant:
    def __init__(self, name: str, token: AccessToken | None, *, mints: bool) -> None:
        self.name, self._token, self.mints, self.calls = name, token, mints, 0

    def token(self) -> AccessToken | None:
        self.calls += 1
        if self.mints:
            counters.tokens_minted.record(self.name)
        return self._token


def _token(token_type: str = "Bearer", minted_at: float = 1714641243.411) -> AccessToken:
    return AccessToken(value=TOKEN_VALUE, token_type=token_type, expires_at=minted_at + 3600, minted_at=minted_at)


@pytest.fixture
def mint(monkeypatch, tallies):
    tenants = {
        "auth0": FakeTenant("auth0", _token(), mints=True),
        "okta": FakeTenant("okta", _token("DPoP", 1714641000.0), mints=False),
    }
    monkeypatch.setattr(connections, "tenant", lambda name: tenants[name])
    return SimpleNamespace(handler=load_handler("mint_token").lambda_handler, tenants=tenants)


def test_mint_token_one_connection_returns_a_reference_never_the_token(mint, ctx):
    out = mint.handler({"connection": "auth0", "correlation_id": "exec-1"}, ctx)
    token = mint.tenants["auth0"]._token
    assert out == {
        "connection": "auth0",
        "token_type": "Bearer",
        "token_ref": token.reference,
        "expires_at": token.expires_iso(),
        "minted": 1,
    }
    assert out["expires_at"] == "2024-05-02T10:14:03Z"
    assert TOKEN_VALUE not in json.dumps(out)
    assert mint.tenants["auth0"].calls == 1 and mint.tenants["okta"].calls == 0
    assert assert_selectable(out, "identity_lookup", "EnsureAuth0Token") == {
        "token_ref": token.reference,
        "expires_at": "2024-05-02T10:14:03Z",
    }


def test_mint_token_defaults_to_auth0(mint, ctx):
    assert mint.handler({}, ctx)["connection"] == "auth0"
    assert mint.handler(None, ctx)["connection"] == "auth0"


def test_mint_token_several_connections_for_both_state_machines(mint, ctx):
    out = mint.handler({"connections": ["okta", "auth0"], "correlation_id": "exec-1"}, ctx)
    assert list(out) == ["okta", "auth0"]
    assert out["okta"] == {
        "connection": "okta",
        "token_type": "DPoP",
        "token_ref": "minted-1714641000000",
        "expires_at": "2024-05-02T10:10:00Z",
        "minted": 0,
    }  # warm: nothing minted
    assert out["auth0"]["minted"] == 1
    assert TOKEN_VALUE not in json.dumps(out)
    assert assert_selectable(out, "deactivation_sync", "EnsureTokens") == {
        "okta": "2024-05-02T10:10:00Z",
        "auth0": "2024-05-02T10:14:03Z",
    }
    assert assert_selectable(out, "provisioning", "EnsureTokens") == {"minted": [0, 1]}


def test_mint_token_asks_each_connection_once(mint, ctx):
    out = mint.handler({"connections": ["okta", "okta", "auth0", "okta"]}, ctx)
    assert list(out) == ["okta", "auth0"]
    assert mint.tenants["okta"].calls == 1 and mint.tenants["auth0"].calls == 1


def test_mint_token_ssws_connection_has_nothing_to_mint(mint, ctx):
    mint.tenants["okta"] = FakeTenant("okta", None, mints=False)
    out = mint.handler({"connections": ["okta", "auth0"]}, ctx)
    assert out["okta"] == {
        "connection": "okta",
        "token_type": "SSWS",
        "token_ref": "static",
        "expires_at": None,
        "minted": 0,
    }
    assert_selectable(out, "provisioning", "EnsureTokens")
    assert_selectable(out, "deactivation_sync", "EnsureTokens")


@pytest.mark.parametrize(
    "event",
    [
        {"connection": "github"},
        {"connection": None},
        {"connections": "okta"},
        {"connections": ["okta", "github"]},
        {"connections": [{"name": "okta"}]},
        {"connections": {"okta": True}},
    ],
)
def test_mint_token_rejects_unknown_connections(mint, ctx, event):
    with pytest.raises(InvalidInput, match="'auth0' and/or 'okta'"):
        mint.handler(event, ctx)
    assert all(t.calls == 0 for t in mint.tenants.values())


# ================================================================================== lookup_users


@pytest.fixture
def lookup(monkeypatch, clients):
    module = load_handler("lookup_users")
    okta_user = OktaUser(
        id=OKTA_USER_ID,
        status="DEPROVISIONED",
        login=EMAIL,
        email=EMAIL,
        first_name="Grace",
        last_name="Hopper",
        profile={"mobilePhone": "+61 400 000 000"},
    )
    order: list[str] = []
    clients.okta.get_user = Recorder(lambda user_id: order.append("get_user") or okta_user)
    match = IdentityMatch(
        okta_user=okta_user,
        auth0_users=[
            Auth0User(
                user_id="auth0|c9aa6c77",
                email=EMAIL,
                connections=("Username-Password-Authentication",),
                app_metadata={"okta_sync": {"deactivated": True}},
            ),
            Auth0User(user_id="samlp|acme|grace", email=EMAIL.upper(), connections=("acme",)),
        ],
    )
    identities = Recorder(match)
    monkeypatch.setattr(module, "lookup_identities", identities)
    monkeypatch.setattr(module, "utc_now_iso", lambda: order.append("now") or "2024-05-02T09:14:05.000Z")
    return SimpleNamespace(handler=module.lambda_handler, identities=identities, order=order, clients=clients)


def test_lookup_users_finds_the_okta_user_and_every_auth0_user(lookup, ctx):
    out = lookup.handler({"okta_user_id": OKTA_USER_ID, "correlation_id": "exec-1"}, ctx)
    assert lookup.identities.calls == [((lookup.clients.okta, lookup.clients.auth0, OKTA_USER_ID), {})]
    assert out == {
        "okta_user": {"id": OKTA_USER_ID, "status": "DEPROVISIONED", "login": EMAIL, "email": EMAIL},
        "auth0_users": [
            {"user_id": "auth0|c9aa6c77", "email": EMAIL, "connections": ["Username-Password-Authentication"]},
            {"user_id": "samlp|acme|grace", "email": EMAIL.upper(), "connections": ["acme"]},
        ],
        "match_count": 2,
    }
    assert "mobilePhone" not in json.dumps(out) and "okta_sync" not in json.dumps(out)  # ids only, no metadata
    assert_selectable(out, "identity_lookup", "LookupUsers")


def test_lookup_users_okta_only_reads_the_user_and_when(lookup, ctx):
    out = lookup.handler({"okta_user_id": OKTA_USER_ID, "find_auth0_users": False}, ctx)
    assert out == {
        "okta_user": {
            "id": OKTA_USER_ID,
            "status": "DEPROVISIONED",
            "login": EMAIL,
            "email": EMAIL,
            "read_at": "2024-05-02T09:14:05.000Z",
        }
    }
    assert lookup.order == ["now", "get_user"]  # read_at is taken before the read
    assert lookup.clients.okta.get_user.calls == [((OKTA_USER_ID,), {})]
    assert not lookup.identities.called and lookup.clients.asked["auth0"] == 0
    selected = assert_selectable(out, "deactivation_sync", "ReadOktaUser")
    assert selected == {
        "id": OKTA_USER_ID,
        "login": EMAIL,
        "email": EMAIL,
        "status": "DEPROVISIONED",
        "read_at": "2024-05-02T09:14:05.000Z",
    }


def test_lookup_users_only_false_skips_auth0(lookup, ctx):
    lookup.handler({"okta_user_id": OKTA_USER_ID, "find_auth0_users": 0}, ctx)  # only literal false skips
    assert lookup.identities.called


def test_lookup_users_not_found_keeps_its_class_name_for_the_catch(lookup, ctx):
    lookup.clients.okta.get_user = Recorder(NotFound("no Okta user 00uGone", tenant="okta", status=404))
    with pytest.raises(NotFound):
        lookup.handler({"okta_user_id": "00uGone", "find_auth0_users": False}, ctx)
    assert "NotFound" in asl_state("deactivation_sync", "ReadOktaUser")["Catch"][0]["ErrorEquals"]


@pytest.mark.parametrize(
    "okta_user_id", [None, "", 42, "00u/../admin", "00u 3m90", "grace@acme.example", "a" * 65, ["00u1"]]
)
def test_lookup_users_rejects_what_is_not_an_okta_id(lookup, ctx, okta_user_id):
    with pytest.raises(InvalidInput, match="okta_user_id"):
        lookup.handler({"okta_user_id": okta_user_id}, ctx)
    assert not lookup.identities.called and not lookup.clients.asked


# ================================================================================== update_metadata


class FakePersonSync:
    made: list[FakePersonSync] = []
    report: SyncReport | None = None

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.runs: list[tuple[LifecycleEvent, str | None]] = []
        FakePersonSync.made.append(self)

    def run(self, event: LifecycleEvent, email: str | None) -> SyncReport:
        self.runs.append((event, email))
        return FakePersonSync.report


def _deactivation_report(*, recorded="newest", results=None, matches=None) -> SyncReport:
    """What PersonSync.run returns."""
    event = LifecycleEvent(
        uuid=EVENT_UUID,
        event_type="user.lifecycle.deactivate",
        published="2024-05-02T09:14:01.862Z",
        okta_user_id=OKTA_USER_ID,
    )
    state = DesiredState(
        okta_user_id=OKTA_USER_ID,
        event_uuid=EVENT_UUID,
        event_type="user.lifecycle.deactivate",
        published="2024-05-02T09:14:01.862Z",
        version=3,
        applied_version=3,
    )
    if results is None:
        results = [
            UserOutcome(
                "auth0|a1",
                "flagged",
                connections=["Username-Password-Authentication"],
                access={"sessions": "revoked", "refresh_tokens": "revoked"},
            ),
            UserOutcome(
                "samlp|acme|grace",
                "flagged",
                connections=["acme"],
                access={"sessions": "unsupported_plan", "refresh_tokens": "revoked"},
            ),
        ]
    return SyncReport(event, recorded, state, len(results) if matches is None else matches, tuple(results))


UPDATE_EVENT = {
    "event": {
        "uuid": EVENT_UUID,
        "type": "user.lifecycle.deactivate",
        "published": "2024-05-02T09:14:01.862Z",
        "action": "deactivate",
    },
    "okta_user": {
        "id": OKTA_USER_ID,
        "login": EMAIL,
        "email": EMAIL,
        "status": "DEPROVISIONED",
        "read_at": "2024-05-02T09:14:05.000Z",
    },
    "correlation_id": EVENT_UUID,
}


@pytest.fixture
def update(monkeypatch, clients, metrics):
    for name, value in {
        "LEDGER_TABLE": "LifecycleLedger",
        "METADATA_TARGET": "user_metadata",
        "METADATA_KEY": "okta",
        "BLOCK_DEACTIVATED_USERS": "false",
        "REVOKE_SESSIONS": "true",
        "REVOKE_REFRESH_TOKENS": "false",
        "CLEAR_LEGACY_FLAG": "true",
    }.items():
        monkeypatch.setenv(name, value)
    module = load_handler("update_metadata")
    FakePersonSync.made = []
    FakePersonSync.report = _deactivation_report()
    monkeypatch.setattr(module, "PersonSync", FakePersonSync)
    return SimpleNamespace(handler=module.lambda_handler, clients=clients, metrics=metrics)


def test_update_metadata_builds_the_sync_from_the_environment_and_runs_it(update, ctx):
    out = update.handler(json.loads(json.dumps(UPDATE_EVENT)), ctx)
    (sync,) = FakePersonSync.made
    assert set(sync.kwargs) == {"auth0", "ledger", "policy", "revoker"}
    assert sync.kwargs["auth0"] is update.clients.auth0
    ledger, policy, revoker = sync.kwargs["ledger"], sync.kwargs["policy"], sync.kwargs["revoker"]
    assert isinstance(ledger, Ledger) and ledger.table_name == "LifecycleLedger"
    assert isinstance(policy, SyncPolicy)
    assert (policy.target, policy.key, policy.block_users, policy.clear_legacy_flag) == (
        "user_metadata",
        "okta",
        False,
        True,
    )
    assert (policy.revoke.sessions, policy.revoke.refresh_tokens) == (True, False)
    assert isinstance(revoker, AccessRevoker) and revoker.auth0 is update.clients.auth0
    assert revoker.policy == policy.revoke
    assert sync.runs == [
        (
            LifecycleEvent(
                uuid=EVENT_UUID,
                event_type="user.lifecycle.deactivate",
                published="2024-05-02T09:14:01.862Z",
                okta_user_id=OKTA_USER_ID,
                okta_login=EMAIL,
            ),
            EMAIL,
        )
    ]
    assert out == {
        "okta_user_id": OKTA_USER_ID,
        "event_uuid": EVENT_UUID,
        "action": "deactivate",
        "recorded": "newest",
        "outcome": "synced",
        "applied": {
            "event_uuid": EVENT_UUID,
            "event_type": "user.lifecycle.deactivate",
            "published": "2024-05-02T09:14:01.862Z",
            "version": 3,
        },
        "matches": 2,
        "failed": 0,
        "counts": {"flagged": 2},
        "results": [
            {
                "user_id": "auth0|a1",
                "outcome": "flagged",
                "connections": ["Username-Password-Authentication"],
                "access": {"sessions": "revoked", "refresh_tokens": "revoked"},
            },
            {
                "user_id": "samlp|acme|grace",
                "outcome": "flagged",
                "connections": ["acme"],
                "access": {"sessions": "unsupported_plan", "refresh_tokens": "revoked"},
            },
        ],
    }
    assert out == FakePersonSync.report.to_payload()
    selected = assert_selectable(out, "deactivation_sync", "SyncAuth0Users")
    assert selected["outcome"] == "synced" and selected["failed"] == 0 and selected["matches"] == 2
    assert selected["applied"]["event_uuid"] == EVENT_UUID


def test_update_metadata_publishes_outcome_and_access_metrics(update, ctx):
    update.handler(UPDATE_EVENT, ctx)
    assert update.metrics == {
        "Auth0UsersFlagged": 2,
        "SessionsRevoked": 1,
        "RefreshTokensRevoked": 2,
        "SessionRevocationUnsupported": 1,
    }


def test_update_metadata_reports_superseded_events_and_people_without_auth0_user(update, ctx):
    FakePersonSync.report = _deactivation_report(recorded="superseded", results=[])
    out = update.handler(UPDATE_EVENT, ctx)
    assert out["outcome"] == "no_auth0_user"
    assert assert_selectable(out, "deactivation_sync", "SyncAuth0Users")["outcome"] == "no_auth0_user"
    assert update.metrics == {"EventsSuperseded": 1, "EventsWithoutAuth0User": 1}


def test_update_metadata_without_email_still_syncs(update, ctx):
    """UseEventLogin: the Okta user is gone and the login stands in for the email."""
    event = {**UPDATE_EVENT, "okta_user": {"id": OKTA_USER_ID, "login": EMAIL, "email": None}}
    update.handler(event, ctx)
    assert FakePersonSync.made[0].runs[0][1] is None


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"event": UPDATE_EVENT["event"]}, "okta_user.id"),
        ({**UPDATE_EVENT, "okta_user": "00uieg27N0mAaWp92N5J"}, "okta_user.id"),
        ({**UPDATE_EVENT, "okta_user": {"id": 12345}}, "okta_user.id"),
        ({**UPDATE_EVENT, "event": None}, "event must be an object"),
        ({**UPDATE_EVENT, "event": {**UPDATE_EVENT["event"], "uuid": ""}}, "event.uuid"),
        ({**UPDATE_EVENT, "event": {**UPDATE_EVENT["event"], "type": "user.session.start"}}, "event.type"),
        ({**UPDATE_EVENT, "event": {**UPDATE_EVENT["event"], "published": "yesterday"}}, "event.published"),
        (None, "okta_user.id"),
    ],
)
def test_update_metadata_rejects_bad_input_before_touching_anything(update, ctx, event, message):
    with pytest.raises(InvalidInput, match=message):
        update.handler(event, ctx)
    assert not FakePersonSync.made and not update.clients.asked


def test_update_metadata_needs_its_ledger_table(update, ctx, monkeypatch):
    monkeypatch.delenv("LEDGER_TABLE")
    with pytest.raises(ConfigurationError, match="LEDGER_TABLE"):
        update.handler(UPDATE_EVENT, ctx)
    assert not FakePersonSync.made


def test_update_metadata_failures_are_reported_for_the_outcome_choice(update, ctx):
    FakePersonSync.report = _deactivation_report(
        results=[
            UserOutcome("auth0|a1", "flagged", access={"sessions": "revoked", "refresh_tokens": "revoked"}),
            UserOutcome("auth0|a2", "failed", reason="403 missing update:users"),
        ]
    )
    out = update.handler(UPDATE_EVENT, ctx)
    assert assert_selectable(out, "deactivation_sync", "SyncAuth0Users")["failed"] == 1
    assert update.metrics["Auth0UpdateFailures"] == 1


def test_update_metadata_really_uses_person_sync():
    """The fake stands in for the class the handler imports."""
    assert load_handler("update_metadata").PersonSync is PersonSync


# ================================================================================== list_role_members


LISTING = {
    "members": 120,
    "pending": 70,
    "unchanged": 50,
    "batches": 3,
    "managed": 40,
    "left_role": 1,
    "blocked": 0,
    "blocked_complete": True,
}


class FakeRunState(FakeStateTable):
    """The state table as the provisioning handlers use it: parts written and read back."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        super().__init__(table_name, client)
        self.parts: dict[str, dict] = {}

    def put_summary(self, run_id: str, part: str, summary: dict) -> None:
        super().put_summary(run_id, part, summary)
        self.parts[part] = summary

    def part(self, run_id: str, part: str) -> dict | None:
        return self.parts.get(part)


@pytest.fixture
def listing(monkeypatch, clients, state_tables, tallies):
    monkeypatch.setenv("STATE_TABLE", "ProvisioningState")
    monkeypatch.setenv("PROVISIONING_BUCKET", "provisioning-bucket")
    monkeypatch.setenv("PROVISIONING_BATCH_SIZE", "25")
    module = load_handler("list_role_members")

    def list_members(options, **kwargs):
        counters.api_calls.record("auth0", "GET", "/api/v2/roles/{id}/users", 200)
        counters.api_calls.record("okta", "GET", "/api/v1/groups/{id}", 200)
        return Listing(members=120, pending=70, batches=3, managed=40, left_role=1, left_role_sample=("auth0|gone",))

    members = Recorder(list_members)
    s3 = SimpleNamespace(name="s3-client")
    monkeypatch.setattr(module, "list_members", members)
    monkeypatch.setattr(module, "StateTable", FakeRunState)
    monkeypatch.setattr(aws, "client", lambda service: {"s3": s3}[service])
    return SimpleNamespace(handler=module.lambda_handler, members=members, s3=s3, clients=clients, module=module)


LIST_EVENT = {
    "request": {"role_id": ROLE_ID, "group_id": GROUP_ID, "dry_run": True, "tokens": {"minted": 2}},
    "run_id": "exec-1",
}


def test_list_role_members_lists_and_records_its_usage(listing, ctx, state_tables):
    out = listing.handler(LIST_EVENT, ctx)
    ((args, kwargs),) = listing.members.calls
    assert args[0] == RunOptions(RoleGroupMapping(ROLE_ID, GROUP_ID), "exec-1", dry_run=True, recheck=False)
    assert kwargs["auth0"] is listing.clients.auth0 and kwargs["okta"] is listing.clients.okta
    assert kwargs["bucket"] == "provisioning-bucket" and kwargs["s3"] is listing.s3
    assert kwargs["state"] is state_tables[0] and state_tables[0].table_name == "ProvisioningState"
    assert isinstance(kwargs["policy"], ProvisioningPolicy) and kwargs["policy"].batch_size == 25
    ((run_id, part, usage),) = state_tables[0].summaries
    assert (run_id, part) == ("exec-1", f"usage#list#{ctx.aws_request_id}")
    assert usage["ok"] is True and usage["api_calls"] == {"auth0": 1, "okta": 1} and usage["step"] == "list"
    assert out == {
        "run": {"role_id": ROLE_ID, "group_id": GROUP_ID, "run_id": "exec-1", "dry_run": True, "recheck": False},
        "members": LISTING,
    }
    assert assert_selectable(out, "provisioning", "ListRoleMembers")["run"]["run_id"] == "exec-1"


def test_list_role_members_a_failed_attempt_still_records_its_usage(listing, ctx, state_tables, monkeypatch):
    def failing(options, **kwargs):
        counters.api_calls.record("auth0", "GET", "/api/v2/roles/{id}/users", 503)
        raise RateLimited("auth0 429 after retries", tenant="auth0", status=429)

    monkeypatch.setattr(listing.module, "list_members", failing)
    with pytest.raises(RateLimited):
        listing.handler(LIST_EVENT, ctx)
    ((_, part, usage),) = state_tables[0].summaries
    assert part.startswith("usage#list#") and usage["ok"] is False and usage["api_calls"] == {"auth0": 1}


def test_list_role_members_marks_a_failed_listing_so_the_worker_stops(listing, ctx, state_tables):
    event = {**LIST_EVENT, "failure": {"Error": "UpstreamUnavailable", "Cause": "{}"}}
    out = listing.handler(event, ctx)
    assert out["failed"] is True and not listing.members.called and not listing.clients.asked
    assert state_tables[0].parts["progress"] == {"failed": True}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"request": LIST_EVENT["request"]}, "run_id"),
        ({**LIST_EVENT, "run_id": "has spaces"}, "run_id"),
        ({**LIST_EVENT, "request": {"group_id": GROUP_ID}}, "role_id"),
        ({**LIST_EVENT, "request": {"role_id": ROLE_ID, "group_id": "group-1"}}, "group_id"),
        ({**LIST_EVENT, "request": {**LIST_EVENT["request"], "dry_run": "yes"}}, "dry_run"),
        ({**LIST_EVENT, "request": {**LIST_EVENT["request"], "recheck": 1}}, "recheck"),
        ({**LIST_EVENT, "failure": "boom"}, "failure"),
        (None, "run_id"),
    ],
)
def test_list_role_members_rejects_bad_runs(listing, ctx, state_tables, event, message):
    with pytest.raises(InvalidInput, match=message):
        listing.handler(event, ctx)
    assert not listing.members.called and not state_tables and not listing.clients.asked


# ================================================================================== provision_members


class FakeRunWorker:
    made: list[FakeRunWorker] = []
    outcome: Any = (5, True)

    def __init__(self, options, **kwargs) -> None:
        from okta_auth0_sync.services.provisioning.usage import SharedUsage

        self.options, self.kwargs, self.ran = options, kwargs, []
        self.thread_usage = SharedUsage()
        FakeRunWorker.made.append(self)

    def run(self, next_batch):
        self.ran.append(("run", next_batch))
        counters.api_calls.record("okta", "POST", "/api/v1/users", 200)
        if isinstance(FakeRunWorker.outcome, BaseException):
            raise FakeRunWorker.outcome
        return FakeRunWorker.outcome

    def run_batch(self, index, user_ids):
        self.ran.append(("batch", index, user_ids))
        return {"counts": {"provisioned": 2, "existing_added": 1}}


RUN = {"role_id": ROLE_ID, "group_id": GROUP_ID, "run_id": "exec-1", "dry_run": False, "recheck": False}
REQUEST = {"role_id": ROLE_ID, "group_id": GROUP_ID, "dry_run": False, "tokens": {"minted": 0}}
WORKER_EVENT = {"request": REQUEST, "run_id": "exec-1", "next": 2}
BATCH_EVENT = {"run": RUN, "batch": {"index": 3, "user_ids": ["auth0|a1", "auth0|a2", "google-oauth2|1"]}}


@pytest.fixture
def provision(monkeypatch, clients, state_tables, metrics, tallies):
    for name, value in {
        "STATE_TABLE": "ProvisioningState",
        "ACTIVATE_ON_CREATE": "false",
        "FEDERATED_USERS": "true",
        "MASTERED_ATTRIBUTE": "",
        "PROFILE_MAPPING": "",
    }.items():
        monkeypatch.setenv(name, value)
    module = load_handler("provision_members")
    FakeRunWorker.made, FakeRunWorker.outcome = [], (5, True)
    failure = Recorder(4)
    monkeypatch.setattr(module, "RunWorker", FakeRunWorker)
    monkeypatch.setattr(module, "StateTable", FakeRunState)
    monkeypatch.setattr(module, "record_worker_failure", failure)
    return SimpleNamespace(handler=module.lambda_handler, failure=failure, clients=clients, metrics=metrics)


def test_provision_members_runs_the_worker_from_where_it_stopped(provision, ctx, state_tables):
    out = provision.handler(WORKER_EVENT, ctx)
    (worker,) = FakeRunWorker.made
    assert worker.options == RunOptions.from_payload(RUN)
    assert worker.kwargs["auth0"] is provision.clients.auth0 and worker.kwargs["okta"] is provision.clients.okta
    assert worker.kwargs["state"] is state_tables[0] and state_tables[0].table_name == "ProvisioningState"
    policy = worker.kwargs["policy"]
    assert (policy.activate, policy.federated, policy.mastered_attribute) == (False, True, None)
    assert worker.ran == [("run", 2)]
    assert out == {"next": 5, "more": True}
    assert assert_selectable(out, "provisioning", "ProvisionMembers") == {"next": 5, "more": True}
    ((_, part, usage),) = state_tables[0].summaries
    assert part == f"usage#worker#{ctx.aws_request_id}" and usage["api_calls"] == {"okta": 1}


def test_provision_members_a_failed_attempt_still_records_its_usage(provision, ctx, state_tables):
    FakeRunWorker.outcome = RateLimited("okta create users: 429 after retries", tenant="okta", status=429)
    with pytest.raises(RateLimited):  # the class name is what the task's Retry matches
        provision.handler(WORKER_EVENT, ctx)
    ((_, part, usage),) = state_tables[0].summaries
    assert part.startswith("usage#worker#") and usage["ok"] is False and usage["api_calls"] == {"okta": 1}


def test_provision_members_records_a_caught_worker_failure(provision, ctx, state_tables):
    cause = json.dumps({"errorType": "RateLimited", "errorMessage": "okta 429 " + "x" * 400})
    out = provision.handler({**WORKER_EVENT, "failure": {"Error": "RateLimited", "Cause": cause}}, ctx)
    ((args, _),) = provision.failure.calls
    options, state, next_batch, error, message = args
    assert options == RunOptions.from_payload(RUN) and state is state_tables[0] and next_batch == 2
    assert error == "RateLimited" and message == ("okta 429 " + "x" * 400)[:300]
    assert not FakeRunWorker.made and not provision.clients.asked  # no tenant is needed to record a failure
    assert out == {"next": 2, "more": False}


def test_provision_members_one_given_batch(provision, ctx, state_tables):
    out = provision.handler(BATCH_EVENT, ctx)
    (worker,) = FakeRunWorker.made
    assert worker.ran == [("batch", 3, BATCH_EVENT["batch"]["user_ids"])]
    assert out == {"index": 3, "counts": {"provisioned": 2, "existing_added": 1}}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({**WORKER_EVENT, "next": -1}, "next"),
        ({**WORKER_EVENT, "next": "2"}, "next"),
        ({**WORKER_EVENT, "next": True}, "next"),
        ({**WORKER_EVENT, "run_id": None}, "run_id"),
        ({"run": RUN, "batch": {"index": 0}}, "batch must be"),
        ({"run": RUN, "batch": {"index": 0, "user_ids": ["auth0|a1", 7]}}, "batch must be"),
        ({"batch": BATCH_EVENT["batch"]}, "run_id"),
        (None, "run_id"),
    ],
)
def test_provision_members_rejects_bad_input(provision, ctx, state_tables, event, message):
    with pytest.raises(InvalidInput, match=message):
        provision.handler(event, ctx)
    assert not FakeRunWorker.made and not provision.failure.called and not state_tables


# ================================================================================== provisioning_report


def _report_of(options: RunOptions) -> RunReport:
    """What build_report returns."""
    return RunReport(
        run=options,
        members=120,
        counts={"provisioned": 60, "existing_added": 5, "failed": 2, "unchanged": 50, "removed": 3},
        failed_members=[{"user_id": "auth0|bad", "reason": "E0000001"}],
        failed_total=2,
        batches=3,
        listing_complete=True,
        left_role=3,
        left_role_sample=["auth0|gone"],
        deprovisioning={"safety_stop": {"stopped": False}, "counts": {"removed": 3}},
        api_calls={"okta": 70, "auth0": 4},
        rate_limited_responses={},
        tokens_minted=2,
        duration_seconds=12.5,
        cost=RunCost(state_transitions=12, lambda_requests=6, lambda_gb_seconds=10.0, dollars=0.00043),
    )


@pytest.fixture
def reporting(monkeypatch, metrics, state_tables):
    monkeypatch.setenv("STATE_TABLE", "ProvisioningState")
    monkeypatch.setenv("PROVISIONING_BUCKET", "provisioning-bucket")
    module = load_handler("provisioning_report")
    build = Recorder(lambda options, state, **kwargs: _report_of(options))
    s3 = SimpleNamespace(put_object=Recorder({}))
    monkeypatch.setattr(module, "build_report", build)
    monkeypatch.setattr(module, "StateTable", FakeStateTable)
    monkeypatch.setattr(aws, "client", lambda service: {"s3": s3}[service])
    return SimpleNamespace(handler=module.lambda_handler, build=build, s3=s3, metrics=metrics)


REPORT_EVENT = {"request": REQUEST, "run_id": "exec-1", "started_at": "2024-05-02T09:00:00.000Z", "tokens_minted": 2}


def test_provisioning_report_builds_stores_and_returns_the_report(reporting, ctx, state_tables):
    out = reporting.handler(REPORT_EVENT, ctx)
    (options, state), kwargs = reporting.build.last
    assert options == RunOptions.from_payload(RUN)
    assert state is state_tables[0] and state.table_name == "ProvisioningState"
    assert kwargs["started_at"] == "2024-05-02T09:00:00.000Z" and kwargs["tokens_minted"] == 2
    ((_, put),) = reporting.s3.put_object.calls
    assert put["Bucket"] == "provisioning-bucket" and put["Key"] == "reports/exec-1.json"
    assert put["ContentType"] == "application/json" and put["ServerSideEncryption"] == "AES256"
    expected = _report_of(options).to_payload()
    assert json.loads(put["Body"]) == expected
    assert out == {**expected, "report_key": "reports/exec-1.json"}
    assert out["cost"] == {"state_transitions": 12, "lambda_requests": 6, "lambda_gb_seconds": 10.0, "dollars": 0.00043}
    assert assert_selectable(out, "provisioning", "BuildReport") == {"report": out}
    assert reporting.metrics["MembersProvisioned"] == 60 and reporting.metrics["MembersRemoved"] == 3
    assert reporting.metrics["ProvisioningRunStateTransitions"] == 12


def test_provisioning_report_of_a_dry_run_publishes_no_metrics(reporting, ctx):
    out = reporting.handler({**REPORT_EVENT, "request": {**REQUEST, "dry_run": True}}, ctx)
    assert out["dry_run"] is True and out["report_key"] == "reports/exec-1.json"
    assert not reporting.metrics


def test_provisioning_report_of_a_caller_with_the_run_options(reporting, ctx):
    """An event-driven caller passes the run options it has (``{"run": ...}``), tokens may be null."""
    reporting.handler({"run": RUN, "started_at": None, "tokens_minted": None}, ctx)
    assert reporting.build.last[1]["tokens_minted"] == 0


@pytest.mark.parametrize(
    "event", [{}, {"run": {**RUN, "group_id": "nope"}}, {"run": {**RUN, "run_id": ""}}, {"request": REQUEST}, None]
)
def test_provisioning_report_rejects_a_bad_run(reporting, ctx, event):
    with pytest.raises(InvalidInput):
        reporting.handler(event, ctx)
    assert not reporting.build.called and not reporting.s3.put_object.called


# ================================================================================== start_provisioning_runs


MAPPINGS = [{"role_id": ROLE_ID, "group_id": GROUP_ID}, {"role_id": "rol_Other0001", "group_id": "00gOther0001"}]
MAPPING, OTHER_MAPPING = RoleGroupMapping(ROLE_ID, GROUP_ID), RoleGroupMapping("rol_Other0001", "00gOther0001")
STARTED_RUNS = [StartedRun(MAPPING, "n1", "started"), StartedRun(OTHER_MAPPING, "n2", "duplicate")]


@pytest.fixture
def fan_out(monkeypatch):
    module = load_handler("start_provisioning_runs")
    start = Recorder(STARTED_RUNS)
    monkeypatch.setattr(module, "start_mapping_runs", start)
    return SimpleNamespace(handler=module.lambda_handler, start=start)


def test_start_provisioning_runs_one_execution_per_mapping(fan_out, ctx):
    event = {
        "request": {"mappings": MAPPINGS, "dry_run": True, "recheck": False, "scheduled_time": "2024-05-02T02:00:00Z"},
        "execution_name": "manual-1",
        "state_machine_arn": PROVISIONING_ARN,
    }
    out = fan_out.handler(event, ctx)
    assert fan_out.start.calls == [
        ((FanOutInput(PROVISIONING_ARN, "2024-05-02T02:00:00Z", (MAPPING, OTHER_MAPPING), True, False),), {})
    ]
    assert out == {
        "runs": [
            {"role_id": ROLE_ID, "group_id": GROUP_ID, "execution": "n1", "status": "started"},
            {"role_id": "rol_Other0001", "group_id": "00gOther0001", "execution": "n2", "status": "duplicate"},
        ]
    }
    assert_selectable(out, "provisioning", "StartMappingRuns")


def test_start_provisioning_runs_start_each_mapping_once(fan_out, ctx):
    event = {
        "request": {"mappings": [*MAPPINGS, MAPPINGS[0]]},
        "execution_name": "manual-1",
        "state_machine_arn": PROVISIONING_ARN,
    }
    fan_out.handler(event, ctx)
    assert fan_out.start.last[0][0].mappings == (MAPPING, OTHER_MAPPING)


def test_start_provisioning_runs_ask_each_run_for_what_the_schedule_asked(fan_out, ctx):
    event = {
        "request": {"mappings": MAPPINGS, "recheck": True},
        "execution_name": "manual-1",
        "state_machine_arn": PROVISIONING_ARN,
    }
    fan_out.handler(event, ctx)
    (request,), _ = fan_out.start.last
    # the provisioning state machine's execution input for one mapping, as ListRoleMembers reads it
    assert request.request(OTHER_MAPPING).to_payload() == {
        "role_id": "rol_Other0001",
        "group_id": "00gOther0001",
        "dry_run": False,
        "recheck": True,
    }


def test_start_provisioning_runs_by_hand_are_named_after_the_execution(fan_out, ctx):
    fan_out.handler(
        {
            "request": {"mappings": MAPPINGS, "dry_run": True, "recheck": False},
            "execution_name": "manual-1",
            "state_machine_arn": PROVISIONING_ARN,
        },
        ctx,
    )
    (request,), _ = fan_out.start.last
    assert (request.occasion, request.dry_run, request.recheck) == ("manual-1", True, False)


@pytest.mark.parametrize("flag", ["dry_run", "recheck"])
@pytest.mark.parametrize("value", ["true", 1, "false", None, []])
def test_a_run_flag_that_is_not_a_boolean_is_refused_not_read_as_false(fan_out, ctx, flag, value):
    """A dry run asked as "true" must never run for real (found by fuzzing)."""
    event = {"request": {"mappings": MAPPINGS, flag: value}, "execution_name": "manual-1"}
    with pytest.raises(InvalidInput, match=flag):
        fan_out.handler({**event, "state_machine_arn": PROVISIONING_ARN}, ctx)
    assert fan_out.start.calls == []


@pytest.mark.parametrize(
    "event",
    [
        {"request": {"mappings": MAPPINGS}, "execution_name": "manual-1"},
        {"request": {"mappings": MAPPINGS}, "execution_name": "manual-1", "state_machine_arn": "Provisioning"},
        {"request": {"mappings": MAPPINGS}, "state_machine_arn": PROVISIONING_ARN},
        {
            "request": {"mappings": MAPPINGS, "scheduled_time": ""},
            "execution_name": "",
            "state_machine_arn": PROVISIONING_ARN,
        },
        {"request": {"mappings": MAPPINGS, "scheduled_time": 1714615200}, "state_machine_arn": PROVISIONING_ARN},
        None,
    ],
)
def test_start_provisioning_runs_needs_an_arn_and_an_occasion(fan_out, ctx, event):
    with pytest.raises(InvalidInput, match="state_machine_arn"):
        fan_out.handler(event, ctx)
    assert not fan_out.start.called


@pytest.mark.parametrize(
    ("mappings", "message"),
    [
        (None, "mappings must be a non-empty list"),
        ([], "mappings must be a non-empty list"),
        ({"role_id": ROLE_ID, "group_id": GROUP_ID}, "mappings must be a non-empty list"),
        ([MAPPINGS[0], {"role_id": "admins", "group_id": GROUP_ID}], "role_id"),
        ([MAPPINGS[0], "rol_x:00gx"], "a mapping is an object"),
    ],
)
def test_start_provisioning_runs_rejects_bad_mappings_before_starting_any(fan_out, ctx, mappings, message):
    event = {"request": {"mappings": mappings}, "execution_name": "manual-1", "state_machine_arn": PROVISIONING_ARN}
    with pytest.raises(InvalidInput, match=message):
        fan_out.handler(event, ctx)
    assert not fan_out.start.called  # not even the first, valid, mapping


# ================================================================================== event_hook (HTTP API)


def _hook_request(
    method: str,
    *,
    body: Any = None,
    authorization: str | None = HOOK_SECRET,
    headers: dict | None = None,
    received_ms_ago: int | None = 200,
) -> dict:
    all_headers = {"content-type": "application/json", "user-agent": "Okta Event Hooks", **(headers or {})}
    if authorization is not None:
        all_headers["authorization"] = authorization
    raw = body if isinstance(body, str | None) else json.dumps(body)
    epoch = int(time.time() * 1000) - received_ms_ago if received_ms_ago is not None else 1714641243411
    return {
        "version": "2.0",
        "routeKey": f"{method} /okta/event-hook",
        "rawPath": "/okta/event-hook",
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "domainName": "abc123.execute-api.test",
            "http": {
                "method": method,
                "path": "/okta/event-hook",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Okta Event Hooks",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} /okta/event-hook",
            "stage": "$default",
            "timeEpoch": epoch,
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def _okta_event(uuid: str = EVENT_UUID, event_type: str = "user.lifecycle.deactivate", *targets: dict) -> dict:
    targets = targets or ({"id": OKTA_USER_ID, "type": "User", "alternateId": EMAIL, "displayName": "Grace Hopper"},)
    return {
        "uuid": uuid,
        "published": "2024-05-02T09:14:01.862Z",
        "eventType": event_type,
        "version": "0",
        "outcome": {"result": "SUCCESS", "reason": None},
        "target": list(targets),
        "actor": {"id": "00uAdmin0001", "type": "User", "alternateId": "admin@acme.example"},
    }


def _delivery(*events: dict) -> dict:
    return {
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "eventId": "85b60edb-4263-4e13-993b-818e26201052",
        "data": {"events": list(events)},
    }


@pytest.fixture
def hook(monkeypatch, metrics):
    monkeypatch.setenv("EVENT_HOOK_SECRET_ID", "okta-event-hook-secret")
    monkeypatch.setenv("SECRET_MAX_AGE_SECONDS", "120")
    monkeypatch.setenv("DEACTIVATION_STATE_MACHINE_ARN", DEACTIVATION_ARN)
    monkeypatch.setenv(
        "HANDLED_EVENT_TYPES", "user.lifecycle.deactivate,user.lifecycle.activate,user.lifecycle.reactivate"
    )
    module = load_handler("event_hook")
    secrets = SimpleNamespace(
        cached={"current": HOOK_SECRET, "previous": "previous-" + HOOK_SECRET}, fresh=None, calls=[]
    )

    def load_secret(secret_id, *, max_age, force_fetch=False, env_name=""):
        secrets.calls.append(
            {"secret_id": secret_id, "max_age": max_age, "force_fetch": force_fetch, "env_name": env_name}
        )
        return (secrets.fresh or secrets.cached) if force_fetch else secrets.cached

    def start_many(arn, items, *, budget_seconds, concurrency=8):
        return [Started(name, "started") for name, _ in items]

    start = Recorder(start_many)
    monkeypatch.setattr(module, "load_secret", load_secret)
    monkeypatch.setattr(executions, "start_many", start)
    return SimpleNamespace(handler=module.lambda_handler, module=module, secrets=secrets, start=start, metrics=metrics)


def _body(response: dict) -> Any:
    raw = response.get("body")
    if not raw:
        return raw
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return json.loads(raw)


def test_event_hook_answers_the_verification_challenge(hook, ctx):
    response = hook.handler(_hook_request("GET", headers={"x-okta-verification-challenge": "8NsRshXwDSfLV4hd"}), ctx)
    assert response["statusCode"] == 200
    assert _body(response) == {"verification": "8NsRshXwDSfLV4hd"}
    assert hook.secrets.calls == [
        {
            "secret_id": "okta-event-hook-secret",
            "max_age": 120,
            "force_fetch": False,
            "env_name": "EVENT_HOOK_SECRET_ID",
        }
    ]
    assert not hook.start.called


def test_event_hook_verification_without_a_challenge_is_a_400(hook, ctx):
    response = hook.handler(_hook_request("GET"), ctx)
    assert response["statusCode"] == 400
    assert "X-Okta-Verification-Challenge" in _body(response)["message"]


def test_event_hook_delivery_starts_one_execution_per_event_named_by_uuid(hook, ctx):
    second = _okta_event(
        "b5c0d3a2-1111-2222-3333-444455556666",
        "user.lifecycle.reactivate",
        {"id": "00uSecond0001", "type": "User", "alternateId": "ada@acme.example"},
    )
    response = hook.handler(_hook_request("POST", body=_delivery(_okta_event(), second)), ctx)
    assert response["statusCode"] == 204 and not response.get("body")
    (arn, items), kwargs = hook.start.last
    assert arn == DEACTIVATION_ARN
    assert items == [
        (
            EVENT_UUID,
            {
                "event": {
                    "uuid": EVENT_UUID,
                    "type": "user.lifecycle.deactivate",
                    "published": "2024-05-02T09:14:01.862Z",
                    "action": "deactivate",
                },
                "okta_user": {"id": OKTA_USER_ID, "login": EMAIL},
            },
        ),
        (
            "b5c0d3a2-1111-2222-3333-444455556666",
            {
                "event": {
                    "uuid": "b5c0d3a2-1111-2222-3333-444455556666",
                    "type": "user.lifecycle.reactivate",
                    "published": "2024-05-02T09:14:01.862Z",
                    "action": "reactivate",
                },
                "okta_user": {"id": "00uSecond0001", "login": "ada@acme.example"},
            },
        ),
    ]
    # Okta waits 3 s; the request was received 0.2 s ago: about 2.3 s left of the 2.5 s budget
    assert 1.9 <= kwargs["budget_seconds"] <= 2.31
    assert hook.metrics == {
        "HookEventsStarted": 2,
        "HookEventsDuplicate": 0,
        "HookEventsFailed": 0,
        "HookEventsSkipped": 0,
    }


def test_event_hook_delivery_input_fits_the_deactivation_state_machine(hook, ctx):
    hook.handler(_hook_request("POST", body=_delivery(_okta_event())), ctx)
    (_, ((_, execution_input),)), _ = hook.start.last
    # HasEvent? -> SyncAuth0Users reads $.event; ReadOktaUser reads $.okta_user.id
    assert asl_state("deactivation_sync", "ReadOktaUser")["Parameters"]["Payload"]["okta_user_id.$"] == "$.okta_user.id"
    assert execution_input["okta_user"]["id"] == OKTA_USER_ID and execution_input["event"]["uuid"] == EVENT_UUID


def test_event_hook_an_implausible_receive_time_gets_the_whole_budget(hook, ctx):
    hook.handler(_hook_request("POST", body=_delivery(_okta_event()), received_ms_ago=None), ctx)  # 2024: replayed
    assert hook.start.last[1]["budget_seconds"] == pytest.approx(2.5)


def test_event_hook_repeated_delivery_is_accepted(hook, ctx):
    hook.start.result = lambda arn, items, **kw: [Started(name, "duplicate") for name, _ in items]
    response = hook.handler(_hook_request("POST", body=_delivery(_okta_event())), ctx)
    assert response["statusCode"] == 204
    assert hook.metrics["HookEventsDuplicate"] == 1 and hook.metrics["HookEventsStarted"] == 0


def test_event_hook_asks_okta_to_retry_when_an_execution_did_not_start(hook, ctx):
    hook.start.result = lambda arn, items, **kw: [
        Started(items[0][0], "started"),
        Started(items[1][0], "failed", "timeout"),
    ]
    body = _delivery(_okta_event(), _okta_event("c0ffee00-1111-2222-3333-444455556666"))
    response = hook.handler(_hook_request("POST", body=body), ctx)
    assert response["statusCode"] == 500
    assert _body(response) == {"message": "retry later"}
    assert hook.metrics["HookEventsFailed"] == 1


def test_event_hook_skips_what_it_does_not_handle_and_still_answers_204(hook, ctx):
    body = _delivery(_okta_event(event_type="user.lifecycle.suspend"), _okta_event(event_type="user.session.start"))
    response = hook.handler(_hook_request("POST", body=body), ctx)
    assert response["statusCode"] == 204
    assert hook.start.last[0] == (DEACTIVATION_ARN, [])
    assert hook.metrics["HookEventsSkipped"] == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (None, 400),
        ("", 400),
        ("{not json", 400),
        ("[1, 2]", 400),
        ('{"data": {}}', 400),
        ("x" * (256 * 1024 + 1), 413),
    ],
)
def test_event_hook_rejects_malformed_deliveries_with_a_4xx(hook, ctx, body, status):
    response = hook.handler(_hook_request("POST", body=body), ctx)
    assert response["statusCode"] == status
    assert _body(response)["message"]
    assert not hook.start.called
    assert hook.metrics["EventHookRejected"] == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("authorization", [None, "", "wrong-secret", "Bearer " + HOOK_SECRET, HOOK_SECRET[:-1]])
def test_event_hook_refuses_a_missing_or_wrong_secret(hook, ctx, method, authorization):
    request = _hook_request(
        method,
        body=_delivery(_okta_event()),
        authorization=authorization,
        headers={"x-okta-verification-challenge": "abc"},
    )
    response = hook.handler(request, ctx)
    assert response["statusCode"] == 401
    assert _body(response) == {"message": "Unauthorized"}
    assert "verification" not in json.dumps(response)
    assert not hook.start.called
    assert hook.metrics["EventHookUnauthorized"] == 1


def test_event_hook_accepts_the_previous_secret_during_rotation(hook, ctx):
    response = hook.handler(
        _hook_request("POST", body=_delivery(_okta_event()), authorization="previous-" + HOOK_SECRET), ctx
    )
    assert response["statusCode"] == 204


def test_event_hook_rereads_a_just_rotated_secret_at_most_once_a_minute(hook, ctx):
    hook.secrets.fresh = {"current": "rotated-" + HOOK_SECRET, "previous": HOOK_SECRET}
    response = hook.handler(
        _hook_request("POST", body=_delivery(_okta_event()), authorization="rotated-" + HOOK_SECRET), ctx
    )
    assert response["statusCode"] == 204
    assert [c["force_fetch"] for c in hook.secrets.calls] == [False, True]
    hook.secrets.calls.clear()
    response = hook.handler(_hook_request("POST", body=_delivery(_okta_event()), authorization="garbage"), ctx)
    assert response["statusCode"] == 401
    assert [c["force_fetch"] for c in hook.secrets.calls] == [False]  # no second forced read within the minute


def test_event_hook_without_authorization_does_not_force_a_secret_read(hook, ctx):
    hook.handler(_hook_request("POST", body=_delivery(_okta_event()), authorization=None), ctx)
    assert [c["force_fetch"] for c in hook.secrets.calls] == [False]


# ================================================================================== invoke_api (REST API)


def _api_request(
    method: str,
    resource: str,
    path: str,
    *,
    body: Any = None,
    path_parameters: dict | None = None,
    authorizer: dict | None = None,
) -> dict:
    raw = body if isinstance(body, str | None) else json.dumps(body)
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Host": "api.example",
        "Authorization": "Bearer not-checked-here",
    }
    if authorizer is None:
        authorizer = {
            "principalId": "0oaOperatorApp00000",
            "client_id": "0oaOperatorApp00000",
            "scopes": "sync.provision sync.read sync.users",
            "token_type": "Bearer",
            "subject": "0oaOperatorApp00000",
        }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "stage": "v1",
            "domainName": "api.example",
            "path": f"/v1{path}",
            "resourcePath": resource,
            "httpMethod": method,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.10"},
            "authorizer": authorizer,
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def _response_headers(response: dict) -> dict:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for k, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(k.lower(), values[0] if isinstance(values, list) else values)
    return headers


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("PROVISIONING_STATE_MACHINE_ARN", PROVISIONING_ARN)
    monkeypatch.setenv("DEACTIVATION_STATE_MACHINE_ARN", DEACTIVATION_ARN)
    module = load_handler("invoke_api")
    start = Recorder(lambda flow, payload: StartedExecution(f"{flow}.api-1234"))
    describe = Recorder(
        ExecutionStatus(
            execution_id="provisioning.api-1234",
            status="SUCCEEDED",
            started_at="2024-05-02T09:00:00+00:00",
            stopped_at="2024-05-02T09:00:42+00:00",
            output='{"report": {"members": 3}}',
        )
    )
    monkeypatch.setattr(module.invoke, "start", start)
    monkeypatch.setattr(module.invoke, "describe", describe)
    return SimpleNamespace(handler=module.lambda_handler, start=start, describe=describe)


def test_invoke_api_starts_a_provisioning_run(api, ctx):
    request = _api_request(
        "POST",
        "/provisioning/runs",
        "/provisioning/runs",
        body={"role_id": ROLE_ID, "group_id": GROUP_ID, "dry_run": True},
    )
    response = api.handler(request, ctx)
    assert api.start.calls == [
        (
            (
                "provisioning",
                {
                    "role_id": ROLE_ID,
                    "group_id": GROUP_ID,
                    "dry_run": True,
                    "recheck": False,
                    "requested_by": "0oaOperatorApp00000",
                },
            ),
            {},
        )
    ]
    assert response["statusCode"] == 202
    assert _body(response) == {
        "execution_id": "provisioning.api-1234",
        "status_url": "/executions/provisioning.api-1234",
    }
    assert _response_headers(response)["location"] == "/executions/provisioning.api-1234"


def test_invoke_api_provisioning_is_not_a_dry_run_by_default(api, ctx):
    api.handler(
        _api_request(
            "POST", "/provisioning/runs", "/provisioning/runs", body={"role_id": ROLE_ID, "group_id": GROUP_ID}
        ),
        ctx,
    )
    assert api.start.last[0][1]["dry_run"] is False


def test_invoke_api_provisioning_body_names_only_the_mapping_and_dry_run(api, ctx):
    """A caller cannot ask for a recheck (re-examine everyone) nor speak for another caller."""
    body = {"role_id": ROLE_ID, "group_id": GROUP_ID, "recheck": True, "requested_by": "0oaSomeoneElse"}
    api.handler(_api_request("POST", "/provisioning/runs", "/provisioning/runs", body=body), ctx)
    payload = api.start.last[0][1]
    assert (payload["recheck"], payload["requested_by"]) == (False, "0oaOperatorApp00000")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"role_id": "admins", "group_id": GROUP_ID}, "role_id"),
        ({"role_id": ROLE_ID, "group_id": "00x1"}, "group_id"),
        ({"role_id": ROLE_ID, "group_id": GROUP_ID, "dry_run": "yes"}, "dry_run"),
        ([{"role_id": ROLE_ID, "group_id": GROUP_ID}], "JSON object"),
        ("null", "JSON object"),
        (None, "role_id"),
    ],
)
def test_invoke_api_rejects_a_bad_provisioning_request_with_400(api, ctx, body, message):
    response = api.handler(_api_request("POST", "/provisioning/runs", "/provisioning/runs", body=body), ctx)
    assert response["statusCode"] == 400
    answer = _body(response)
    assert answer["error"] == "invalid_request" and message in answer["message"]
    assert not api.start.called


def test_invoke_api_rejects_a_body_that_is_not_json_with_400(api, ctx):
    response = api.handler(_api_request("POST", "/provisioning/runs", "/provisioning/runs", body="{role_id"), ctx)
    assert response["statusCode"] == 400


def test_invoke_api_starts_a_one_user_sync(api, ctx):
    request = _api_request(
        "POST", "/users/{oktaUserId}/sync", f"/users/{OKTA_USER_ID}/sync", path_parameters={"oktaUserId": OKTA_USER_ID}
    )
    response = api.handler(request, ctx)
    assert api.start.calls == [
        (("user-sync", {"okta_user": {"id": OKTA_USER_ID}, "requested_by": "0oaOperatorApp00000"}), {})
    ]
    assert response["statusCode"] == 202
    assert _response_headers(response)["location"] == "/executions/user-sync.api-1234"


def test_invoke_api_user_sync_input_fits_the_deactivation_state_machine(api, ctx):
    api.handler(
        _api_request(
            "POST",
            "/users/{oktaUserId}/sync",
            f"/users/{OKTA_USER_ID}/sync",
            path_parameters={"oktaUserId": OKTA_USER_ID},
        ),
        ctx,
    )
    execution_input = api.start.last[0][1]
    assert "event" not in execution_input  # HasEvent? -> EventFromStatus: typed from the user's status
    assert asl_state("deactivation_sync", "HasEvent")["Choices"][0]["Variable"] == "$.event"
    assert execution_input["okta_user"]["id"] == OKTA_USER_ID


@pytest.mark.parametrize("okta_user_id", ["00u-3m90", "grace.hopper", "a" * 65])
def test_invoke_api_rejects_a_bad_okta_user_id_with_400(api, ctx, okta_user_id):
    response = api.handler(
        _api_request(
            "POST",
            "/users/{oktaUserId}/sync",
            f"/users/{okta_user_id}/sync",
            path_parameters={"oktaUserId": okta_user_id},
        ),
        ctx,
    )
    assert response["statusCode"] == 400
    assert "oktaUserId" in _body(response)["message"]
    assert not api.start.called


def test_invoke_api_a_caller_the_context_does_not_name_is_unknown(api, ctx):
    api.handler(
        _api_request(
            "POST",
            "/users/{oktaUserId}/sync",
            f"/users/{OKTA_USER_ID}/sync",
            path_parameters={"oktaUserId": OKTA_USER_ID},
            authorizer={"scopes": "sync.users", "token_type": "Bearer"},
        ),
        ctx,
    )
    assert api.start.last[0][1]["requested_by"] == "unknown"


# Each route, a request that would be accepted, and the scope it needs (invoke.ROUTE_SCOPES).
SCOPED_ROUTES = {
    "sync.provision": (
        "POST",
        "/provisioning/runs",
        "/provisioning/runs",
        None,
        {"role_id": ROLE_ID, "group_id": GROUP_ID},
    ),
    "sync.users": (
        "POST",
        "/users/{oktaUserId}/sync",
        f"/users/{OKTA_USER_ID}/sync",
        {"oktaUserId": OKTA_USER_ID},
        None,
    ),
    "sync.reconcile": ("POST", "/reconciliation/runs", "/reconciliation/runs", None, {"dry_run": True}),
    "sync.read": (
        "GET",
        "/executions/{executionId}",
        "/executions/provisioning.api-1234",
        {"executionId": "provisioning.api-1234"},
        None,
    ),
}
ALL_SCOPES = set(SCOPED_ROUTES)


def _scoped_request(scope: str, granted: set[str], token_type: str = "Bearer", body: Any = "route") -> dict:
    method, resource, path, parameters, route_body = SCOPED_ROUTES[scope]
    authorizer = {
        "principalId": "0oaOperatorApp00000",
        "client_id": "0oaOperatorApp00000",
        "scopes": " ".join(sorted(granted)),
        "token_type": token_type,
        "subject": "0oaOperatorApp00000",
    }
    return _api_request(
        method,
        resource,
        path,
        body=route_body if body == "route" else body,
        path_parameters=parameters,
        authorizer=authorizer,
    )


def test_every_route_of_the_function_needs_a_scope_and_is_in_the_test():
    """The routes the function answers are the template's, each with its scope (none bypasses the
    check: every one is registered through ``route``)."""
    from okta_auth0_sync.services import invoke
    from okta_auth0_sync_testbed.template import load_template

    module = load_handler("invoke_api")
    registered = [*module.app._static_routes, *module.app._dynamic_routes]
    assert sorted(getattr(r.func, "required_scope", None) for r in registered) == sorted(invoke.ROUTE_SCOPES.values())
    assert set(invoke.ROUTE_SCOPES.values()) == ALL_SCOPES
    events = load_template()["Resources"]["InvokeApiFunction"]["Properties"]["Events"].values()
    assert {(e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events} == set(invoke.ROUTE_SCOPES)


@pytest.mark.parametrize("scope", sorted(ALL_SCOPES))
def test_invoke_api_each_route_answers_with_its_scope(api, ctx, scope):
    response = api.handler(_scoped_request(scope, {scope}), ctx)
    assert response["statusCode"] in (200, 202), response


@pytest.mark.parametrize("token_type", ["Bearer", "DPoP"])
@pytest.mark.parametrize("scope", sorted(ALL_SCOPES))
def test_invoke_api_each_route_refuses_a_token_without_its_scope_before_any_work(api, ctx, metrics, scope, token_type):
    """403 insufficient_scope in the caller's scheme, naming the route's scope; nothing started or
    read, and the body not even parsed (a malformed one is not a 400)."""
    for body in ("route", "{not json"):
        response = api.handler(_scoped_request(scope, ALL_SCOPES - {scope}, token_type, body=body), ctx)
        assert response["statusCode"] == 403, response
        assert _body(response) == {"error": "insufficient_scope", "message": f"the token lacks scope {scope}"}
        challenge = _response_headers(response)["www-authenticate"]
        assert challenge.startswith(f'{token_type} realm="okta-auth0-sync", error="insufficient_scope", ')
        assert f'scope="{scope}"' in challenge
        assert ("Bearer" in challenge) == (token_type == "Bearer")  # one challenge, the caller's scheme
        assert ('algs="' in challenge) == (token_type == "DPoP")
    assert not api.start.called and not api.describe.called
    assert metrics["ApiAuth403"] == 2


@pytest.mark.parametrize("authorizer", [{}, {"client_id": "0oaX"}, {"scopes": ["sync.provision"]}, {"scopes": ""}])
def test_invoke_api_a_context_without_the_scopes_is_refused(api, ctx, authorizer):
    request = _api_request(
        "POST",
        "/provisioning/runs",
        "/provisioning/runs",
        body={"role_id": ROLE_ID, "group_id": GROUP_ID},
        authorizer=authorizer,
    )
    response = api.handler(request, ctx)
    assert response["statusCode"] == 403
    assert _response_headers(response)["www-authenticate"].startswith('Bearer realm="okta-auth0-sync"')
    assert not api.start.called


def test_invoke_api_reads_an_execution(api, ctx):
    response = api.handler(
        _api_request(
            "GET",
            "/executions/{executionId}",
            "/executions/provisioning.api-1234",
            path_parameters={"executionId": "provisioning.api-1234"},
        ),
        ctx,
    )
    assert api.describe.calls == [(("provisioning.api-1234",), {})]
    assert response["statusCode"] == 200
    assert _body(response) == {
        "execution_id": "provisioning.api-1234",
        "status": "SUCCEEDED",
        "started_at": "2024-05-02T09:00:00+00:00",
        "stopped_at": "2024-05-02T09:00:42+00:00",
        "result": {"report": {"members": 3}},
    }


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFound("no execution provisioning.api-gone"), 404, "not_found"),
        (InvalidInput("execution id must look like provisioning.<name> or user-sync.<name>"), 400, "invalid_request"),
    ],
)
def test_invoke_api_execution_errors_are_4xx(api, ctx, error, status, code):
    api.describe.result = error
    response = api.handler(
        _api_request(
            "GET", "/executions/{executionId}", "/executions/other.x", path_parameters={"executionId": "other.x"}
        ),
        ctx,
    )
    assert response["statusCode"] == status
    assert _body(response) == {"error": code, "message": str(error)}


# ================================================================================== api_authorizer


class FakeResourceServer:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls: list[dict] = []

    def authenticate(self, **kwargs):
        self.calls.append(kwargs)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


CALLER = Caller(
    client_id="0oaOperatorApp00000",
    scopes=frozenset({"sync.provision", "sync.read"}),
    token_type="DPoP",
    subject="0oaOperatorApp00000",
    expires_at=1795300000,
)
METHOD_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/v1/POST/provisioning/runs"


def _authorizer_request(
    method: str = "POST", resource: str = "/provisioning/runs", path: str = "/provisioning/runs", **headers: str
) -> dict:
    headers = {"Host": "api.example", "X-Forwarded-Proto": "https", **headers}
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "stage": "v1",
            "domainName": "api.example",
            "path": f"/v1{path}",
            "resourcePath": resource,
            "httpMethod": method,
        },
    }


@pytest.fixture
def authorizer(monkeypatch, metrics):
    monkeypatch.setenv("API_ISSUER", "https://acme.okta.com/oauth2/aus1")
    monkeypatch.setenv("API_AUDIENCE", "api://okta-auth0-sync")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://sync.acme.example/v1/")
    module = load_handler("api_authorizer")
    server = FakeResourceServer(CALLER)
    monkeypatch.setattr(module, "resource_server", lambda: server)
    return SimpleNamespace(handler=module.lambda_handler, server=server, metrics=metrics)


def _policy(effect: str, principal: str, context: dict) -> dict:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": METHOD_ARN}],
        },
        "context": context,
    }


def test_api_authorizer_allows_a_valid_token_for_this_method_only(authorizer, ctx):
    event = _authorizer_request(Authorization="DPoP eyJ.token.here", DPoP="eyJ.proof.here")
    out = authorizer.handler(event, ctx)
    assert authorizer.server.calls == [
        {
            "authorization": "DPoP eyJ.token.here",
            "dpop": ["eyJ.proof.here"],
            "method": "POST",
            "url": "https://sync.acme.example/v1/provisioning/runs",
        }
    ]
    assert out == _policy("Allow", "0oaOperatorApp00000", CALLER.context())
    assert all(isinstance(v, str) for v in out["context"].values())  # API Gateway context: strings only


@pytest.mark.parametrize(
    ("method", "resource", "path", "scope"),
    [
        ("POST", "/provisioning/runs", "/provisioning/runs", "sync.provision"),
        ("POST", "/users/{oktaUserId}/sync", f"/users/{OKTA_USER_ID}/sync", "sync.users"),
        ("GET", "/executions/{executionId}", "/executions/provisioning.api-1", "sync.read"),
    ],
)
def test_api_authorizer_allows_each_route_with_the_tokens_scopes(authorizer, ctx, method, resource, path, scope):
    """The route's scope is the function's to check (a 403 there): the authorizer authenticates
    and passes the token's scopes on, whichever they are."""
    out = authorizer.handler(_authorizer_request(method, resource, path, Authorization="Bearer eyJ.a.b"), ctx)
    call = authorizer.server.calls[-1]
    assert (call["method"], call["dpop"]) == (method, None)
    assert call["url"] == f"https://sync.acme.example/v1{path}"
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert out["context"]["scopes"] == "sync.provision sync.read"


def test_api_authorizer_uses_the_api_url_without_a_public_base_url(authorizer, ctx, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL")
    authorizer.handler(_authorizer_request(Authorization="Bearer eyJ.a.b"), ctx)
    assert authorizer.server.calls[-1]["url"] == "https://api.example/v1/provisioning/runs"


def test_api_authorizer_header_names_are_case_insensitive(authorizer, ctx):
    event = _authorizer_request(authorization="Bearer eyJ.a.b")
    event["multiValueHeaders"] = {}
    event["headers"]["dpop"] = "eyJ.single.proof"
    authorizer.handler(event, ctx)
    assert authorizer.server.calls[-1]["authorization"] == "Bearer eyJ.a.b"
    assert authorizer.server.calls[-1]["dpop"] == "eyJ.single.proof"


def test_api_authorizer_bad_credentials_are_a_deny_with_the_challenge(authorizer, ctx):
    """The template's ACCESS_DENIED gateway response answers 401 with ``WWW-Authenticate`` from
    ``context.authorizer.challenge``: the exact one the library computed (RFC 9449 7.1 here)."""
    authorizer.server.outcome = AuthFailure(401, "invalid_dpop_proof", "DPoP proof was already used", scheme="DPoP")
    out = authorizer.handler(_authorizer_request(Authorization="DPoP eyJ.a.b", DPoP="eyJ.p.q"), ctx)
    challenge = (
        'DPoP realm="okta-auth0-sync", error="invalid_dpop_proof", error_description="DPoP proof was already used", '
        'algs="RS256 RS384 RS512 ES256 ES384 ES512"'
    )
    context = {
        "challenge": challenge,
        "status": "401",
        "error_code": "invalid_dpop_proof",
        "error_message": "DPoP proof was already used",
    }
    assert out == _policy("Deny", "refused", context)
    assert authorizer.metrics["ApiAuth401"] == 1


def test_api_authorizer_a_blank_authorization_gets_no_error_code(authorizer, ctx):
    """RFC 6750 3.1: without credentials, no error code (both schemes offered)."""
    authorizer.server.outcome = AuthFailure(401, None, "credentials required")
    out = authorizer.handler(_authorizer_request(Authorization="  "), ctx)
    assert out["context"]["challenge"] == (
        'Bearer realm="okta-auth0-sync", DPoP realm="okta-auth0-sync", algs="RS256 RS384 RS512 ES256 ES384 ES512"'
    )
    assert out["context"]["error_code"] == "unauthorized"


def test_api_authorizer_context_text_is_safe_in_the_json_body(authorizer, ctx):
    authorizer.server.outcome = AuthFailure(401, "invalid_token", 'algorithm "x\\y\u00e9\n is not accepted')
    out = authorizer.handler(_authorizer_request(Authorization="Bearer eyJ.a.b"), ctx)
    assert out["context"]["error_message"] == "algorithm ?x?y?? is not accepted"
    assert json.loads(f'{{"m": "{out["context"]["error_message"]}"}}')


def test_api_authorizer_denies_a_route_it_has_no_scope_for(authorizer, ctx):
    out = authorizer.handler(_authorizer_request("DELETE", "/provisioning/runs", Authorization="Bearer eyJ.a.b"), ctx)
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert (out["context"]["status"], out["context"]["error_code"]) == ("401", "unauthorized")
    assert "error=" not in out["context"]["challenge"]  # the credentials were not looked at
    assert not authorizer.server.calls
    assert not authorizer.server.calls
