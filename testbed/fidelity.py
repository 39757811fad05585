"""Where moto is less strict than AWS, and the test bed makes it as strict.

**DynamoDB item writes are atomic.** DynamoDB evaluates a ``ConditionExpression`` and applies the
update as one indivisible step per item; concurrent conditional writes to one item are
linearisable. moto's backend is plain Python: under threads, one ``UpdateItem`` can observe
another half-applied (an item that exists with only its key). The ledger and the token cache's
lease rely on the real guarantee, so the test bed serialises moto's item-level DynamoDB
operations with one lock, which is exactly the guarantee AWS gives (and no stronger: reads and
writes still interleave freely between calls).

**Only boto3 is mocked.** moto also patches the ``requests`` library so that ``requests`` calls to
AWS URLs reach its backends, matching every request against ~2,000 URL patterns first. Nothing
here calls AWS through ``requests`` (boto3 goes through moto's botocore stubber, which stays),
while every Okta and Auth0 call does go through ``requests`` to the loopback sandboxes: under
load that matching was 13 % of the test bed's CPU, so the test bed switches it off.
"""

from __future__ import annotations

import collections
import contextvars
import copy
import functools
import queue
import threading
import traceback
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_ITEM_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
)
_lock = threading.RLock()
_depth = 0


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    call.__wrapped_by_testbed__ = True  # type: ignore[attr-defined]
    return call


@contextmanager
def atomic_dynamodb_items() -> Iterator[None]:
    """While active, every moto DynamoDB item operation runs under one lock (re-entrant, nestable)."""
    global _depth
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    # The backend's item operations, and the whole request (moto serialises the response from the
    # live item objects after the backend call returns).
    targets = [(DynamoDBBackend, name) for name in _ITEM_OPERATIONS] + [(DynamoHandler, "call_action")]
    with _lock:
        _depth += 1
        originals = []
        if _depth == 1:
            for cls, name in targets:
                method = cls.__dict__.get(name)
                if method is not None and not getattr(method, "__wrapped_by_testbed__", False):
                    originals.append((cls, name, method))
                    setattr(cls, name, _serialised(method))
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            for cls, name, method in originals:
                setattr(cls, name, method)


class _NestedPatch:
    """``owner.name`` replaced while at least one caller is inside :meth:`applied` (nestable,
    thread-safe under ``lock``): the first one in installs the replacement, the last one out puts
    the original back."""

    def __init__(self, lock: Any) -> None:
        self.lock, self.depth, self._original = lock, 0, None

    @contextmanager
    def applied(self, owner: type, name: str, replacement: Callable[..., Any]) -> Iterator[None]:
        with self.lock:
            self.depth += 1
            if self.depth == 1:
                self._original = owner.__dict__[name]
                setattr(owner, name, replacement)
        try:
            yield
        finally:
            with self.lock:
                self.depth -= 1
                if self.depth == 0:
                    setattr(owner, name, self._original)


_building = threading.RLock()
_client_building = _NestedPatch(_building)


