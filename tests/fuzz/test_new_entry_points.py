"""Fuzzing the entry points the other suites do not drive (the real ``functions/<name>/app.py``):
``deprovision_members``, ``reconcile``, ``system_log_sweep`` (state machine tasks and a schedule),
``auth0_lifecycle`` (the ``Auth0Lifecycle`` task), the Auth0 log stream receiver
``auth0_log_events`` and the Auth0 log poll ``auth0_log_poll``.

Each is fed arbitrary JSON, near-valid mutations of its sample (``events/<name>.json``: wrong
types, members missing, renamed or added, huge and deep values, bad ids and times), valid inputs
generated from its contract, and mutations of those. Every AWS call and HTTP request is refused
(``support.no_outbound``), so an entry point that reaches one shows it:

- the tasks and the sweep: an input the contract refuses raises exactly ``InvalidInput`` (the error
  name Step Functions sees) with no outbound call; a valid one reaches its first outbound call
  (the tenant's secret, or the table the service reads); nothing else ever escapes;
- ``auth0_log_events``: an event that is not an Auth0 log stream event is answered
  ``{"invalid": reason}`` (refused, never retried) with no call; a log is classified by the real
  ingress (its execution starts recorded at ``executions.start_many``, its ledger read faked), and
  only a handled, successful write by another client starts anything: one ``Auth0Lifecycle``
  execution per event, named after the log, whose input the lifecycle task accepts;
- ``auth0_log_poll`` reads nothing from its event (the schedule's input is ``{}``): any event polls
  exactly as ``{}`` does. What the poll does read is Auth0's log pages, so those are fuzzed too:
  whatever a page holds, the poll answers, or fails with an ``UpstreamError``; the checkpoint only
  ever moves to an Auth0 log id that the page held.

The oracles below are written from each payload's documented contract (``domain/payloads``, the
handlers' docstrings), not from the parsing code. Bugs the suite found are fixed; their inputs stay
in ``FIXED_INPUTS`` as regression cases.

Inputs per test: the profiles' figures (ci 300, long 20,000), as for every other entry point.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import settings
from hypothesis import strategies as st

from okta_auth0_sync.base.errors import InvalidInput, UpstreamError
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

EXAMPLES = tally.EXAMPLES[tally.PROFILE]
budget = settings(max_examples=EXAMPLES)

# entry point -> its sample event (events/<sample>.json)
SAMPLES = {
    "deprovision_members": "deprovision_members",
    "reconcile": "reconcile",
    "system_log_sweep": "system_log_sweep",
    "auth0_lifecycle": "auth0_lifecycle",
    "auth0_log_events": "auth0_log_event",
    "auth0_log_poll": "auth0_log_poll",
}
TASKS = ("deprovision_members", "reconcile", "system_log_sweep", "auth0_lifecycle")

ROLE, GROUP = "rol_rRVnAbarjZsuC2Xn", "00gU18bXbD9XEKxR56aB"  # the stack's mapping (the samples' too)
OWN_CLIENT = "okta-auth0-sync-m2m"  # this package's Auth0 client id (its writes are its own)
LIFECYCLE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Auth0Lifecycle"
ENVIRONMENT = {
    "AUTH0_SECRET_ID": "okta-auth0-sync/auth0",
    "OKTA_SECRET_ID": "okta-auth0-sync/okta",
    "TOKEN_CACHE_TABLE": "fuzz-token-cache",
    "LEDGER_TABLE": "fuzz-ledger",
    "STATE_TABLE": "fuzz-provisioning-state",
    "PROVISIONING_BUCKET": "fuzz-provisioning-bucket",
    "CHECKPOINT_TABLE": "fuzz-checkpoints",
    "DEACTIVATION_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:DeactivationSync",
    "AUTH0_LIFECYCLE_STATE_MACHINE_ARN": LIFECYCLE_ARN,
    "PROVISIONING_MAPPINGS": json.dumps([{"role_id": ROLE, "group_id": GROUP}]),
    "POWERTOOLS_METRICS_NAMESPACE": "Fuzz",
    "POWERTOOLS_SERVICE_NAME": "fuzz",
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
}

# --------------------------------------------------------------------------------- the contracts
ROLE_ID = re.compile(r"rol_[A-Za-z0-9]{1,64}")
GROUP_ID = re.compile(r"00g[A-Za-z0-9]{1,64}")
OKTA_USER_ID = re.compile(r"00u[A-Za-z0-9]{1,61}")
RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,80}")  # a Step Functions execution name this package gives (no ":")
AUTH0_USER_ID = re.compile(r"[A-Za-z0-9_-]+\|[!-~]{1,500}")  # provider|id, printable, no whitespace
LOG_ID = re.compile(r"[0-9]{1,64}")  # an Auth0 log id
# RFC 3339 with a zone, at most microseconds, ASCII digits, naming a real instant.
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")
# Auth0's created_at (reconciliation's search window start): UTC, Z.
CREATED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
PHASES = ("okta", "auth0", "done")
COUNTS = (
    "okta_users_checked",
    "auth0_accounts_checked",
    "missing_flag",
    "stale_flag",
    "started",
    "already_started",
    "failed_to_start",
)
ROLE_KINDS, LIFECYCLE_KINDS = ("role_assigned", "role_removed"), ("blocked", "unblocked", "deleted")
STEPS = ("reverse_sync", "decide_role", "deprovision_role", "commit_role")


class Invalid(Exception):
    """The contract refuses the input."""


def _need(condition: bool, why: str) -> None:
    if not condition:
        raise Invalid(why)


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _real_time(value: Any, pattern: re.Pattern[str] = RFC3339) -> bool:
    if not _matches(pattern, value):
        return False
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _object(value: Any, name: str) -> Mapping[str, Any]:
    _need(isinstance(value, dict), f"{name} must be an object")
    return value


def _optional_flag(container: Mapping[str, Any], name: str) -> None:
    if name in container:
        _need(isinstance(container[name], bool), f"{name} true or false")


def _run(run: Any) -> None:
    """A run ``{role_id, group_id, run_id, dry_run?, recheck?}`` (RunOptions)."""
    run = _object(run, "run")
    _need(_matches(RUN_ID, run.get("run_id")), "run_id an execution name")
    _need(_matches(ROLE_ID, run.get("role_id")), "role_id an Auth0 role id")
    _need(_matches(GROUP_ID, run.get("group_id")), "group_id an Okta group id")
    _optional_flag(run, "dry_run")
    _optional_flag(run, "recheck")


def deprovision_members(event: Any) -> None:
    """``{"run": {...}}`` (DeprovisionInput)."""
    _run(_object(event, "the input").get("run"))


def _nullable(run: Mapping[str, Any], name: str, check: Callable[[Any], bool], why: str) -> None:
    """An optional field: absent or null is the default; anything else must pass ``check``."""
    value = run.get(name)
    _need(value is None or check(value), why)


def reconcile(event: Any) -> None:
    """``{"run": <ReconciliationRun>, "correlation_id"?}``: the first step's ``{"dry_run"?,
    "requested_by"?}`` or a run's state as the previous step answered it."""
    run = _object(event.get("run") if isinstance(event, dict) else event, "run")
    _optional_flag(run, "dry_run")
    if "requested_by" in run:
        value = run["requested_by"]
        _need(isinstance(value, str) and 0 < len(value) <= 200, "requested_by 1-200 characters")
    if "phase" in run:
        _need(isinstance(run["phase"], str) and run["phase"] in PHASES, "phase okta|auth0|done")
    if "auth0_page" in run:
        _need(_is_int(run["auth0_page"]) and 0 <= run["auth0_page"] <= 9, "auth0_page 0-9")
    _nullable(run, "okta_next", lambda v: isinstance(v, str) and v.startswith(("https://", "http://")), "okta_next")
    _nullable(run, "auth0_since", lambda v: _real_time(v, CREATED_AT), "auth0_since a created_at")
    _nullable(run, "drift", lambda v: isinstance(v, list) and all(isinstance(d, dict) for d in v), "drift objects")
    _nullable(
        run,
        "auth0_boundary",
        lambda v: isinstance(v, list) and len(v) <= 1000 and all(isinstance(b, str) for b in v),
        "auth0_boundary ids",
    )
    counts = run.get("counts")
    if counts is not None:
        _need(isinstance(counts, dict), "counts an object")
        for key in COUNTS:
            value = counts.get(key, 0)
            _need(_is_int(value) and value >= 0, f"counts.{key} a count")


