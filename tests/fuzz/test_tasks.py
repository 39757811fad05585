"""Fuzzing every state machine task handler (the real ``functions/<task>/app.py``) with arbitrary
JSON and with near-valid mutations of its sample event (``events/<task>.json``).

The state machines' contract: an input the task cannot process raises the library's
``InvalidInput`` (the error name Step Functions sees), before any outbound call or write. Every
AWS call and HTTP request is refused here (``support.no_outbound``), so a task that reaches one
shows it: for an invalid input that is a failure, for a valid one it is the proof the input was
accepted. Which inputs are valid is written below, per task, from the payload contracts in
``domain/payloads`` docstrings (not from the parsing code): each task has its own oracle.

Known bugs (inputs the contract calls invalid that a task still accepts, or that crash it) are
listed in ``KNOWN``; the fuzz test tolerates exactly those and ``test_known_bug`` keeps each one,
with the exact input, as a strict xfail, so fixing one turns its test red until the mark goes.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from hypothesis import strategies as st

from okta_auth0_sync.base.errors import InvalidInput
from tests.fuzz import support, tally
from tests.fuzz.support import (
    ACCOUNT,
    REGION,
    Context,
    OutboundAttempt,
    execution_names,
    group_ids,
    iso_times,
    json_values,
    mutations,
    okta_ids,
    role_ids,
    texts,
)

no_outbound = support.no_outbound
module_env = support.module_env

TASKS = (
    "lookup_users",
    "update_metadata",
    "mint_token",
    "list_role_members",
    "provision_members",
    "provisioning_report",
    "start_provisioning_runs",
)

# --------------------------------------------------------------------------------- the contracts
# An Okta user id (00u...): never a login, never the alias "me" (Okta's /users/me is the caller).
OKTA_USER_ID = re.compile(r"00u[A-Za-z0-9]{1,61}")
ROLE_ID = re.compile(r"rol_[A-Za-z0-9]{1,64}")
GROUP_ID = re.compile(r"00g[A-Za-z0-9]{1,64}")
RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,80}")  # a Step Functions execution name (no ":")
AUTH0_USER_ID = re.compile(r"[A-Za-z0-9._-]{1,64}\|[^\s|][^\s]{0,447}")
STATE_MACHINE_ARN = re.compile(r"arn:aws[A-Za-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}")
# Okta's and Step Functions' times: RFC 3339 with a zone, at most microseconds.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
LIFECYCLE_TYPES = {
    "user.lifecycle.deactivate",
    "user.lifecycle.suspend",
    "user.lifecycle.activate",
    "user.lifecycle.reactivate",
    "user.lifecycle.unsuspend",
}
CONNECTIONS = ("auth0", "okta")

# Known bugs: id -> what is wrong (the inputs are in KNOWN_INPUTS, the xfails in test_known_bug).
KNOWN: dict[str, str] = {}  # all found so far are fixed: their inputs are in FIXED_INPUTS


class Invalid(Exception):
    """The contract refuses the input."""


class Known(Exception):
    """The contract refuses the input, and a known bug (``KNOWN``) lets the task accept or crash on it."""

    def __init__(self, bug: str) -> None:
        super().__init__(bug)
        self.bug = bug


@dataclass
class Verdict:
    invalid: list[str]
    known: list[str]


def _collect(*checks: Callable[[], None]) -> Verdict:
    """Run every check (each raises Invalid or Known, or passes) and collect what they found."""
    verdict = Verdict([], [])
    for check in checks:
        try:
            check()
        except Known as known:  # every bug found so far is fixed: a known one is an invalid input now
            if known.bug in KNOWN:
                verdict.known.append(known.bug)
            else:
                verdict.invalid.append(f"{known.bug} (fixed)")
        except Invalid as invalid:
            verdict.invalid.append(str(invalid))
    return verdict


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rfc3339(value: Any) -> bool:
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _object(event: Any, name: str = "the input") -> Mapping[str, Any]:
    if event is None:
        return {}
    if not isinstance(event, dict):
        raise Invalid(f"{name} must be an object")
    return event


def _need(condition: bool, why: str, bug: str | None = None) -> None:
    if not condition:
        raise Known(bug) if bug else Invalid(why)


def _okta_user_id(value: Any) -> None:
    _need(isinstance(value, str) and OKTA_USER_ID.fullmatch(value) is not None, "an Okta user id")


def _flag(request: Mapping[str, Any], name: str) -> None:
    if name in request:
        _need(isinstance(request[name], bool), f"{name} true or false")


def _run(run: Any, run_id: Any) -> None:
    """A run's options ``{role_id, group_id, run_id, dry_run, recheck}`` (RunOptions)."""
    if not isinstance(run, dict):
        raise Invalid("run must be an object")
    _need(isinstance(run_id, str) and RUN_ID.fullmatch(run_id) is not None, "run_id an execution name")
    _need(isinstance(run.get("role_id"), str) and ROLE_ID.fullmatch(run["role_id"]) is not None, "role_id")
    _need(isinstance(run.get("group_id"), str) and GROUP_ID.fullmatch(run["group_id"]) is not None, "group_id")
    _flag(run, "dry_run")
    _flag(run, "recheck")