@contextmanager
def boto3_clients_built_one_at_a_time() -> Iterator[None]:
    """Every container of the stack shares this process, so they share ``boto3.DEFAULT_SESSION``
    (moto's Step Functions tasks use it too); on Lambda each container has its own. A botocore
    Session is not thread-safe while it builds a client, and concurrent first invocations did
    build clients at once (a task then failed with States.Runtime under load). While active,
    clients are built one at a time (a few ms each); using them stays concurrent. Nestable."""
    from boto3.session import Session

    original = Session.__dict__["client"]

    @functools.wraps(original)
    def client(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _building:
            return original(self, *args, **kwargs)

    with _client_building.applied(Session, "client", client):
        yield


@contextmanager
def requests_library_unpatched() -> Iterator[None]:
    """Undo moto's ``requests`` patching while active (boto3 stays mocked)."""
    from moto.core.models import responses_mock

    responses_mock.stop()
    try:
        yield
    finally:
        responses_mock.start()


@contextmanager
def requests_routes_not_registered() -> Iterator[None]:
    """Around ``mock_aws().start()``: moto registers ~1,300 ``requests`` routes (every AWS URL
    pattern, once per HTTP method) on every start, a quarter of the CPU of starting a stack, for
    the ``requests`` patching that :func:`requests_library_unpatched` turns off right after."""
    from moto.core import models

    register, route = models.responses_mock.add, models.CallbackResponse
    models.responses_mock.add = lambda *args, **kwargs: None  # type: ignore[method-assign]
    models.CallbackResponse = lambda *args, **kwargs: None  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        models.responses_mock.add, models.CallbackResponse = register, route  # type: ignore[method-assign]


@contextmanager
def cheaper_fakes() -> Iterator[None]:
    """Every speed-up below that changes no behaviour and is not already part of a
    ``LocalDeployment``: for a test session or a benchmark's whole run (enter it before any moto
    mock; ``tests/conftest.py`` and the benches do)."""
    with (
        botocore_data_parsed_once(),
        botocore_handlers_checked_once(),
        botocore_event_aliases_shared(),
        dynamodb_expressions_parsed_once(),
        moto_response_keys_resolved_once(),
        moto_actions_listed_once(),
        proxy_lookup_without_decoding(),
        moto_backends_found_without_a_lock(),
    ):
        yield


@contextmanager
def moto_backends_found_without_a_lock() -> Iterator[None]:
    """Every moto request finds its service's backend with ``backends[account][region]``, and
    moto's ``BackendDict`` takes one process-wide lock for each such lookup, then scans the list
    of backends in use with Python-level ``__eq__``. Thousands of execution threads queued on
    that lock: in a burst of 3,000 executions, more than half of all threads at a time waited
    there. A backend, once created, stays until moto's reset (which clears the account's entry
    and the list together, at the end of a mock), so an account already present is returned
    directly; a missing one still goes through moto's lookup, lock and all."""
    from moto.core.base_backend import BackendDict

    original = BackendDict.__dict__["__getitem__"]
    present = dict.__getitem__

    def __getitem__(self: Any, account_id: str) -> Any:
        try:
            return present(self, account_id)
        except KeyError:
            return original(self, account_id)

    BackendDict.__getitem__ = __getitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        BackendDict.__getitem__ = original  # type: ignore[method-assign]


@contextmanager
def botocore_data_parsed_once() -> Iterator[None]:
    """Parse each of botocore's JSON data files once per process, not once per ``Session``.

    Every new botocore ``Session`` parses ``endpoints.json`` (1.2 MB) and each service model it
    builds a client for. A test session makes hundreds of new Sessions: moto swaps
    ``boto3.DEFAULT_SESSION`` for each mock, and Powertools builds one per ``SecretsProvider``,
    which every simulated cold start drops. That parsing was ~15 % of the suite's CPU.

    What a loader returns is shared by every client of its Session already (botocore's own
    per-loader cache), so sharing it between Sessions changes nothing a client sees: the same
    files, merged with the same extras. Loaders of another kind keep their own copies (moto's
    merges its ``moto-extras`` into the service models it serves; botocore's clients never see
    them), as do loaders with other search paths.
    """
    from botocore.loaders import Loader

    original = Loader.__dict__["load_data_with_path"]
    loaded: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()

    def load_data_with_path(self: Any, name: str) -> Any:
        key = (type(self), tuple(self.search_paths), name)
        try:
            return loaded[key]
        except KeyError:
            pass
        found = original(self, name)  # raises DataNotFoundError as before; nothing is kept then
        with lock:
            return loaded.setdefault(key, found)

    Loader.load_data_with_path = load_data_with_path  # type: ignore[method-assign]
    try:
        yield
    finally:
        Loader.load_data_with_path = original  # type: ignore[method-assign]


@contextmanager
def botocore_handlers_checked_once() -> Iterator[None]:
    """Check once per function, not once per ``Session``, that an event handler takes ``**kwargs``.

    Every new botocore ``Session`` registers its ~100 built-in handlers, and botocore checks each
    with ``inspect.getfullargspec`` (``botocore.hooks.accepts_kwargs``): about 2 % of the suite's
    CPU, since simulated cold starts build Sessions by the hundred. The answer depends on the
    function alone, so it is kept per function (a bound method's function; weakly, so handlers
    made on the fly are not kept alive); other callables are checked every time, as before.
    """
    import types

    from botocore import hooks

    original = hooks.accepts_kwargs
    known: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def accepts_kwargs(func: Any) -> Any:
        target = func.__func__ if isinstance(func, types.MethodType) else func
        if not isinstance(target, types.FunctionType):
            return original(func)
        try:
            return known[target]
        except KeyError:
            answer = known[target] = original(func)
            return answer

    hooks.accepts_kwargs = accepts_kwargs
    try:
        yield
    finally:
        hooks.accepts_kwargs = original


@contextmanager
def botocore_event_aliases_shared() -> Iterator[None]:
    """One cache of aliased event names per set of aliases, not one per client.

    botocore's ``EventAliaser`` rewrites every event name it emits or registers (``s3`` to
    ``s3api`` and the like) and caches the answer per instance; each new client copies the
    session's aliaser, and simulated cold starts build clients by the hundred, so most lookups
    started cold: about 2 % of the suite's CPU. The answer depends on the name and the aliases
    alone, so aliasers with equal aliases now share one cache."""
    from botocore.hooks import EventAliaser

    original = EventAliaser.__dict__["__init__"]
    caches: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}

    def __init__(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        original(self, event_emitter, event_aliases)
        key = tuple(sorted(self._event_aliases.items()))
        self._alias_name_cache = caches.setdefault(key, {})

    EventAliaser.__init__ = __init__  # type: ignore[method-assign]
    try:
        yield
    finally:
        EventAliaser.__init__ = original  # type: ignore[method-assign]


@contextmanager
def dynamodb_expressions_parsed_once() -> Iterator[None]:
    """Make moto's DynamoDB cheaper per request, without changing what it does: parse each
    ``UpdateExpression`` and tokenise each ``ConditionExpression`` once, not on every request.

    moto parses an update expression twice per ``UpdateItem`` (once to check the placeholders,
    once to apply it) and tokenises the condition twice, character by character: a third of the
    cost of the ledger's conditional writes. Both depend on the expression text alone. The parsed
    update expression is never modified (moto's validator works on a deep copy of it), and the
    condition's tokens are immutable named tuples, handed out in a fresh deque each time. An
    invalid expression raises as before and is not kept.

    Validating an update walks the expression ten times (one walker per check), and each walker
    rebuilt its table of node types and handlers for every node it visited; the table of a
    walker never changes (bound methods of the walker), so each builds it once.

    The validator works on a copy of the parsed expression made with ``copy.deepcopy``, generic
    and slow (a memo, a reduce protocol per object); :func:`copy_expression_tree` makes the same
    copy node by node (``validators.deepcopy`` is the name it uses, for nothing but copying
    expression trees and their values).
    """
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.__dict__["make"]
    lex = ConditionExpressionParser.__dict__["_lex_condition_expression"]
    walker_types = DepthFirstTraverser.__dict__["nodes_to_be_processed"]
    walker_process = DepthFirstTraverser.__dict__["process"]

    def nodes_to_be_processed(self: Any) -> Any:
        types = self.__dict__.get("_testbed_node_types")
        if types is None:
            types = self.__dict__["_testbed_node_types"] = walker_types(self)
        return types

    def process(self: Any, node: Any) -> Any:
        handlers = self.__dict__.get("_testbed_handlers")
        if handlers is None:
            handlers = self.__dict__["_testbed_handlers"] = tuple(self._processing_map().items())
        for node_type, handler in handlers:
            if isinstance(node, node_type):
                return handler(node)
        return None

    @functools.lru_cache(maxsize=1024)
    def parsed(cls: type, expression: str) -> Any:
        return make.__func__(cls, expression)

    @functools.lru_cache(maxsize=1024)
    def tokens(expression: str) -> tuple[Any, ...]:
        return tuple(lex(ConditionExpressionParser(expression, {}, {})))

    def cached_lex(self: Any) -> Any:
        return collections.deque(tokens(self.condition_expression))

    UpdateExpressionParser.make = classmethod(parsed)  # type: ignore[method-assign,assignment]
    ConditionExpressionParser._lex_condition_expression = cached_lex  # type: ignore[method-assign]
    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]
    DepthFirstTraverser.process = process  # type: ignore[method-assign]
    validators.deepcopy = copy_expression_tree
    try:
        yield
    finally:
        UpdateExpressionParser.make = make  # type: ignore[method-assign]
        ConditionExpressionParser._lex_condition_expression = lex  # type: ignore[method-assign]
        DepthFirstTraverser.nodes_to_be_processed = walker_types  # type: ignore[method-assign]
        DepthFirstTraverser.process = walker_process  # type: ignore[method-assign]
        validators.deepcopy = copy.deepcopy