def system_log_sweep(event: Any) -> None:
    """``{}``, nothing, or ``{"scheduled_time": <ISO 8601>}`` (SweepRequest)."""
    if event is None:
        return
    request = _object(event, "the input")
    _nullable(request, "scheduled_time", _real_time, "scheduled_time an ISO 8601 time")


def _auth0_log_event(event: Any) -> str:
    """``{log_id, date, kind, auth0_user_id[, role_id]}`` (Auth0LogEvent): its kind."""
    event = _object(event, "event")
    _need(_matches(LOG_ID, event.get("log_id")), "event.log_id an Auth0 log id")
    _need(_real_time(event.get("date")), "event.date an ISO 8601 time")
    kind = event.get("kind")
    _need(isinstance(kind, str) and kind in ROLE_KINDS + LIFECYCLE_KINDS, "event.kind")
    _need(_matches(AUTH0_USER_ID, event.get("auth0_user_id")), "event.auth0_user_id an Auth0 user id")
    if kind in ROLE_KINDS:
        _need(_matches(ROLE_ID, event.get("role_id")), "event.role_id an Auth0 role id")
    else:
        _need(event.get("role_id") is None, "event.role_id absent for a lifecycle event")
    return str(kind)


def auth0_lifecycle(event: Any) -> None:
    """``{"step", "event", "execution_name"[, "key", "version"]}`` (LifecycleTask)."""
    task = {} if event is None else _object(event, "the input")
    step = task.get("step")
    _need(isinstance(step, str) and step in STEPS, "step")
    kind = _auth0_log_event(task.get("event"))
    _need(_matches(RUN_ID, task.get("execution_name")), "execution_name")
    _need((step == "reverse_sync") == (kind in LIFECYCLE_KINDS), "the step takes this kind")
    if step in ("commit_role", "deprovision_role"):
        key, version = task.get("key"), task.get("version")
        _need(isinstance(key, str) and key.startswith("auth0#") and len(key) <= 700, "key a ledger key")
        _need(_is_int(version) and version >= 1, "version a ledger version")


