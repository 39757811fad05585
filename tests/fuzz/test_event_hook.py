"""Fuzzing the Okta event hook receiver (the real ``functions/event_hook/app.py``).

Secrets Manager and Step Functions are moto's; every request is an API Gateway HTTP API event.
For any input: an answer below 500 and no exception; for a rejected delivery (4xx) no execution
started; for an accepted one, only executions whose input names a valid Okta user id, a handled
event type and a well-formed ``published`` time. Well-formed deliveries (generated) are accepted
with one execution per distinct event.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import string
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.fuzz import tally

SECRET = "fuzz-hook-secret-0123456789abcdef0123456789"
ROOT = Path(__file__).resolve().parents[2]
HANDLED = ("user.lifecycle.deactivate", "user.lifecycle.activate", "user.lifecycle.reactivate")
VALID_ID = re.compile(r"[A-Za-z0-9]{1,64}")
VALID_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


class Context:
    function_name = "EventHookFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:EventHookFunction"
    aws_request_id = "fuzz"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


READ = re.compile(r"(Get|Describe|List|BatchGet|Query|Scan)[A-Z]")  # operations that write nothing


@pytest.fixture(scope="module")
def deployed():
    """moto with the hook's secret, the real handler module, and every AWS call it makes recorded."""
    import botocore.client
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    from okta_auth0_sync.base import container

    mp = pytest.MonkeyPatch()
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "Fuzz",
        "POWERTOOLS_SERVICE_NAME": "fuzz",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        "LOG_LEVEL": "CRITICAL",
        "DEACTIVATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:none-yet",
    }.items():
        mp.setenv(name, value)
    mock = mock_aws()
    mock.start()
    calls: list[str] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)  # list.append: safe from start_many's threads
        return make_api_call(client, operation, params)

    mp.setattr(botocore.client.BaseClient, "_make_api_call", recorded)
    try:
        parameters.clear_caches()
        secret = boto3.client("secretsmanager").create_secret(
            Name="fuzz/okta-event-hook", SecretString=json.dumps({"current": SECRET, "previous": ""})
        )
        mp.setenv("EVENT_HOOK_SECRET_ID", secret["ARN"])
        container.new_container()
        spec = importlib.util.spec_from_file_location("fuzz_event_hook", ROOT / "functions" / "event_hook" / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module, mp, calls
    finally:
        mp.undo()
        mock.stop()
        parameters.clear_caches()
        container.new_container()


@pytest.fixture
def hook(deployed):
    """A state machine of its own for each test (moto's), and the handler pointed at it."""
    from moto.stepfunctions.models import stepfunctions_backends

    from okta_auth0_sync.base import container

    module, mp, calls = deployed
    sfn = boto3.client("stepfunctions")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    arn = sfn.create_state_machine(
        name=f"DeactivationSync-{uuid.uuid4().hex[:12]}",
        definition=definition,
        roleArn="arn:aws:iam::123456789012:role/fuzz",
    )["stateMachineArn"]
    mp.setenv("DEACTIVATION_STATE_MACHINE_ARN", arn)
    container.new_container()  # the settings are read again, with this machine
    machine = stepfunctions_backends["123456789012"]["us-east-1"].describe_state_machine(arn)
    return _Hook(module, machine, calls)


class _Hook:
    """The handler behind API Gateway, one request at a time. Each :meth:`post` starts from a state
    machine with no executions and an empty record of AWS calls, and leaves behind what that request
    did: ``started`` (the inputs of the executions it started, read from moto's state machine) and
    ``writes`` (every AWS operation it called that is not a read). Every check costs the same
    whatever the number of inputs tried before (listing the executions per input made a long run
    quadratic: 5 of 10 tests in 22 minutes)."""

    def __init__(self, module: Any, machine: Any, calls: list[str]) -> None:
        self.module, self.machine, self.calls = module, machine, calls
        self.started: list[dict[str, Any]] = []
        self.writes: list[str] = []

    def post(self, body: str | bytes | None, *, headers: dict[str, str] | None = None, b64: bool = False) -> dict:
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "POST /okta/event-hook",
            "rawPath": "/okta/event-hook",
            "rawQueryString": "",
            "headers": {"authorization": SECRET, "content-type": "application/json", **(headers or {})},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "fuzz",
                "domainName": "fuzz.execute-api.test",
                "http": {"method": "POST", "path": "/okta/event-hook", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
                "requestId": "fuzz",
                "routeKey": "POST /okta/event-hook",
                "stage": "$default",
                "timeEpoch": 0,
            },
            "isBase64Encoded": b64,
        }
        if body is not None:
            event["body"] = base64.b64encode(body).decode() if isinstance(body, bytes) else body
            event["isBase64Encoded"] = isinstance(body, bytes) or b64
        self.machine.executions.clear()
        self.calls.clear()
        try:
            return self.module.lambda_handler(event, Context())
        finally:
            self.started = [json.loads(execution.execution_input) for execution in self.machine.executions]
            self.writes = [operation for operation in self.calls if not READ.match(operation)]