def _count(container: Mapping[str, Any], name: str) -> None:
    """An optional count: absent, null, or a whole number >= 0 (not a boolean, not a string)."""
    value = container.get(name)
    if value is None or (_is_int(value) and value >= 0):
        return
    try:
        int(value or 0)  # what the code does: what it still takes is a known bug
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be a count") from None
    except OverflowError:
        raise Known("count-types") from None
    raise Known("count-types")


# -- one oracle per task ----------------------------------------------------------------------------
def lookup_users(event: Any) -> Verdict:
    """``{"okta_user_id": <Okta user id>, "find_auth0_users": <anything; only false skips>}``."""
    try:
        e = _object(event)
    except Invalid as invalid:
        return Verdict([str(invalid)], [])
    return _collect(lambda: _okta_user_id(e.get("okta_user_id")))


def update_metadata(event: Any) -> Verdict:
    """``{"event": {"uuid", "type", "published"}, "okta_user": {"id", "login"?, "email"? (null ok)}}``."""
    try:
        e = _object(event)
        user = _object(e.get("okta_user") or {}, "okta_user")
        lifecycle = e.get("event")
        if not isinstance(lifecycle, dict):
            raise Invalid("event must be an object")
    except Invalid as invalid:
        return Verdict([str(invalid)], [])

    def user_id() -> None:
        value = user.get("id")
        _need(isinstance(value, str) and OKTA_USER_ID.fullmatch(value) is not None, "okta_user.id an Okta user id")

    def event_type() -> None:
        value = lifecycle.get("type")
        _need(isinstance(value, str) and value in LIFECYCLE_TYPES, "event.type a lifecycle event type")

    def published() -> None:
        _need(_rfc3339(lifecycle.get("published")), "event.published an RFC 3339 time")

    return _collect(
        user_id,
        lambda: _need(isinstance(lifecycle.get("uuid"), str) and lifecycle["uuid"] != "", "event.uuid"),
        event_type,
        published,
        lambda: _need(user.get("email") is None or isinstance(user.get("email"), str), "email a string or null"),
    )


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | type(None))


def mint_token(event: Any) -> Verdict:
    """``{"connection": "auth0"|"okta"}`` (default auth0) or ``{"connections": [<names>, ...]}``."""
    try:
        e = _object(event)
    except Invalid as invalid:
        return Verdict([str(invalid)], [])

    def names() -> None:
        connections = e.get("connections")
        if connections is None or not connections:
            connection = e.get("connection", "auth0")
            _need(_hashable(connection) and connection in CONNECTIONS, "connection auth0 or okta")
            if connections is not None:  # 0, false, "", [], {}: read as absent
                raise Known("falsy-as-absent")
            return
        _need(isinstance(connections, list) and connections != [], "connections a non-empty list")
        _need(all(_hashable(n) and n in CONNECTIONS for n in connections), "connections of auth0/okta")

    return _collect(names)