def auth0_log_events(event: Any) -> None:
    """An EventBridge event whose ``detail.data`` (or ``detail``) is an Auth0 log: an object with
    a string ``log_id`` and ``type``. What the log means is the classification's business."""
    detail = _object(_object(event, "the event").get("detail"), "detail")
    data = detail.get("data")
    log = data if isinstance(data, dict) else detail
    _need(isinstance(log.get("log_id"), str) and isinstance(log.get("type"), str), "a log with log_id and type")


ORACLES: dict[str, Callable[[Any], None]] = {
    "deprovision_members": deprovision_members,
    "reconcile": reconcile,
    "system_log_sweep": system_log_sweep,
    "auth0_lifecycle": auth0_lifecycle,
    "auth0_log_events": auth0_log_events,
}


def verdict(entry: str, event: Any) -> str | None:
    """Why the contract refuses ``event`` (None: it is valid)."""
    try:
        ORACLES[entry](event)
    except Invalid as invalid:
        return str(invalid)
    return None


# -------------------------------------------------------------------------- valid inputs, generated
absent = st.just(None)
# Times that look like times and are not (the parsers must refuse them, not crash on them).
BAD_TIMES = [
    "2024-02-30T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-05-02T25:00:00Z",
    "2024-05-02T09:14:60Z",
    "2024-05-02T09:14:01",
    "2024-05-02 09:14:01Z",
    "2024-05-02T09:14:01Z\n",
    "2024-05-02T09:14:01.1234567Z",
    "2024-05-02T09:14:01+24:00",
    "2024-05-02T09:14:01+05",
    "0000-01-01T00:00:00Z",
    "\u0662\u0660\u0662\u0664-05-02T09:14:01Z",  # Arabic-Indic digits
    "+2024-05-02T09:14:01Z",
    "2024-05-02t09:14:01z",
]
EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-14:00", "1970-01-01T00:00:00Z"]
times = iso_times | st.sampled_from(EDGE_TIMES)
maybe_bad_times = times | st.sampled_from(BAD_TIMES)
# Auth0 created_at values, and two that have its shape without naming an instant.
created_ats = iso_times | st.sampled_from(["2024-02-30T00:00:00Z", "2024-99-99T99:99:99.000Z"])


def _auth0_user_id_pool(size: int = 500) -> list[str]:
    """Auth0 user ids (``provider|id``, the id 1-30 printable characters, ``|`` included), made
    once and seeded: drawing them one character at a time is most of a run's time."""
    rng = random.Random(20261201)  # test data, not a secret
    providers, alphabet = ["auth0", "google-oauth2", "samlp", "email", "oauth2"], support.ALNUM + "@.-_|"
    return [f"{rng.choice(providers)}|{''.join(rng.choices(alphabet, k=rng.randint(1, 30)))}" for _ in range(size)]


auth0_user_ids = st.sampled_from(_auth0_user_id_pool())
okta_user_ids = okta_ids()
log_ids = st.integers(min_value=1, max_value=10**56 - 1).map(lambda n: f"{n:056d}")


def _with(required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]] | None = None):
    return st.fixed_dictionaries(required, optional=optional or {})