_SHARED = (str, int, float, bool, type(None))  # immutable: a copy may share them


def copy_expression_tree(value: Any) -> Any:
    """What ``copy.deepcopy`` returns for a moto expression tree, built node by node: every node a
    new object of its class with its attributes copied, its children copied the same way, and its
    ``parent`` the copy of its parent. Immutable leaves (names, placeholders, indexes) are shared;
    any other value (a ``DynamoType``) is deep-copied. Anything else, and a tree with a node whose
    ``parent`` is not the node above it, is left to ``copy.deepcopy``."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if not isinstance(value, Node):
        return copy.deepcopy(value)
    try:
        return _copy_node(value, Node, None, None, {})
    except _NotATree:
        return copy.deepcopy(value)


class _NotATree(Exception):
    pass


def _copy_node(node: Any, node_type: type, parent: Any, parent_clone: Any, memo: dict[int, Any]) -> Any:
    clone = object.__new__(type(node))
    for key, item in node.__dict__.items():
        if key == "parent":
            if item is not parent:
                raise _NotATree
            item = parent_clone
        elif key == "children" and isinstance(item, list):
            item = [
                _copy_node(c, node_type, node, clone, memo) if isinstance(c, node_type) else _copy_leaf(c, memo)
                for c in item
            ]
        else:
            item = _copy_leaf(item, memo)
        clone.__dict__[key] = item
    return clone


def _copy_leaf(value: Any, memo: dict[int, Any]) -> Any:
    return value if isinstance(value, _SHARED) else copy.deepcopy(value, memo)


@contextmanager
def moto_response_keys_resolved_once() -> Iterator[None]:
    """Make moto's response serialiser cheaper, without changing what it writes.

    For every member of every shape in a response, moto asks six alias providers which keys
    the value may sit under in its Python object (``Arn``, ``arn``, ``QueueArn``...), building
    each provider anew: a tenth of the CPU of a DynamoDB call. For a plain ``dict`` the answer
    depends only on the member's name and shape (a dict has no ``Meta`` aliases and its class
    name is always ``dict``), so it is worked out once per (picker, name, shape) and the keys
    are then looked up in the same order as before. Other objects go the original way.
    """
    from moto.core import serialize
    from moto.core.utils import MISSING, get_value

    picker = serialize.AttributePicker
    original = picker.__dict__["__call__"]
    resolved: dict[tuple[Any, ...], tuple[tuple[str, ...], Any, Any]] = {}

    def call(self: Any, context: Any) -> Any:
        obj = context.obj
        if type(obj) is not dict:
            return original(self, context)
        shape, providers = context.shape, self.alias_providers
        key = (type(self), id(providers), context.key, id(shape))
        entry = resolved.get(key)
        if entry is None or entry[1] is not shape or entry[2] is not providers:
            entry = resolved[key] = (tuple(self.get_possible_keys(context)), shape, providers)
        for possible_key in entry[0]:
            value = get_value(obj, possible_key, MISSING)
            if value is not MISSING:
                break
        else:
            value = None
        key_path = f"{context.key_path}.{context.key}"
        for transform_path, transform in self.response_transformers.items():
            if key_path.endswith(transform_path):
                value = transform(value)
                break
        return value

    picker.__call__ = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        picker.__call__ = original  # type: ignore[method-assign]


@contextmanager
def moto_actions_listed_once() -> Iterator[None]:
    """moto checks that a request's action is a method of the service's response class by listing
    the class's methods (``inspect.getmembers``) on every request; the list is made once per class."""
    from moto.core import responses

    original = responses.method_names_from_class

    @functools.lru_cache(maxsize=256)
    def method_names_from_class(cls: type) -> frozenset[str]:
        return frozenset(original(cls))

    responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]
    try:
        yield
    finally:
        responses.method_names_from_class = original