def list_role_members(event: Any) -> Verdict:
    """``{"request": {"role_id", "group_id", "dry_run"?, "recheck"?}, "run_id": <execution name>}``."""
    try:
        e = _object(event)
        request = _object(e.get("request"), "request")
    except Invalid as invalid:
        return Verdict([str(invalid)], [])
    return _collect(lambda: _run(dict(request), e.get("run_id")))


def provision_members(event: Any) -> Verdict:
    """``{"run": {...}, "batch": {"index": n >= 0, "user_ids": [<Auth0 user id>, ...]}, "failure"?}``."""
    try:
        e = _object(event)
    except Invalid as invalid:
        return Verdict([str(invalid)], [])
    run, batch = e.get("run"), e.get("batch")

    def index() -> None:
        value = batch.get("index") if isinstance(batch, dict) else None
        _need(isinstance(value, int), "batch.index a number")
        _need(_is_int(value) and value >= 0, "", "batch-index")

    def user_ids() -> None:
        value = batch.get("user_ids") if isinstance(batch, dict) else None
        _need(isinstance(value, list) and all(isinstance(u, str) for u in value), "batch.user_ids strings")
        _need(all(AUTH0_USER_ID.fullmatch(u) for u in value), "", "auth0-user-ids")

    def failure() -> None:
        if "failure" not in e:
            return
        value = e["failure"]
        _need(value is None or isinstance(value, dict), "failure an object")
        error, cause = (value or {}).get("Error"), (value or {}).get("Cause")
        _need(error is None or isinstance(error, str), "", "failure-cause")
        _need(cause is None or isinstance(cause, str), "", "failure-cause")

    return _collect(
        lambda: _run(run if isinstance(run, dict) else None, run.get("run_id") if isinstance(run, dict) else None),
        index,
        user_ids,
        failure,
    )


def provisioning_report(event: Any) -> Verdict:
    """``{"run": {...}, "started_at": <RFC 3339>?, "tokens_minted": n?}`` (any ``members`` is not read)."""
    try:
        e = _object(event)
    except Invalid as invalid:
        return Verdict([str(invalid)], [])
    run = e.get("run")

    def started_at() -> None:
        value = e.get("started_at")
        if value is None or value == "":
            return
        if _rfc3339(value):
            return
        if not value:  # 0, false, [], {}: read as absent
            raise Known("falsy-as-absent")
        raise Invalid("started_at must be an RFC 3339 time")

    return _collect(
        lambda: _run(run if isinstance(run, dict) else None, run.get("run_id") if isinstance(run, dict) else None),
        started_at,
        lambda: _count(e, "tokens_minted"),
    )


def start_provisioning_runs(event: Any) -> Verdict:
    """``{"request": {"mappings": [{role_id, group_id}, ...], "dry_run"?, "recheck"?, "scheduled_time"?},
    "execution_name", "state_machine_arn"}``; the occasion is scheduled_time, else execution_name."""
    try:
        e = _object(event)
        request = _object(e.get("request"), "request")
    except Invalid as invalid:
        return Verdict([str(invalid)], [])

    def arn() -> None:
        value = e.get("state_machine_arn")
        _need(isinstance(value, str) and STATE_MACHINE_ARN.fullmatch(value) is not None, "a state machine ARN")

    def occasion() -> None:
        scheduled = request.get("scheduled_time")
        if scheduled is not None and scheduled != "" and not scheduled and not isinstance(scheduled, str):
            name = e.get("execution_name")
            _need(isinstance(name, str) and name != "", "an occasion")
            raise Known("falsy-as-absent")
        value = scheduled or e.get("execution_name")
        _need(isinstance(value, str) and value != "", "scheduled_time or execution_name")

    def mappings() -> None:
        value = request.get("mappings")
        _need(isinstance(value, list) and value != [], "mappings a non-empty list")
        for mapping in value:
            _need(isinstance(mapping, dict), "a mapping an object")
            _need(isinstance(mapping.get("role_id"), str) and ROLE_ID.fullmatch(mapping["role_id"]) is not None, "")
            _need(isinstance(mapping.get("group_id"), str) and GROUP_ID.fullmatch(mapping["group_id"]) is not None, "")

    def flags() -> None:
        _flag(request, "dry_run")
        _flag(request, "recheck")

    return _collect(arn, occasion, mappings, flags)


