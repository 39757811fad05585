"""Issue 11: the System Log sweep and Okta Log Streaming as ingresses, end to end: the sandbox Okta
(System Log polling, Log Streaming envelopes, hook deliveries switched off), the template's stack in
moto running the real deactivation-sync ASL, the sandbox Auth0. Each event must reach Auth0 once,
whichever ingresses see it, and a sweep that fails half way, or runs twice at once, must neither
skip nor repeat an event."""

import json
import threading
import time
from pathlib import Path

import pytest

from okta_auth0_sync.base import counters
from okta_auth0_sync.store import executions
from okta_auth0_sync.store.checkpoints import CheckpointStore
from okta_auth0_sync_testbed.deployment import LocalDeployment

from .conftest import EVENT_TYPES, HOOK_SECRET, connection_secrets, deliver

ADA = "00uZPx7YubxGT9rKLiKE"  # two Auth0 accounts (database + Okta enterprise connection)
GRACE = "00uieg27N0mAaWp92N5J"
PRIYA = "00ue4eScyR1FYOcoldsi"
GRACE_DB = "auth0|c7d4c9e39de14f953e9cd582"
PRIYA_DB = "auth0|c9aa6c7760952e8fc5892901"
MACHINE = "DeactivationSyncStateMachine"
SWEEP = "SystemLogSweepFunction"
STREAM = "LogStreamFunction"


@pytest.fixture
def ingress(sb, credentials, request):
    """The stack with Log Streaming on (``OktaLogStreamEventSource``) and the sandbox streaming to
    it; parametrized indirectly with ``n``, each System Log request asks for ``n`` events, or with
    ``"no hook endpoint"``, the stack is deployed without one (``EventHookEndpoint=false``)."""
    param = getattr(request, "param", None)
    page_size = param if isinstance(param, int) else None
    env = {"SYSTEM_LOG_PAGE_SIZE": str(page_size)} if page_size else {}
    sb.okta.log_stream.configure(event_source_name="okta-auth0-sync")
    counters.api_calls.reset()
    counters.tokens_minted.reset()
    parameters = {
        "OktaDomain": sb.okta.domain,
        "Auth0Domain": sb.auth0.domain,
        "OktaLogStreamEventSource": sb.okta.log_stream.source,
        "EventHookEndpoint": "false" if param == "no hook endpoint" else "true",
    }
    with LocalDeployment(connection_secrets(credentials), parameters=parameters, env=env) as deployment:
        yield deployment


@pytest.fixture
def hook(sb, ingress):
    """The stack's event hook endpoint, registered (and verified) in the sandbox Okta."""
    from okta_auth0_sync_testbed.apigateway import LocalHttpApi

    with LocalHttpApi(ingress) as local_api:
        yield sb.okta.register_event_hook(f"{local_api.url}/okta/event-hook", EVENT_TYPES, HOOK_SECRET)


def sweep(stack):
    return stack.invoke(SWEEP, {"scheduled_time": "2026-12-01T09:15:00Z"})


def stream(sb, stack):
    """EventBridge: each envelope the sandbox streamed that the template's rule matches goes to the
    rule's target (moto's EventBridge pattern matcher judges the rule's pattern)."""
    from moto.events.models import EventPattern

    spec = stack.template.resources[STREAM]["Properties"]["Events"]["OktaLogStream"]["Properties"]
    rule = EventPattern.load(json.dumps(stack.template.resolve(spec["Pattern"])))
    answers = []
    for envelope in sb.okta.log_stream.drain():
        if rule.matches_event(envelope):
            answers.append(stack.invoke(STREAM, envelope))
    return answers


def flag(sb, user_id):
    return ((sb.auth0.get_user(user_id).get("app_metadata") or {}).get("okta_sync") or {}).get("deactivated")


def succeeded(stack):
    """Every deactivation-sync execution, finished (and each succeeded)."""
    runs = {e["name"]: stack.wait(e["executionArn"], history=False) for e in stack.executions(MACHINE)}
    assert all(r.status == "SUCCEEDED" for r in runs.values()), {n: r.cause for n, r in runs.items()}
    return runs


