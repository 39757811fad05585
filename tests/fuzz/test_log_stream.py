"""Fuzzing the Okta Log Streaming receiver (the real ``functions/log_stream/app.py``).

Every input is what an EventBridge rule could hand the function: any
JSON, EventBridge envelopes with hostile fields, and well-formed Okta lifecycle events. For any
input: an answer, never an exception; an input that is not an Okta System Log event is rejected
with a reason and starts nothing; an execution is started only for a handled event type, a valid
Okta user id, a well-formed ``published`` and ``uuid``, named after that ``uuid`` (the same event
again is already done: tests/integration/test_system_log_ingress.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import tally

ROOT = Path(__file__).resolve().parents[2]
HANDLED = ("user.lifecycle.deactivate", "user.lifecycle.activate", "user.lifecycle.reactivate")
SOURCE = "aws.partner/okta.com/acme/okta-auth0-sync"
VALID_ID = re.compile(r"[A-Za-z0-9]{1,64}")
VALID_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
# The event's uuid names its execution (docs/security.md: "a uuid usable as an execution name"):
# 1-80 letters, digits, '_', '.', '-'; Step Functions refuses ':', '/' and the other specials.
EXECUTION_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")


class Context:
    function_name = "LogStreamFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:LogStreamFunction"
    aws_request_id = "fuzz"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(scope="module")
def receiver():
    """The real handler module, with Step Functions' StartExecution replaced by a recorder that
    dedupes names as Step Functions does (moto's real start, and its dedupe, are driven end to end
    in tests/integration/test_system_log_ingress.py; here each input costs about a millisecond)."""
    from okta_auth0_sync.base import container
    from okta_auth0_sync.store import executions as store

    mp = pytest.MonkeyPatch()
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Fuzz",
        "POWERTOOLS_SERVICE_NAME": "fuzz",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        "HANDLED_EVENT_TYPES": ",".join(HANDLED),
        "DEACTIVATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:DeactivationSync",
    }.items():
        mp.setenv(name, value)
    asked: list[tuple[str, Any]] = []
    names: set[str] = set()

    def start(arn: str, name: str, payload: Any, **kwargs: Any) -> Any:
        asked.append((name, payload))
        if name in names:
            return store.Started(name, "duplicate")
        names.add(name)
        return store.Started(name, "started")

    mp.setattr(store, "start", start)
    try:
        container.new_container()
        spec = importlib.util.spec_from_file_location("fuzz_log_stream", ROOT / "functions" / "log_stream" / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module, asked
    finally:
        mp.undo()
        container.new_container()


# --------------------------------------------------------------------------------- strategies
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
hostile = st.sampled_from(
    ["me", "00u1\n", "../../x", "", " ", "x" * 3000, "\u202e00u1", "2024-05-02T09:14:01.862Z\n", "9999-99-99T99:99:99Z"]
)
value = json_values | hostile
ID_TAIL = st.text(alphabet="abcXYZ0189", min_size=17, max_size=17)


@st.composite
def lifecycle_events(draw: Any) -> dict[str, Any]:
    """A System Log event that is well formed, or nearly (each field may be replaced by junk)."""
    when = datetime.fromtimestamp(draw(st.integers(1_577_836_800_000, 1_893_456_000_000)) / 1000, UTC)
    event: dict[str, Any] = {
        "uuid": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),  # any uuid (the event's id)
        "published": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventType": draw(st.sampled_from([*HANDLED, "user.lifecycle.suspend", "user.session.start"])),
        "outcome": {"result": draw(st.sampled_from(["SUCCESS", "FAILURE", None])), "reason": None},
        "target": [{"id": "00u" + draw(ID_TAIL), "type": "User", "alternateId": "a@x"}],
    }
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=2, unique=True)):
        event[key] = draw(value)
    return event


@st.composite
def envelopes(draw: Any) -> Any:
    kind = draw(st.sampled_from(["any", "envelope", "event", "event"]))
    if kind == "any":
        return draw(value)
    envelope: dict[str, Any] = {
        "version": "0",
        "id": "e1",
        "detail-type": draw(st.sampled_from(["SystemLog", "Okta Log Event", ""])),
        "source": draw(st.sampled_from([SOURCE, "aws.partner/auth0.com/acme/auth0.logs", "aws.events", ""])),
        "detail": draw(lifecycle_events()) if kind == "event" else draw(value),
    }
    if draw(st.booleans()) and kind == "envelope":
        envelope[draw(st.sampled_from(sorted(envelope)))] = draw(value)
    return envelope


def real_time(text: str) -> bool:
    """An ISO 8601 time with a zone that names a real instant."""
    if not VALID_TIME.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def syncable(envelope: Any) -> bool:
    """Whether the receiver must start an execution for this input."""
    source = envelope.get("source") if isinstance(envelope, dict) else None
    if not isinstance(source, str) or not source.startswith("aws.partner/okta.com/"):
        return False
    detail = envelope.get("detail")
    if not isinstance(detail, dict) or detail.get("eventType") not in HANDLED:
        return False
    outcome = detail.get("outcome")
    if isinstance(outcome, dict) and outcome.get("result") not in (None, "SUCCESS"):
        return False
    targets = detail.get("target")
    ids = (
        [t.get("id") for t in targets if isinstance(t, dict) and t.get("type") == "User"]
        if isinstance(targets, list)
        else []
    )
    return (
        isinstance(detail.get("uuid"), str)
        and EXECUTION_NAME.fullmatch(detail["uuid"]) is not None
        and isinstance(detail.get("published"), str)
        and real_time(detail["published"])
        and len(ids) == 1
        and isinstance(ids[0], str)
        and VALID_ID.fullmatch(ids[0]) is not None
    )


def _deep(depth: int) -> Any:
    value: Any = None
    for _ in range(depth):
        value = [value]
    return value


def _stream_event(uuid: str) -> dict[str, Any]:
    """A streamed deactivation, well formed but for what the caller changes."""
    detail = {
        "uuid": uuid,
        "published": "2020-01-01T00:00:00.000Z",
        "eventType": "user.lifecycle.deactivate",
        "outcome": {"result": "SUCCESS"},
        "target": [{"id": "00u00000000000000000", "type": "User", "alternateId": "a@x"}],
    }
    return {"version": "0", "id": "e1", "detail-type": "SystemLog", "source": SOURCE, "detail": detail}


@pytest.mark.fuzz_entry("log stream receiver")
@given(envelope=envelopes())
# found by the long profile: a uuid that is a valid execution name but no UUID ("me") starts, as
# the contract says; a ':' in the uuid (Step Functions refuses the name) is skipped, never started
@example(envelope=_stream_event("me"))
@example(envelope=_stream_event("9999-99-99T99:99:99Z"))
def test_any_input_is_answered_and_only_a_valid_lifecycle_event_starts_an_execution(receiver, envelope):
    module, starts = receiver
    starts.clear()
    try:
        answer = module.lambda_handler(envelope, Context())
    except Exception as exc:  # any exception is a finding
        tally.unhandled(exc)
        raise
    tally.answer(200)
    if syncable(envelope):
        # one execution, named after the uuid (an event seen before, or replayed by the shrinker,
        # is already done, or answered as the first start was while that execution still runs)
        name = envelope["detail"]["uuid"]
        assert [n for n, _ in starts] == [name] and not answer.get("rejected")
        assert answer["started"] + answer["already_done"] == 1
    else:
        assert not starts and answer["started"] == 0, f"started for {json.dumps(envelope, default=str)[:300]}"
        assert answer.get("rejected") or answer["skipped"]
    for _, payload in starts:
        assert VALID_ID.fullmatch(payload["okta_user"]["id"]) and payload["event"]["type"] in HANDLED
        assert VALID_TIME.fullmatch(payload["event"]["published"])


# Found in the task payloads by the long profile: a value nested a few thousand deep where a string
# belongs crashed the refusal's reason (str() of it: RecursionError). Plain cases, not @example:
# Hypothesis pretty-prints an explicit example, and recursion stops it too.
DEEP_ENVELOPES = {
    "source": {**_stream_event("e1"), "source": _deep(3000)},
    "eventType": {**_stream_event("e1"), "detail": {**_stream_event("e1")["detail"], "eventType": _deep(3000)}},
    "outcome": {**_stream_event("e1"), "detail": {**_stream_event("e1")["detail"], "outcome": {"result": _deep(3000)}}},
    "id": {**_stream_event("e1"), "id": _deep(3000)},
}


@pytest.mark.parametrize("where", list(DEEP_ENVELOPES))
def test_a_deep_value_where_a_string_belongs_is_refused_or_skipped_with_its_type(receiver, where):
    module, starts = receiver
    starts.clear()
    answer = module.lambda_handler(DEEP_ENVELOPES[where], Context())
    if where == "id":  # EventBridge's id is only logged: the event itself is good
        assert answer["started"] == 1 and len(starts) == 1, answer
        return
    assert not starts and answer["started"] == 0
    assert "list" in (answer.get("rejected") or answer["skipped"][0]["reason"]), answer