ORACLES: dict[str, Callable[[Any], Verdict]] = {
    "lookup_users": lookup_users,
    "update_metadata": update_metadata,
    "mint_token": mint_token,
    "list_role_members": list_role_members,
    "provision_members": provision_members,
    "provisioning_report": provisioning_report,
    "start_provisioning_runs": start_provisioning_runs,
}

# -------------------------------------------------------------------------- valid inputs, generated
auth0_user_ids = st.builds(
    lambda provider, rest: f"{provider}|{rest}",
    st.sampled_from(["auth0", "google-oauth2", "samlp|acme-saml", "email", "oauth2|partner"]),
    st.integers(min_value=1, max_value=40).flatmap(lambda n: support.ids("", n, support.ALNUM + "@.-_")),
)
absent = st.just(None)
emails = st.builds(
    "{}@{}".format,
    st.integers(min_value=1, max_value=20).flatmap(lambda n: support.ids("", n, support.ALNUM + ".+_-")),
    st.sampled_from(["acme.example", "partner.example", "xn--bcher-kva.example"]),
)


def _with(required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]):
    return st.fixed_dictionaries(required, optional=optional)


runs = _with(
    {"role_id": role_ids, "group_id": group_ids, "run_id": execution_names},
    {"dry_run": st.booleans(), "recheck": st.booleans()},
)
VALID: dict[str, st.SearchStrategy[Any]] = {
    "lookup_users": _with({"okta_user_id": okta_ids()}, {"find_auth0_users": st.booleans(), "correlation_id": texts}),
    "update_metadata": _with(
        {
            "event": _with(
                {"uuid": st.uuids().map(str), "type": st.sampled_from(sorted(LIFECYCLE_TYPES)), "published": iso_times},
                {"action": st.sampled_from(["deactivate", "reactivate"])},
            ),
            "okta_user": _with(
                {"id": okta_ids()},
                {
                    "login": emails,
                    "email": emails | absent,
                    "status": st.sampled_from(["ACTIVE", "DEPROVISIONED", "SUSPENDED"]),
                },
            ),
        },
        {"correlation_id": texts},
    ),
    "mint_token": st.one_of(
        st.just({}),
        _with({"connection": st.sampled_from(CONNECTIONS)}, {"correlation_id": texts}),
        _with({"connections": st.lists(st.sampled_from(CONNECTIONS), min_size=1, max_size=4)}, {}),
    ),
    "list_role_members": _with(
        {
            "request": _with(
                {"role_id": role_ids, "group_id": group_ids},
                {"dry_run": st.booleans(), "recheck": st.booleans(), "requested_by": texts},
            ),
            "run_id": execution_names,
        },
        {},
    ),
    "provision_members": _with(
        {
            "run": runs,
            "batch": _with(
                {"index": st.integers(min_value=0, max_value=10**6), "user_ids": st.lists(auth0_user_ids, max_size=6)},
                {},
            ),
        },
        {"failure": _with({"Error": texts, "Cause": texts}, {})},
    ),
    "provisioning_report": _with(
        {"run": runs},
        {
            "members": _with({}, {"batches": st.integers(min_value=0, max_value=10**4)}),
            "started_at": iso_times | absent,
            "tokens_minted": st.integers(min_value=0, max_value=10**4) | absent,
        },
    ),
    "start_provisioning_runs": _with(
        {
            "request": _with(
                {"mappings": st.lists(st.fixed_dictionaries({"role_id": role_ids, "group_id": group_ids}), min_size=1)},
                {"dry_run": st.booleans(), "recheck": st.booleans(), "scheduled_time": iso_times},
            ),
            "execution_name": execution_names,
            "state_machine_arn": st.builds(
                lambda name: f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
                st.integers(min_value=1, max_value=80).flatmap(lambda n: support.ids("", n, support.ALNUM + "_-")),
            ),
        },
        {},
    ),
}