def test_with_hook_deliveries_off_every_event_reaches_auth0_after_the_next_sweep(sb, ingress, hook):
    sb.okta.hooks.enabled = False  # an outage: Okta's two attempts failed, no replay
    sb.okta.deactivate_user(GRACE)
    sb.okta.deactivate_user(PRIYA)
    time.sleep(0.002)  # a later millisecond (at the same instant a deactivation outranks a reactivation)
    sb.okta.activate_user(PRIYA)
    sb.okta.lifecycle(ADA, "suspend")  # not a handled type (SyncSuspensions off)
    assert sb.okta.flush_event_hooks() == [] and len(sb.okta.hooks.lost) == 3
    report = sweep(ingress)
    assert report["first_run"] is True and report["stopped"] == "caught_up"
    assert (report["read"], report["started"], report["already_done"], report["failed"]) == (3, 3, 0, 0)
    assert report["pages"] == 1  # one System Log request for the lot
    runs = succeeded(ingress)
    assert set(runs) == {e["uuid"] for e in sb.okta.log_events() if e["eventType"] != "user.lifecycle.suspend"}
    assert flag(sb, GRACE_DB) is True and sb.auth0.get_user(GRACE_DB)["blocked"] is True
    assert flag(sb, PRIYA_DB) is False  # deactivated, then reactivated: the newest wins
    patches = counters.api_calls.total("auth0", method="PATCH")
    # the next sweep reads from the checkpoint: nothing new, nothing written
    again = sweep(ingress)
    assert (again["read"], again["started"], again["first_run"]) == (0, 0, False)
    # read everything again (checkpoint reset): every event already done, no write repeated
    CheckpointStore(ingress.ref("CheckpointTable"), client=ingress.client("dynamodb")).reset("okta-system-log")
    replay = sweep(ingress)
    assert (replay["read"], replay["started"], replay["already_done"]) == (3, 0, 3)
    assert len(succeeded(ingress)) == 3
    assert counters.api_calls.total("auth0", method="PATCH") == patches
    assert counters.api_calls.total("okta", route="/api/v1/logs") == 3


@pytest.mark.parametrize("ingress", ["no hook endpoint"], indirect=True)
def test_log_streaming_alone_then_the_sweep_finds_everything_done(sb, ingress):
    assert "EventHookFunction" not in ingress.template.of_type("AWS::Serverless::Function")
    sb.okta.log_stream.duplicate = True  # at least once
    sb.okta.deactivate_user(GRACE)
    sb.okta.lifecycle(ADA, "suspend")  # streamed (Okta sends everything) but not matched by the rule
    first, duplicate, *suspensions = sb.okta.log_stream.drain()
    assert [e["detail"]["eventType"] for e in suspensions] == ["user.lifecycle.suspend"] * 2
    sb.okta.log_stream.outbox.extend([first, *suspensions])
    assert [(a["started"], a["already_done"]) for a in stream(sb, ingress)] == [(1, 0)]  # the rule: 1 of 3
    (run,) = succeeded(ingress).values()
    assert run.name == sb.okta.log_events("user.lifecycle.deactivate")[0]["uuid"]
    assert flag(sb, GRACE_DB) is True
    sb.okta.log_stream.outbox.append(duplicate)  # delivered again, later: already done
    assert [(a["started"], a["already_done"]) for a in stream(sb, ingress)] == [(0, 1)]
    report = sweep(ingress)
    assert (report["read"], report["started"], report["already_done"]) == (1, 0, 1)
    assert len(succeeded(ingress)) == 1 and counters.api_calls.total("auth0", method="PATCH") == 1


def test_hook_stream_and_sweep_together_sync_each_event_once(sb, ingress, hook):
    sb.okta.deactivate_user(GRACE)
    sb.okta.deactivate_user(PRIYA)
    deliver(sb)
    succeeded(ingress)  # (a start racing a running execution of the same name and input is answered
    # as the first one was: counted started, yet nothing new runs)
    streamed = stream(sb, ingress)
    report = sweep(ingress)
    assert len(succeeded(ingress)) == 2
    assert sum(a["started"] for a in streamed) + report["started"] == 0  # the hook was first
    assert report["already_done"] == 2 and [a["already_done"] for a in streamed] == [1, 1]
    assert counters.api_calls.total("auth0", method="PATCH") == 2  # one per account, once
    assert flag(sb, GRACE_DB) is True and flag(sb, PRIYA_DB) is True