def _assert_only_valid_executions(hook: _Hook) -> None:
    for payload in hook.started:
        text = json.dumps(payload)
        user_ids = re.findall(r'"okta_user_id": "([^"]*)"', text) + re.findall(r'"id": "([^"]*)"', text)
        assert user_ids, f"an execution without an Okta user id: {text[:300]}"
        for user_id in user_ids:
            assert VALID_ID.fullmatch(user_id) and user_id != "me", f"started for user id {user_id!r}"
        for published in re.findall(r'"published": "([^"]*)"', text):
            assert VALID_TIME.fullmatch(published), f"started with published {published!r}"
    assert set(hook.writes) <= {"StartExecution"}, f"wrote {hook.writes}"
    assert hook.writes.count("StartExecution") >= len(hook.started)


def _check(hook: _Hook, response: dict) -> None:
    tally.answer(response["statusCode"])
    assert response["statusCode"] < 500, response
    if response["statusCode"] >= 400:
        assert hook.started == [], f"a rejected delivery ({response['statusCode']}) started an execution"
        assert hook.writes == [], f"a rejected delivery ({response['statusCode']}) wrote: {hook.writes}"
        assert json.loads(response["body"])["message"], "a rejection says why"
    _assert_only_valid_executions(hook)


# --------------------------------------------------------------------------------- strategies
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=24,
)
hostile_strings = st.sampled_from(
    [
        "me",
        "00u1\n",
        "00u1\x00",
        "../../admin",
        "00u1' OR '1'='1",
        '"><script>',
        "${jndi:ldap://x}",
        "2024-05-02T09:14:01.862Z\x07",
        "2024-05-02T09:14:01.862Z\n",
        "9999-99-99T99:99:99Z",
        "",
        " ",
        "x" * 5000,
        "\u202e00u1",
        "\uff10\uff10\uff55\uff11",  # fullwidth 00u1
    ]
)
any_value = json_values | hostile_strings


def valid_event(user_id: str, event_type: str, published: str, event_uuid: str) -> dict[str, Any]:
    return {
        "uuid": event_uuid,
        "published": published,
        "eventType": event_type,
        "target": [{"id": user_id, "type": "User", "alternateId": "someone@acme.example"}],
    }


okta_ids = st.text(alphabet=string.ascii_letters + string.digits, min_size=20, max_size=20).map(lambda s: "00u" + s[3:])
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
)
valid_events = st.builds(valid_event, okta_ids, st.sampled_from(HANDLED), times, st.uuids().map(str))


def envelope(events: list[Any]) -> dict[str, Any]:
    return {"eventType": "com.okta.event_hook", "eventId": str(uuid.uuid4()), "data": {"events": events}}


FIELDS = ("uuid", "published", "eventType", "target", "target.0", "target.0.id", "target.0.type")


@st.composite
def mutated_deliveries(draw) -> dict[str, Any]:
    events = draw(st.lists(valid_events, min_size=1, max_size=4))
    event = draw(st.sampled_from(events))
    field = draw(st.sampled_from(FIELDS))
    value = draw(any_value)
    parts = field.split(".")
    if len(parts) == 1:
        event[parts[0]] = value
    elif len(parts) == 2:
        event["target"][0] = value
    else:
        event["target"][0][parts[2]] = value
    return envelope(events)


# The entry point's inputs are shared by its eight generated tests: the profile's figure for the
# entry point (ci 300, make test; long 20,000, make fuzz-long), split between them.
ENTRY_POINT = "functions/event_hook"
GENERATED_TESTS = 8
PER_TEST = -(-tally.EXAMPLES[tally.PROFILE] // GENERATED_TESTS)
FUZZ = settings(
    max_examples=PER_TEST,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


# -------------------------------------------------------------------------------------- tests
@FUZZ
@given(body=st.binary(max_size=4096))
def test_arbitrary_bytes(hook, body):
    _check(hook, hook.post(body))


@FUZZ
@given(text=st.text(max_size=2048))
def test_arbitrary_text(hook, text):
    _check(hook, hook.post(text))


@FUZZ
@given(value=json_values)
def test_arbitrary_json(hook, value):
    _check(hook, hook.post(json.dumps(value)))


@FUZZ
@given(
    encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]),
    events=st.lists(valid_events, max_size=2),
)
def test_other_encodings_of_a_good_delivery(hook, encoding, events):
    body = json.dumps(envelope(events), ensure_ascii=False).encode(encoding)
    response = hook.post(body)
    _check(hook, response)