@functools.cache
def inputs(task: str) -> st.SearchStrategy[Any]:
    """What the fuzz test feeds ``task``: arbitrary JSON, mutations of its sample event, valid
    inputs, and mutations of valid inputs."""
    return st.one_of(
        json_values,
        mutations(support.sample(task)),
        VALID[task],
        support.mutated(VALID[task]),
    )


# --------------------------------------------------------------------------------------- fixtures
ENVIRONMENT = {
    "AUTH0_SECRET_ID": "okta-auth0-sync/auth0",
    "OKTA_SECRET_ID": "okta-auth0-sync/okta",
    "TOKEN_CACHE_TABLE": "fuzz-token-cache",
    "LEDGER_TABLE": "fuzz-ledger",
    "STATE_TABLE": "fuzz-provisioning-state",
    "PROVISIONING_BUCKET": "fuzz-provisioning-bucket",
    "POWERTOOLS_METRICS_NAMESPACE": "Fuzz",
    "POWERTOOLS_SERVICE_NAME": "fuzz",
}


@pytest.fixture(scope="module")
def handlers(module_env, no_outbound) -> dict[str, Any]:
    for name, value in ENVIRONMENT.items():
        module_env.setenv(name, value)
    return {task: support.load_handler(task) for task in TASKS}


@dataclass
class Outcome:
    kind: str  # rejected | accepted | crashed
    detail: str = ""
    error: BaseException | None = None


def invoke(handlers: dict[str, Any], outbound: support.Outbound, task: str, event: Any) -> Outcome:
    outbound.clear()
    try:
        handlers[task].lambda_handler(event, Context(task))
    except InvalidInput as exc:
        if type(exc) is not InvalidInput:
            return Outcome("crashed", f"{type(exc).__name__} (a subclass: Step Functions sees another name)", exc)
        if outbound.attempts:
            return Outcome("crashed", f"InvalidInput after outbound calls {outbound.attempts}", exc)
        return Outcome("rejected", str(exc))
    except OutboundAttempt as attempt:
        return Outcome("accepted", str(attempt))
    except Exception as exc:
        return Outcome("crashed", f"{type(exc).__name__}: {str(exc)[:300]}", exc)
    return Outcome("accepted", "returned without an outbound call")


def check(verdict: Verdict, outcome: Outcome) -> None:
    """The task did what the contract asks: valid -> accepted, invalid -> rejected (InvalidInput,
    nothing called); a known bug is tolerated (and noted)."""
    if outcome.kind == "crashed" and not verdict.known:
        tally.unhandled(outcome.error or Exception())
    support.note(f"verdict {verdict}, outcome {outcome.kind}: {outcome.detail[:300]}")
    if verdict.known:
        for bug in verdict.known:
            tally.counts[tally.current[-1] if tally.current else "unknown"][f"known bug:{bug}"] += 1
        return
    if verdict.invalid:
        assert outcome.kind == "rejected", f"invalid input ({verdict.invalid}) not refused: {outcome.detail[:300]}"
    else:
        assert outcome.kind == "accepted", f"valid input refused: {outcome.detail[:300]}"


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("task", [pytest.param(t, marks=pytest.mark.fuzz_entry(f"functions/{t}")) for t in TASKS])
@support.given_data
def test_invalid_input_is_refused_before_any_call_and_valid_input_accepted(handlers, no_outbound, task, data):
    event = data.draw(inputs(task), label="event")
    check(ORACLES[task](event), invoke(handlers, no_outbound, task, event))


@pytest.mark.parametrize("task", TASKS)
def test_the_sample_event_is_accepted(handlers, no_outbound, task):
    event = support.sample(task)
    assert ORACLES[task](event) == Verdict([], [])
    outcome = invoke(handlers, no_outbound, task, event)
    assert outcome.kind == "accepted", outcome.detail
    assert no_outbound.attempts, "a valid input reaches its first outbound call"


# ----------------------------------------------------------------- known bugs, with exact inputs
def _report_run() -> dict[str, Any]:
    return support.sample("provisioning_report")


def _fanout(**request: Any) -> dict[str, Any]:
    event = support.sample("start_provisioning_runs")
    return {**event, "request": {**event["request"], **request}}