runs = _with(
    {"role_id": role_ids | st.just(ROLE), "group_id": group_ids | st.just(GROUP), "run_id": execution_names},
    {"dry_run": st.booleans(), "recheck": st.booleans()},
)
counts = _with({}, {key: st.integers(min_value=0, max_value=10**6) for key in COUNTS})
drifts = st.lists(
    _with(
        {
            "kind": st.sampled_from(["missing_flag", "stale_flag"]),
            "okta_user_id": okta_user_ids,
            "okta_status": st.sampled_from(["ACTIVE", "DEPROVISIONED", "SUSPENDED"]),
            "auth0_user_ids": st.lists(auth0_user_ids, max_size=3),
        }
    ),
    max_size=3,
)
reconciliation_runs = _with(
    {},
    {
        "dry_run": st.booleans(),
        "requested_by": st.sampled_from(["schedule", "sam-local", "api", "0oa1b2c3d4e5f6g7h8i9", "x" * 200]),
        "phase": st.sampled_from(PHASES),
        "okta_next": absent | st.builds("https://acme.okta.com/api/v1/users?after={}".format, okta_ids()),
        "auth0_since": absent | created_ats,
        "auth0_page": st.integers(min_value=0, max_value=9),
        "auth0_boundary": absent | st.lists(auth0_user_ids, max_size=3),
        "counts": absent | counts,
        "drift": absent | drifts,
    },
)


@st.composite
def auth0_events(draw: st.DrawFn, kinds: tuple[str, ...] = ROLE_KINDS + LIFECYCLE_KINDS) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds))
    event = {"log_id": draw(log_ids), "date": draw(times), "kind": kind, "auth0_user_id": draw(auth0_user_ids)}
    if kind in ROLE_KINDS:
        event["role_id"] = draw(st.just(ROLE) | role_ids)
    elif draw(st.integers(min_value=0, max_value=2)) == 0:  # a role_id where none belongs
        event["role_id"] = draw(absent | role_ids | texts | json_values)
    return event


@st.composite
def lifecycle_tasks(draw: st.DrawFn) -> dict[str, Any]:
    step = draw(st.sampled_from(STEPS))
    event = draw(auth0_events(LIFECYCLE_KINDS if step == "reverse_sync" else ROLE_KINDS))
    task: dict[str, Any] = {"step": step, "event": event, "execution_name": draw(execution_names)}
    if step in ("commit_role", "deprovision_role"):
        role = f"#role#{event['role_id']}" if "role_id" in event else ""
        task["key"] = f"auth0#{event['auth0_user_id']}{role}"
        task["version"] = draw(st.integers(min_value=1, max_value=10**9))
    return task


# Auth0 logs: the writes the receiver follows (and a few it does not), as the log stream carries them.
@st.composite
def auth0_logs(draw: st.DrawFn) -> dict[str, Any]:
    user = draw(auth0_user_ids)
    shape = draw(st.sampled_from(["block", "delete", "sdu", "role_users", "user_roles", "other"]))
    log: dict[str, Any] = {
        "log_id": draw(log_ids),
        "date": draw(maybe_bad_times),
        "type": "sdu" if shape == "sdu" else draw(st.sampled_from(["sapi", "sapi", "sapi", "s", "fapi"])),
        "client_id": draw(st.sampled_from(["acme-admin-app", OWN_CLIENT, ""])),
        "user_id": user if shape == "sdu" else "",
    }
    roles = st.lists(st.just(ROLE) | role_ids | texts, max_size=3)
    at = f"/api/v2/users/{quote(user, safe='')}"
    method, path, body = {  # each drawn only for its own shape
        "block": lambda: ("patch", at, {"blocked": draw(st.booleans())}),
        "delete": lambda: ("delete", at, {}),
        "sdu": lambda: ("", "", {}),
        "role_users": lambda: (
            "post",
            f"/api/v2/roles/{ROLE}/users",
            {"users": draw(st.lists(auth0_user_ids, max_size=4))},
        ),
        "user_roles": lambda: (draw(st.sampled_from(["post", "delete"])), f"{at}/roles", {"roles": draw(roles)}),
        "other": lambda: ("get", "/api/v2/clients", {}),
    }[shape]()
    if shape == "block" and draw(st.booleans()):  # a PATCH that carries the deactivation sync's marker
        body["app_metadata"] = {"okta_sync": {"okta_user_id": draw(okta_user_ids), "event_uuid": draw(texts)}}
    if shape != "sdu":
        log["details"] = {
            "request": {"method": method, "path": path, "body": body},
            "response": {"statusCode": draw(st.sampled_from([200, 200, 201, 204, 400, 409])), "body": {}},
        }
    return log