@contextmanager
def proxy_lookup_without_decoding() -> Iterator[None]:
    """``requests`` looks for proxy variables before every request, and the standard library
    does it by decoding every environment variable, twice per lookup: with the stack's ~40
    function variables that was a quarter of the cost of each Okta or Auth0 call made through
    the test bed. The answer is the same when read from the raw environment: no variable whose
    name ends in ``_proxy`` (in any case) means no proxies; otherwise the original lookup runs.
    """
    import os
    import urllib.request

    import requests.utils

    original = urllib.request.getproxies_environment
    originals = (urllib.request.getproxies, requests.utils.getproxies)

    def getproxies_environment() -> dict[str, str]:
        for name in list(os.environ._data):  # type: ignore[attr-defined]  # bytes names on POSIX
            if name[-6:].lower() == b"_proxy":
                return original()
        return {}

    urllib.request.getproxies_environment = getproxies_environment
    urllib.request.getproxies = getproxies_environment
    requests.utils.getproxies = getproxies_environment
    try:
        yield
    finally:
        urllib.request.getproxies_environment = original
        urllib.request.getproxies, requests.utils.getproxies = originals


_ends = threading.Condition()
_ends_seen = 0
_ends_announcing = _NestedPatch(_ends)


def executions_ended() -> int:
    """How many Step Functions executions have ended in this process so far (see below)."""
    return _ends_seen