def _lifecycle(**changes: Any) -> dict[str, Any]:
    event = support.sample("update_metadata")
    return {**event, "event": {**event["event"], **changes}}


def _batch(**changes: Any) -> dict[str, Any]:
    event = support.sample("provision_members")
    return {**event, **changes}


# The exact inputs of each bug the fuzzers found in code outside this suite's remit: the fixed ones
# stay as regression tests, the open ones are strict xfails (fixing one turns its test red until its
# entry moves to FIXED_INPUTS and its id leaves KNOWN).
FIXED_INPUTS: list[tuple[str, str, Any]] = [
    (
        "okta-user-id-unchecked",  # update_metadata took any string as okta_user.id
        "update_metadata",
        {**support.sample("update_metadata"), "okta_user": {"id": "../../api/v1/users/me", "email": None}},
    ),
    ("event-type-unhashable", "update_metadata", _lifecycle(type=[])),  # TypeError: unhashable (`in ACTIONS`)
    ("event-type-unhashable", "update_metadata", _lifecycle(type={"user.lifecycle.deactivate": 1})),
    ("fanout-flags", "start_provisioning_runs", _fanout(dry_run="true")),  # a dry run that ran for real
    ("fanout-flags", "start_provisioning_runs", _fanout(recheck=1)),
    ("state-machine-arn", "start_provisioning_runs", {**_fanout(), "state_machine_arn": "arn:"}),
    # found by the long profile: an event type nested a few thousand deep crashed the refusal's
    # message (str() of it: RecursionError)
    ("deep-event-type", "update_metadata", _lifecycle(type=support.nested(3000))),
    # found by the long profile: a falsy scheduled_time of another type was read as absent
    ("falsy-as-absent", "start_provisioning_runs", _fanout(scheduled_time=[])),
    ("falsy-as-absent", "start_provisioning_runs", _fanout(scheduled_time=0)),
    ("falsy-as-absent", "start_provisioning_runs", _fanout(scheduled_time={})),
    ("count-types", "provisioning_report", {**_report_run(), "tokens_minted": "12"}),
    ("count-types", "provisioning_report", {**_report_run(), "tokens_minted": -5}),
    ("count-types", "provisioning_report", {**_report_run(), "tokens_minted": True}),
    ("count-types", "provisioning_report", {**_report_run(), "tokens_minted": math.inf}),
    ("falsy-as-absent", "mint_token", {"connections": 0, "connection": "okta"}),
    ("falsy-as-absent", "provisioning_report", {**_report_run(), "started_at": []}),
    ("batch-index", "provision_members", _batch(batch={"index": True, "user_ids": ["auth0|1"]})),
    ("batch-index", "provision_members", _batch(batch={"index": -1, "user_ids": ["auth0|1"]})),
    ("auth0-user-ids", "provision_members", _batch(batch={"index": 0, "user_ids": ["..", "", " "]})),
    ("failure-cause", "provision_members", _batch(failure={"Error": "States.TaskFailed", "Cause": {"a": 1}})),
    ("failure-cause", "provision_members", _batch(failure={"Error": support.nested(5000), "Cause": "x"})),
]
KNOWN_INPUTS: list[tuple[str, str, Any]] = []


def _known_params() -> Iterator[Any]:
    for bug, task, event in FIXED_INPUTS:
        yield pytest.param(task, event, id=f"fixed-{bug}-{task}")
    for bug, task, event in KNOWN_INPUTS:
        yield pytest.param(
            task, event, marks=pytest.mark.xfail(strict=True, reason=f"{bug}: {KNOWN[bug]}"), id=f"{bug}-{task}"
        )


@pytest.mark.parametrize(("task", "event"), list(_known_params()))
def test_known_bug(handlers, no_outbound, task, event):
    """Each input the contract refuses and a task does not (yet): the task must raise InvalidInput
    before any call. Strict xfail: once fixed, remove its entry from KNOWN_INPUTS (and KNOWN)."""
    outcome = invoke(handlers, no_outbound, task, event)
    assert outcome.kind == "rejected", outcome.detail