@st.composite
def log_envelopes(draw: st.DrawFn) -> dict[str, Any]:
    envelope = support.sample("auth0_log_event")
    log = draw(auth0_logs())
    if draw(st.booleans()):
        envelope["detail"] = {"log_id": log["log_id"], "data": log}
    else:  # the form AWS's samples show: the log's fields in detail itself
        envelope["detail"] = log
    return envelope


VALID: dict[str, st.SearchStrategy[Any]] = {
    "deprovision_members": _with({"run": runs}),
    "reconcile": _with({"run": reconciliation_runs}, {"correlation_id": texts}),
    "system_log_sweep": st.just({}) | absent | _with({}, {"scheduled_time": times | absent}),
    "auth0_lifecycle": lifecycle_tasks(),
    "auth0_log_events": log_envelopes(),
    "auth0_log_poll": st.just({}),
}


@functools.cache
def inputs(entry: str) -> st.SearchStrategy[Any]:
    """What the fuzz test feeds ``entry``: arbitrary JSON, mutations of its sample, valid inputs,
    and mutations of valid inputs (some with a time that is not one)."""
    hostile = support.any_value | st.sampled_from(BAD_TIMES)
    return st.one_of(
        json_values,
        mutations(support.sample(SAMPLES[entry]), hostile),
        VALID[entry],
        mutations(support.sample(SAMPLES[entry])),
        support.mutated(VALID[entry]),
    )


# --------------------------------------------------------------------------------------- fixtures
@dataclass
class Recorder:
    """The recording seams: executions started, ledger reads (the marker check), checkpoint writes."""

    starts: list[tuple[str, Any]] = field(default_factory=list)
    ledger_reads: list[str] = field(default_factory=list)
    checkpoint_writes: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.starts.clear()
        self.ledger_reads.clear()
        self.checkpoint_writes.clear()