def wait_for_an_execution_end(seen: int, timeout: float) -> None:
    """Return once an execution ends after :func:`executions_ended` said ``seen`` (or after
    ``timeout``)."""
    with _ends:
        _ends.wait_for(lambda: _ends_seen != seen, timeout)


@contextmanager
def execution_ends_announced() -> Iterator[None]:
    """moto runs each execution in a thread of its own and only records the outcome; a caller
    waiting for it had to poll ``DescribeExecution``, sleeping in between (up to 0.2 s too long
    per execution, and a full API call per poll). While active, every execution that ends
    notifies :func:`wait_for_an_execution_end`, after its status is recorded. Nestable."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.__dict__["terminated"]

    def terminated(self: Any) -> None:
        global _ends_seen
        try:
            original(self)
        finally:
            with _ends:
                _ends_seen += 1
                _ends.notify_all()

    with _ends_announcing.applied(BaseExecutionWorkerCommunication, "terminated", terminated):
        yield


_terminal_lock = threading.RLock()
_catch_matching = _NestedPatch(_terminal_lock)
_task_errors_seen = _NestedPatch(_terminal_lock)
#: Exceptions that moto's interpreter turned into ``States.Runtime`` inside a task (its own
#: internals failing, not a function's error), with their tracebacks: the newest few, for a test's
#: failure message (see :func:`interpreter_faults`).
_interpreter_faults: collections.deque[str] = collections.deque(maxlen=20)


def interpreter_faults() -> list[str]:
    """Tracebacks of the exceptions moto's interpreter turned into ``States.Runtime`` in a task
    since the process started (the newest 20)."""
    return list(_interpreter_faults)


@contextmanager
def step_functions_errors_as_aws() -> Iterator[None]:
    """Where moto's interpreter handles errors differently from AWS, make it do what AWS does.

    - **``States.ALL`` catches and retries neither ``States.Runtime`` nor
      ``States.DataLimitExceeded``**: in AWS both are terminal and end the execution; moto matched
      them, so a ``Catch`` on ``States.ALL`` led them to a ``Fail`` state whose ``ErrorPath`` then
      named a ``States.`` error, which moto refuses (``ValueError``: the execution failed with a
      cause about that, hiding the original error).
    - **An exception from moto's own code inside a task** (what it reports as ``States.Runtime``
      with only ``str(exception)`` as the cause) is kept with its traceback
      (:func:`interpreter_faults`), so that a test that sees such a failure can say where it came
      from. Nestable."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    terminal = (StatesErrorNameType.StatesRuntime, StatesErrorNameType.StatesStatesDataLimitExceeded)
    match_body, from_error = ErrorEqualsDecl.__dict__["_eval_body"], ExecutionState.__dict__["_from_error"]

    def _eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        if isinstance(error_name, StatesErrorName) and error_name.typ in terminal:
            env.stack.pop()
            env.stack.append(any(name == error_name for name in self.error_names))
            return
        match_body(self, env)

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, FailureEventException):
            _interpreter_faults.append("".join(traceback.format_exception(ex)))
        return from_error(self, env, ex)

    with (
        _catch_matching.applied(ErrorEqualsDecl, "_eval_body", _eval_body),
        _task_errors_seen.applied(ExecutionState, "_from_error", _from_error),
    ):
        yield