@FUZZ
@given(depth=st.integers(min_value=1, max_value=200_000), where=st.sampled_from(["top", "events", "target"]))
def test_deep_nesting_within_the_size_cap(hook, depth, where):
    nest = "[" * depth + "]" * depth
    body = {
        "top": nest,
        "events": '{"data": {"events": ' + nest + "}}",
        "target": '{"data": {"events": [{"uuid": "u", "eventType": "user.lifecycle.deactivate", "target": '
        + nest
        + "}]}}",
    }[where]
    assume(len(body) <= 256 * 1024)
    _check(hook, hook.post(body))


@FUZZ
@given(delivery=mutated_deliveries())
# found by the long profile: a uuid with a ':' passed as an execution name, Step Functions refused
# it, and the hook answered 500 (Okta retries a 5xx); now the event is skipped (204, nothing started)
@example(
    delivery=envelope(
        [valid_event("00u00000000000000000", HANDLED[0], "2000-01-01T00:00:00.000Z", "9999-99-99T99:99:99Z")]
    )
)
def test_one_malformed_event_never_starts_an_execution_and_never_stops_the_others(hook, delivery):
    _check(hook, hook.post(json.dumps(delivery)))


@FUZZ
@given(events=st.lists(valid_events, min_size=1, max_size=5, unique_by=lambda e: e["uuid"]))
def test_well_formed_deliveries_are_accepted_with_one_execution_per_event(hook, events):
    for event in events:  # execution names come from the uuid: a replayed example must not dedupe
        event["uuid"] = str(uuid.uuid4())
    response = hook.post(json.dumps(envelope(events)))
    assert response["statusCode"] in (200, 204), response
    assert len(hook.started) == len(events) and hook.writes == ["StartExecution"] * len(events)


@FUZZ
@given(
    authorization=st.one_of(
        st.none(), st.text(max_size=200), st.just(SECRET.upper()), st.just(SECRET + " "), st.just("Bearer " + SECRET)
    ),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", "", "*/*"]),
    events=st.lists(valid_events, min_size=1, max_size=2),
)
def test_header_variants(hook, authorization, content_type, events):
    headers = {"content-type": content_type}
    if authorization is not None:
        headers["authorization"] = authorization
    else:
        headers["authorization"] = ""
    response = hook.post(json.dumps(envelope(events)), headers=headers)
    _check(hook, response)
    if authorization != SECRET:
        assert response["statusCode"] == 401 and hook.started == [] and hook.writes == []


# ------------------------------------------------------------------ regressions (issue 10, as seen)
@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00\x01not utf-8",
        json.dumps(envelope([])).encode("utf-16"),
        b'{"data": {"events": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        json.dumps(envelope([{**valid_event("00u1", HANDLED[0], "2024-05-02T09:14:01.862Z", "u1"), "target": 7}])),
        json.dumps(envelope([{**valid_event("00u1", HANDLED[0], "2024-05-02T09:14:01.862Z", "u2"), "eventType": []}])),
        json.dumps(envelope([{**valid_event("00u1", HANDLED[0], "2024-05-02T09:14:01.862Z", "u3"), "eventType": {}}])),
    ],
    ids=["not-utf-8", "utf-16", "deep-nesting", "target-a-number", "eventType-a-list", "eventType-an-object"],
)
def test_regressions_seen_from_outside_are_4xx_or_skipped(hook, body):
    response = hook.post(body)
    _check(hook, response)
    assert hook.started == [] and hook.writes == []


@pytest.mark.parametrize(
    ("user_id", "published", "event_uuid"),
    [
        ("me", "2024-05-02T09:14:01.862Z", None),
        ("00uieg27N0mAaWp92N5J", "2024-05-02T09:14:01.862Z\x07", None),
        ("00uieg27N0mAaWp92N5J\n", "2024-05-02T09:14:01.862Z", None),
        ("00uieg27N0mAaWp92N5J", "2024-05-02T09:14:01.862Z\n", None),
        ("00uieg27N0mAaWp92N5J", "2024-05-02T09:14:01.862Z", "9999-99-99T99:99:99Z"),  # was a 500
        ("00uieg27N0mAaWp92N5J", "2024-05-02T09:14:01.862Z", "a/b"),
    ],
    ids=[
        "reserved-alias-me",
        "published-control-char",
        "id-trailing-newline",
        "published-trailing-newline",
        "uuid-with-a-colon",
        "uuid-with-a-slash",
    ],
)
def test_an_event_that_cannot_be_synced_starts_nothing(hook, user_id, published, event_uuid):
    event = valid_event(user_id, HANDLED[0], published, event_uuid or str(uuid.uuid4()))
    response = hook.post(json.dumps(envelope([event])))
    _check(hook, response)
    assert hook.started == [] and hook.writes == []