class FakeLedger:
    """The deactivation sync's ledger, as the marker check reads it: nobody's record (so a marked
    write is not taken for our own)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def get(self, okta_user_id: str) -> None:
        assert _matches(OKTA_USER_ID, okta_user_id), f"ledger read for {okta_user_id!r}"
        self.recorder.ledger_reads.append(okta_user_id)


@pytest.fixture(scope="module")
def recorder(module_env, no_outbound) -> Iterator[Recorder]:
    """``executions.start_many`` recorded (every name started, as Step Functions would)."""
    from okta_auth0_sync.store import executions

    recorded = Recorder()

    def start_many(arn: str, items: Any, *, budget_seconds: float, **kwargs: Any) -> list[Any]:
        assert arn == LIFECYCLE_ARN
        items = list(items)
        recorded.starts.extend(items)
        return [executions.Started(name, "started") for name, _ in items]

    module_env.setattr(executions, "start_many", start_many)
    yield recorded


def _fake_ingress(recorded: Recorder) -> Callable[[], Any]:
    """The runtime's ``ingress()`` without its Auth0 secret read (our client id is given): the real
    ``LogIngress`` and classification, the ledger faked."""
    from okta_auth0_sync.domain.provisioning import RoleGroupMapping
    from okta_auth0_sync.services.auth0_lifecycle import LogIngress

    def ingress() -> Any:
        return LogIngress(
            state_machine_arn=LIFECYCLE_ARN,
            own_client_id=OWN_CLIENT,
            mappings=(RoleGroupMapping(ROLE, GROUP),),
            ledger=FakeLedger(recorded),  # type: ignore[arg-type]
            marker_path=("app_metadata", "okta_sync"),
        )

    return ingress


@pytest.fixture(scope="module")
def handlers(module_env, no_outbound, recorder) -> dict[str, Any]:
    for name, value in ENVIRONMENT.items():
        module_env.setenv(name, value)
    loaded = {entry: support.load_handler(entry) for entry in SAMPLES}
    # the stream receiver: its real handler and ingress, only the secret read and the ledger faked
    module_env.setattr(loaded["auth0_log_events"], "ingress", _fake_ingress(recorder))
    return loaded


@dataclass
class Outcome:
    kind: str  # rejected | accepted | crashed
    detail: str = ""
    error: BaseException | None = None
    answer: Any = None


def invoke(handlers: dict[str, Any], outbound: support.Outbound, entry: str, event: Any) -> Outcome:
    """Run the entry point; classify what came out."""
    outbound.clear()
    try:
        answer = handlers[entry].lambda_handler(event, Context(entry))
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
    if entry == "auth0_log_events" and isinstance(answer, dict) and "invalid" in answer:
        if outbound.attempts:
            return Outcome("crashed", f"refused after outbound calls {outbound.attempts}", answer=answer)
        return Outcome("rejected", str(answer["invalid"]), answer=answer)
    return Outcome("accepted", "answered without an outbound call", answer=answer)


def check(entry: str, event: Any, outcome: Outcome) -> None:
    """Valid -> accepted; invalid -> refused (InvalidInput, or the receiver's ``invalid`` answer)
    before any call; never anything else."""
    if outcome.kind == "crashed":
        tally.unhandled(outcome.error or Exception())
    why = verdict(entry, event)
    support.note(f"verdict {why or 'valid'}, outcome {outcome.kind}: {outcome.detail[:300]}")
    if why is not None:
        assert outcome.kind == "rejected", f"invalid input ({why}) not refused: {outcome.detail[:300]}"
    else:
        assert outcome.kind == "accepted", f"valid input refused: {outcome.detail[:300]}"


def _step_for(kind: str) -> str:
    return "decide_role" if kind in ROLE_KINDS else "reverse_sync"


def check_starts(event: Any, recorded: Recorder) -> None:
    """The receiver started only what a handled, successful write by another client carries: one
    execution per event, named after the log, whose input the ``Auth0Lifecycle`` task accepts."""
    from okta_auth0_sync.domain.payloads.auth0_lifecycle import LifecycleTask

    if not recorded.starts:
        return
    detail = event["detail"]
    log = detail["data"] if isinstance(detail.get("data"), dict) else detail
    assert log.get("type") in ("sapi", "sdu"), f"started for a {log.get('type')!r} log"
    assert _matches(LOG_ID, log["log_id"]) and _real_time(log.get("date")), "started for a log without id or date"
    # our own writes are the deactivation sync's PATCHes (``sapi``; docs/auth0-log-events.md): this
    # package never deletes an Auth0 user, so an ``sdu`` is someone else's whatever its client_id
    assert log.get("type") != "sapi" or log.get("client_id") != OWN_CLIENT, "started for our own write"
    assert len(recorded.starts) <= 100
    names = [name for name, _ in recorded.starts]
    assert len(set(names)) == len(names), f"two starts under one name: {names}"
    for name, payload in recorded.starts:
        assert _matches(RUN_ID, name) and name.split("-")[0] == log["log_id"], name
        assert set(payload) == {"event"} and payload["event"]["log_id"] == log["log_id"]
        kind = payload["event"]["kind"]
        task = {"step": _step_for(kind), "event": payload["event"], "execution_name": name}
        assert verdict("auth0_lifecycle", task) is None, f"the lifecycle contract refuses {task}"
        LifecycleTask.from_payload(task)  # and so does its parser (InvalidInput would fail the test)
        if kind in ROLE_KINDS:
            assert payload["event"]["role_id"] == ROLE, "a start for a role no mapping names"


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize(
    "entry", [pytest.param(e, marks=pytest.mark.fuzz_entry(f"functions/{e}")) for e in (*TASKS, "auth0_log_events")]
)
@budget
@support.given_data
def test_invalid_input_is_refused_before_any_call_and_valid_input_accepted(
    handlers, no_outbound, recorder, entry, data
):
    event = data.draw(inputs(entry), label="event")
    recorder.clear()
    outcome = invoke(handlers, no_outbound, entry, event)
    check(entry, event, outcome)
    if entry == "auth0_log_events":
        assert not no_outbound.attempts, f"the receiver called out: {no_outbound.attempts}"
        if outcome.kind == "accepted":
            check_starts(event, recorder)
            assert outcome.answer["started"] == len(recorder.starts)
    else:
        assert not recorder.starts


@pytest.mark.parametrize("entry", list(SAMPLES))
def test_the_sample_event_is_accepted(handlers, no_outbound, recorder, entry):
    event = support.sample(SAMPLES[entry])
    recorder.clear()
    if entry in ORACLES:
        assert verdict(entry, event) is None
    outcome = invoke(handlers, no_outbound, entry, event)
    assert outcome.kind == "accepted", outcome.detail
    if entry == "auth0_log_events":  # a block by an admin app: one execution, named after the log
        assert [name for name, _ in recorder.starts] == [event["detail"]["log_id"]]
        assert recorder.starts[0][1]["event"]["kind"] == "blocked"
    else:
        assert no_outbound.attempts, "a valid input reaches its first outbound call"


def test_the_receivers_real_ingress_reads_the_auth0_secret_first(no_outbound, module_env, handlers):
    """The receiver's ingress, unfaked: the sample reaches the Auth0 secret (its client id) and
    starts nothing before it."""
    handler = support.load_handler("auth0_log_events")
    no_outbound.clear()
    with pytest.raises(OutboundAttempt):
        handler.lambda_handler(support.sample("auth0_log_event"), Context("auth0_log_events"))
    assert no_outbound.attempts and no_outbound.attempts[0].startswith("aws:GetSecretValue")


# -- the poll: its event is not read; the Auth0 pages it reads are fuzzed ---------------------------
@pytest.mark.fuzz_entry("functions/auth0_log_poll")
@budget
@support.given_data
def test_the_poll_reads_nothing_from_its_event(handlers, no_outbound, data):
    """Any event polls as ``{}`` does: the same first outbound call (the Auth0 secret), nothing
    else raised."""
    event = data.draw(inputs("auth0_log_poll"), label="event")
    if "{}" not in _POLLED:
        _POLLED["{}"] = _first_call(handlers, no_outbound, {})
    assert _first_call(handlers, no_outbound, event) == _POLLED["{}"]


_POLLED: dict[str, list[str]] = {}  # what the poll of ``{}`` called (the same in every container)


def _first_call(handlers: dict[str, Any], outbound: support.Outbound, event: Any) -> list[str]:
    outcome = invoke(handlers, outbound, "auth0_log_poll", event)
    support.note(f"outcome {outcome.kind}: {outcome.detail[:300]}")
    assert outcome.kind == "accepted" and outbound.attempts, outcome.detail
    return list(outbound.attempts)


class FakeDynamo:
    """The checkpoint table: one item (the poll's place), conditional writes recorded."""

    def __init__(self, recorded: Recorder, cursor: str | None) -> None:
        self.recorded, self.cursor = recorded, cursor

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        if self.cursor is None:
            return {}
        return {"Item": {"pk": {"S": "auth0-logs"}, "cursor": {"S": self.cursor}, "version": {"N": "3"}}}

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self.recorded.checkpoint_writes.append(kwargs["ExpressionAttributeValues"][":cursor"]["S"])
        return {}


class FakeAuth0:
    """Auth0's ``GET /api/v2/logs``: the pages drawn, in order (then an empty page)."""

    def __init__(self, pages: list[Any]) -> None:
        self.pages = list(pages)
        self.http = self

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        assert (method, path) == ("GET", "/api/v2/logs")
        body = self.pages.pop(0) if self.pages else []
        return SimpleNamespace(json=lambda: body)


def _poll(
    handlers: dict[str, Any], outbound: support.Outbound, recorded: Recorder, cursor: str | None, drawn: list[Any]
) -> dict[str, Any] | None:
    """One poll from ``cursor`` over the ``drawn`` pages: its answer, or None if it failed with an
    ``UpstreamError`` (any other exception fails the test)."""
    from okta_auth0_sync.store.checkpoints import CheckpointStore

    recorded.clear()
    handler = handlers["auth0_log_poll"]
    auth0 = FakeAuth0(drawn)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(handler, "connections", SimpleNamespace(auth0=lambda: auth0))
        mp.setattr(handler, "ingress", _fake_ingress(recorded))
        mp.setattr(handler, "CheckpointStore", lambda name: CheckpointStore(name, client=FakeDynamo(recorded, cursor)))
        outbound.clear()
        try:
            answer = handler.lambda_handler({}, Context("auth0_log_poll"))
        except UpstreamError as exc:  # Auth0 answered something unusable: a classified failure
            support.note(f"UpstreamError: {exc}")
            answer = None
        except Exception as exc:
            tally.unhandled(exc)
            raise
    assert not outbound.attempts, outbound.attempts
    return answer


page_logs = st.one_of(auth0_logs(), json_values, mutations(support.sample("auth0_log_event")["detail"]["data"]))
pages = st.lists(st.lists(page_logs, max_size=3) | json_values, min_size=1, max_size=2)


@pytest.mark.fuzz_entry("functions/auth0_log_poll (pages)")
@budget
@support.given_data
def test_the_poll_survives_any_page_and_moves_its_checkpoint_only_to_a_log_it_read(
    handlers, no_outbound, recorder, data
):
    cursor = data.draw(st.none() | log_ids, label="checkpoint")
    drawn = data.draw(pages, label="pages")
    answer = _poll(handlers, no_outbound, recorder, cursor, drawn)
    read = {
        log.get("log_id")
        for page in drawn
        if isinstance(page, list)
        for log in page
        if isinstance(log, dict) and _matches(LOG_ID, log.get("log_id"))
    }
    for written in recorder.checkpoint_writes:
        assert written in read, f"checkpoint moved to {written[:80]!r}, not a log id the pages held"
    if answer is not None:
        assert answer["started"] == len(recorder.starts)
    for name, payload in recorder.starts:
        assert _matches(RUN_ID, name) and payload["event"]["log_id"] in read


# ----------------------------------------------------------------- bugs found, with exact inputs
def _lifecycle(**changes: Any) -> dict[str, Any]:
    task = support.sample("auth0_lifecycle")
    return {**task, "event": {**task["event"], **changes}}


def _reconcile(**run: Any) -> dict[str, Any]:
    event = support.sample("reconcile")
    return {**event, "run": {**event["run"], **run}}


# (bug id, entry point, the exact input the entry point must refuse with InvalidInput)
FIXED_INPUTS: list[tuple[str, str, Any]] = [
    # a run's state with a falsy non-list where a list belongs was read as empty (``or []``)
    ("falsy-as-absent", "reconcile", {"run": {"dry_run": False, "drift": "", "counts": None}}),
    ("falsy-as-absent", "reconcile", _reconcile(auth0_boundary=0)),
    ("falsy-as-absent", "reconcile", _reconcile(counts=[])),
    # a created_at of the right shape that names no instant went unquoted into Auth0's search
    ("auth0-since-not-a-time", "reconcile", {"run": {"auth0_since": "2024-02-30T00:00:00Z"}}),
    ("auth0-since-not-a-time", "reconcile", _reconcile(auth0_since="2024-99-99T99:99:99.000Z")),
    # a lifecycle event (blocked) with a role_id was accepted, the role_id str()-ed into its ledger
    # key: the user's lifecycle events no longer shared one key, so the newest no longer won
    ("role-id-on-lifecycle-event", "auth0_lifecycle", _lifecycle(role_id="x")),
    ("role-id-on-lifecycle-event", "auth0_lifecycle", _lifecycle(role_id={"a": 1})),
    ("role-id-on-lifecycle-event", "auth0_lifecycle", _lifecycle(role_id="rol_rRVnAbarjZsuC2Xn")),
]


def _fixed_params() -> Iterator[Any]:
    for bug, entry, event in FIXED_INPUTS:
        yield pytest.param(entry, event, id=f"fixed-{bug}-{entry}")


@pytest.mark.parametrize(("entry", "event"), list(_fixed_params()))
def test_fixed_bug(handlers, no_outbound, entry, event):
    outcome = invoke(handlers, no_outbound, entry, event)
    assert outcome.kind == "rejected", outcome.detail


def _deep_log(**changes: Any) -> dict[str, Any]:
    """A sapi log of a user PATCH, with ``changes``."""
    log = {
        "log_id": f"{2:056d}",
        "date": "2026-12-01T09:14:01.862Z",
        "type": "sapi",
        "client_id": "acme-admin-app",
        "details": {
            "request": {"method": "patch", "path": "/api/v2/users/auth0%7Cd000935ded2e1555796ce85c", "body": {}},
            "response": {"statusCode": 200, "body": {}},
        },
    }
    return {**log, **changes}


# (bug id, checkpoint, pages): a poll that crashed on what Auth0 answered (KeyError on a log without
# ``log_id``; ValueError from the checkpoint on an empty one); it now skips such logs, fails with
# UpstreamError on a page with no log id at all, and never moves the checkpoint to one.
FIXED_PAGES: list[tuple[str, str | None, list[Any]]] = [
    ("log-without-log-id", f"{1:056d}", [[{}]]),
    ("log-without-log-id", f"{1:056d}", [[{"log_id": f"{2:056d}", "type": "s"}, {"type": "s"}]]),
    ("empty-log-id", f"{1:056d}", [[{"log_id": "", "type": "s"}]]),
    ("log-id-not-an-id", f"{1:056d}", [[{"log_id": {"a": 1}, "type": "s"}]]),
    ("first-poll-empty-log-id", None, [[{"log_id": ""}]]),
    # found by the long profile: a log whose type (or request method or path) nested a few thousand
    # deep crashed the poll with RecursionError (str() of it, for the reason it is ignored)
    ("deep-log-type", f"{1:056d}", [[_deep_log(type=support.nested(3000))]]),
    ("deep-request-method", f"{1:056d}", [[_deep_log(details={"request": {"method": support.nested(3000)}})]]),
    (
        "deep-request-path",
        f"{1:056d}",
        [[_deep_log(details={"request": {"path": support.nested(3000, kind="object")}})]],
    ),
]


@pytest.mark.parametrize(("cursor", "drawn"), [pytest.param(c, p, id=f"fixed-{b}") for b, c, p in FIXED_PAGES])
def test_fixed_poll_page(handlers, no_outbound, recorder, cursor, drawn):
    answer = _poll(handlers, no_outbound, recorder, cursor, drawn)
    assert all(_matches(LOG_ID, written) for written in recorder.checkpoint_writes), recorder.checkpoint_writes
    assert answer is None or answer["started"] == 0