# Kept for the whole process: every stack of a test session parses the same definitions.
_caches: dict[str, Callable[..., Any]] = {}


def _parsed_programs(parse: Callable[..., Any]) -> Callable[..., Any]:
    return _caches.setdefault("programs", functools.lru_cache(maxsize=64)(parse))


def _compiled_paths(parse: Callable[..., Any]) -> Callable[..., Any]:
    return _caches.setdefault("paths", functools.lru_cache(maxsize=4096)(parse))


@contextmanager
def faster_step_functions() -> Iterator[None]:
    """Make moto's Step Functions interpreter cheaper per execution, without changing what it does:

    - parse each state machine definition once, not once per execution (the parsed program is
      immutable: every execution's state lives in its own ``Environment``);
    - compile each JSONPath once, not on every evaluation (``jsonpath_ng`` paths are immutable);
    - reuse one boto3 Lambda client for task invocations instead of building one per task.

    Together these were over a third of the CPU of a burst of executions on this machine.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path

    original_parse = AmazonStateLanguageParser.__dict__["parse"]
    original_path, original_client = json_path.parse, lambda_eval_utils.boto_client_for
    parse_program = _parsed_programs(original_parse.__func__)
    clients: dict[tuple[str, str], Any] = {}
    creating = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's backends ignore the task's role credentials, so one client per service will do.
        # Created under a lock: the first tasks of a burst of executions ask at once, and boto3's
        # default session must not build two clients at the same time (it is not thread-safe).
        key = (region, service)
        client = clients.get(key)
        if client is None:
            with creating:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original_client(region, service, state_credentials)
        return client

    AmazonStateLanguageParser.parse = staticmethod(parse_program)  # type: ignore[method-assign]
    json_path.parse = _compiled_paths(original_path)
    lambda_eval_utils.boto_client_for = client_for
    try:
        yield
    finally:
        AmazonStateLanguageParser.parse = original_parse  # type: ignore[method-assign]
        json_path.parse, lambda_eval_utils.boto_client_for = original_path, original_client


_operation_models = _NestedPatch(threading.Lock())


@contextmanager
def moto_operation_models_race_free() -> Iterator[None]:
    """moto's ``ServiceModel.operation_model`` caches its own ``OperationModel`` under the same
    instance-cache key as botocore's method it calls first, so for a moment the cache holds
    botocore's. A thread that reads it then gets an operation without ``http_trait``, and moto's
    router fails the request: a burst's first Lambda tasks, arriving together, ended an
    execution in ``States.Runtime`` ("'OperationModel' object has no attribute 'http_trait'").
    While active, the lookup and both writes happen under one lock. Nestable."""
    from moto.core.model import ServiceModel

    original = ServiceModel.__dict__["operation_model"]
    lock = threading.RLock()

    @functools.wraps(original)
    def operation_model(self: Any, operation_name: str) -> Any:
        with lock:
            return original(self, operation_name)

    with _operation_models.applied(ServiceModel, "operation_model", operation_model):
        yield


class _ReusedThread:
    """Stands in for the ``Thread`` moto starts for every task attempt: ``start()`` hands the
    target to an idle worker thread, or to a new one when none is idle. The target runs in a
    fresh ``contextvars.Context``, as it would in a new thread. Workers are daemons, as moto's
    threads are, so an attempt still running after its state's timeout never holds up exit."""

    # Idle workers. No lock: deque appends and pops are atomic, and a lock here was the next one a
    # burst's thousands of attempts queued on (each handover waiting for the interpreter lock).
    _idle: collections.deque[queue.SimpleQueue[Callable[[], None]]] = collections.deque()
    KEEP_IDLE = 512  # idle workers kept; one beyond that ends once its attempt is done

    def __init__(self, target: Callable[[], None], daemon: bool = True) -> None:
        self._target = target

    def start(self) -> None:
        try:
            worker = self._idle.pop()
        except IndexError:
            worker = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(worker,), name="sfn-task-attempt", daemon=True).start()
        worker.put(self._target)

    @classmethod
    def _serve(cls, jobs: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            contextvars.Context().run(jobs.get())
            if len(cls._idle) >= cls.KEEP_IDLE:
                return
            cls._idle.append(jobs)


class _Forgotten(list):  # type: ignore[type-arg]
    """moto's ``TMP_THREADS`` for the reused threads: it keeps every thread it is given (for
    LocalStack to join at shutdown); nothing joins them here, and a pooled stand-in need not stay."""

    def append(self, item: Any) -> None:
        pass


_attempt_threads = (_NestedPatch(threading.Lock()), _NestedPatch(threading.Lock()))


@functools.cache
def _check_attempts_start_one_thread() -> None:
    """Read moto's method once per process (every stack used to re-read its source file)."""
    import inspect

    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    source = inspect.getsource(execute_state.ExecutionState._evaluate_with_timeout)
    if "Thread(target=_exec_and_notify, daemon=True)" not in source or source.count("thread.") != 1:
        raise RuntimeError(
            "moto's ExecutionState._evaluate_with_timeout changed: review task_attempts_on_reused_threads"
        )


@contextmanager
def task_attempts_on_reused_threads() -> Iterator[None]:
    """moto's interpreter starts a new thread for every attempt of a Task state (to enforce
    ``TimeoutSeconds``) and keeps each one in a global list. A burst of throttled executions
    retries thousands of times a minute, each retry creating and ending a thread (system time
    under thousands of threads), and the list grew without end. While active, attempts run on reused
    daemon threads, each in a fresh context; the wait and its timeout are moto's own, unchanged.
    Nestable. Refuses to patch a moto whose method no longer starts its thread this way."""
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    _check_attempts_start_one_thread()
    thread, kept = _attempt_threads
    with (
        thread.applied(execute_state, "Thread", _ReusedThread),
        kept.applied(execute_state, "TMP_THREADS", _Forgotten()),
    ):  # type: ignore[arg-type]
        yield


@contextmanager
def powertools_state_per_invocation() -> Iterator[None]:
    """Powertools' Logger keys and Metrics buffers are process-wide. On Lambda a process serves
    one invocation at a time; here concurrent invocations share one process. So each invocation
    (thread) gets its own metric, dimension and metadata buffers, as each Lambda process has, and
    log formatting and key changes are serialised (keys of concurrent invocations may still mix in
    log lines, which no test reads per invocation)."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    lock = threading.RLock()
    names = ("format", "append_keys", "remove_keys", "clear_state")
    originals = [(LambdaPowertoolsFormatter, n, LambdaPowertoolsFormatter.__dict__[n]) for n in names]
    for cls, name, method in originals:
        setattr(cls, name, _locked(method, lock))
    buffers = ("metric_set", "dimension_set", "metadata_set")
    for name in buffers:
        setattr(AmazonCloudWatchEMFProvider, name, _per_thread(name))
    try:
        yield
    finally:
        for cls, name, method in originals:
            setattr(cls, name, method)
        for name in buffers:
            delattr(AmazonCloudWatchEMFProvider, name)


_threads = threading.local()


def _per_thread(name: str) -> property:
    """An instance attribute kept per thread: the value set in the thread that built the
    instance is each new thread's starting copy (default dimensions, say). Buffers are keyed by
    a weak reference, so a dead provider's buffers never pass to a new one at the same address."""

    def buffers(self: Any) -> dict[str, Any]:
        if not hasattr(_threads, "buffers"):
            _threads.buffers = weakref.WeakKeyDictionary()
        return _threads.buffers.setdefault(self, {})  # type: ignore[no-any-return]

    def current(self: Any) -> Any:
        mine = buffers(self)
        if name not in mine:
            mine[name] = dict(self.__dict__.get(name) or {})
        return mine[name]

    def assign(self: Any, value: Any) -> None:
        # Powertools hands every provider the same class-level dicts (``Metrics._metrics``): the
        # constructing thread gets its own copy too, or it would share them with every other.
        self.__dict__[name] = value
        buffers(self)[name] = dict(value or {})

    return property(current, assign)


def _locked(method: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return call