@pytest.mark.parametrize("ingress", [1], indirect=True, ids=["one event a page"])
def test_a_sweep_failing_half_way_resumes_without_gap_or_repeat(sb, ingress, monkeypatch):
    for user in (GRACE, PRIYA):
        sb.okta.deactivate_user(user)
    time.sleep(0.002)
    sb.okta.activate_user(GRACE)
    uuids = [e["uuid"] for e in sb.okta.log_events()]
    # Okta refuses the second System Log request (a 403 is not retried): the sweep fails there
    sb.okta.faults.error("/api/v1/logs", status=403, every=2)
    with pytest.raises(Exception, match=r"PermissionDenied|denied"):
        sweep(ingress)
    assert list(succeeded(ingress)) == uuids[:1]
    sb.okta.faults.clear()
    # Step Functions refuses one start: nothing after it is read, the checkpoint stays before it
    real_start = executions.start
    refused: list[str] = []

    def start(arn, name, payload, **kwargs):
        if name == uuids[2] and not refused:
            refused.append(name)
            return executions.Started(name, "failed", "ExecutionLimitExceeded")
        return real_start(arn, name, payload, **kwargs)

    monkeypatch.setattr(executions, "start", start)
    with pytest.raises(Exception, match="could not be started"):
        sweep(ingress)
    assert sorted(succeeded(ingress)) == sorted(uuids[:2])
    resumed = sweep(ingress)
    # page 3 again (its event not started before), then an empty page: caught up
    assert (resumed["read"], resumed["started"], resumed["already_done"], resumed["pages"]) == (1, 1, 0, 2)
    runs = succeeded(ingress)
    assert sorted(runs) == sorted(uuids)  # no gap
    assert counters.api_calls.total("auth0", method="PATCH") == 3  # no repeat: one write per event
    assert flag(sb, GRACE_DB) is False and flag(sb, PRIYA_DB) is True


@pytest.mark.parametrize("ingress", [1], indirect=True, ids=["one event a page"])
def test_concurrent_sweeps_neither_skip_nor_repeat(sb, ingress):
    users = (GRACE, PRIYA, ADA)
    for user in users:
        sb.okta.deactivate_user(user)
    reports: list[dict] = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        reports.append(sweep(ingress))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = succeeded(ingress)
    assert len(runs) == 3  # every event, each once (a start racing a running execution of the same
    # name and input is answered as the first was: both sweeps may count it started, one execution runs)
    assert counters.api_calls.total("auth0", method="PATCH") == 4  # one write per account (Ada has two)
    assert "checkpoint_moved" in {r["stopped"] for r in reports}  # exactly one sweep went on from a read
    after = sweep(ingress)
    assert (after["read"], after["started"]) == (0, 0)  # the checkpoint is past every event: none skipped
    checkpoint = CheckpointStore(ingress.ref("CheckpointTable"), client=ingress.client("dynamodb")).read(
        "okta-system-log"
    )
    assert checkpoint.cursor and "after=" in checkpoint.cursor
    assert len(succeeded(ingress)) == 3


def test_the_log_stream_sample_event_works_as_is(sb, ingress):
    sample = json.loads((Path(__file__).parents[2] / "events" / "log_stream_deactivate.json").read_text())
    assert ingress.invoke(STREAM, sample) == {"started": 1, "already_done": 0, "skipped": []}
    (run,) = succeeded(ingress).values()
    assert run.name == sample["detail"]["uuid"] and flag(sb, GRACE_DB) is True


MALFORMED = [
    None,
    [],
    "text",
    {},
    {"source": "aws.partner/auth0.com/acme/auth0.logs", "detail": {"eventType": "user.lifecycle.deactivate"}},
    {"source": "aws.partner/okta.com/acme/s", "detail": "not an object"},
    {"source": "aws.partner/okta.com/acme/s", "detail": {"eventType": "user.lifecycle.deactivate"}},
    {"source": "aws.partner/okta.com/acme/s", "detail": {"eventType": "user.session.start", "uuid": "x"}},
]


def test_a_malformed_stream_event_is_reported_and_starts_nothing(sb, ingress):
    """(The hypothesis fuzz of the receiver: tests/fuzz/test_log_stream.py.)"""
    for envelope in MALFORMED:
        answer = ingress.invoke(STREAM, envelope)
        assert answer["started"] == 0 and (answer.get("rejected") or answer["skipped"]), envelope
    assert ingress.executions(MACHINE) == []
