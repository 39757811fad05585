"""The test bed's Step Functions error matching is AWS's: ``States.ALL`` neither catches nor
retries the terminal ``States.Runtime`` and ``States.DataLimitExceeded`` (moto's interpreter
matched them), and every other error matches as moto matched it."""

from types import SimpleNamespace

import pytest
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType as T,
)

from okta_auth0_sync_testbed import fidelity


def _matches(error_equals: list, error: object) -> bool:
    env = SimpleNamespace(stack=[error])
    ErrorEqualsDecl(error_equals)._eval_body(env)
    (answer,) = env.stack
    return answer


@pytest.mark.parametrize("terminal", [T.StatesRuntime, T.StatesStatesDataLimitExceeded])
def test_states_all_does_not_match_a_terminal_error(terminal):
    error, catch_all = StatesErrorName(terminal), [StatesErrorName(T.StatesALL)]
    assert _matches(catch_all, error), "moto alone matches it (the behaviour this seam corrects)"
    with fidelity.step_functions_errors_as_aws():
        assert not _matches(catch_all, error)
        assert _matches([StatesErrorName(terminal)], error), "named explicitly, it still matches"
    assert _matches(catch_all, error), "the seam is undone on leaving"


@pytest.mark.parametrize(
    ("error_equals", "error", "expected"),
    [
        ([StatesErrorName(T.StatesALL)], StatesErrorName(T.StatesTaskFailed), True),
        ([StatesErrorName(T.StatesALL)], CustomErrorName("LedgerContention"), True),
        ([StatesErrorName(T.StatesTaskFailed)], CustomErrorName("RateLimited"), True),
        ([CustomErrorName("RateLimited")], CustomErrorName("RateLimited"), True),
        ([CustomErrorName("RateLimited")], CustomErrorName("UpstreamUnavailable"), False),
        ([StatesErrorName(T.StatesTimeout)], StatesErrorName(T.StatesTaskFailed), False),
    ],
)
def test_other_errors_match_as_before(error_equals, error, expected):
    with fidelity.step_functions_errors_as_aws():
        assert _matches(error_equals, error) is expected


# -- DynamoDB: the validator's copy of an update expression ------------------------------------
UPDATE_EXPRESSIONS = [
    "SET #a = :a",
    "SET #a = if_not_exists(#a, :zero) + :one, #b.#c[2] = list_append(#b.#c, :l) REMOVE #d[0], #e",
    "ADD #n :one, #s :set DELETE #t :set",
    "SET #x = :x, #y = #y - :one, #m.#k = :v REMOVE #gone",
    "SET a.b.c[1][2].d = :v, e = if_not_exists(e, :l), f = list_append(:l, f)",
]


def _shape(node, parent=None, seen=None):
    from moto.dynamodb.parsing.ast_nodes import Node

    seen = set() if seen is None else seen
    assert node.parent is parent and id(node) not in seen
    seen.add(id(node))
    children = [_shape(c, node, seen) if isinstance(c, Node) else (type(c).__name__, c) for c in (node.children or [])]
    others = {k: v for k, v in vars(node).items() if k not in ("children", "parent")}
    return type(node), others, children


def _nodes(node):
    from moto.dynamodb.parsing.ast_nodes import Node

    yield node
    for child in node.children or []:
        if isinstance(child, Node):
            yield from _nodes(child)


@pytest.mark.parametrize("expression", UPDATE_EXPRESSIONS)
def test_the_expression_copy_is_deepcopys(expression):
    import copy

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    tree = UpdateExpressionParser.make(expression)
    copied = fidelity.copy_expression_tree(tree)
    assert _shape(copied) == _shape(copy.deepcopy(tree)) == _shape(tree)
    assert not {id(n) for n in _nodes(copied)} & {id(n) for n in _nodes(tree)}  # no node shared


def test_anything_but_a_whole_tree_is_left_to_deepcopy():
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    value = DynamoType({"L": [{"S": "a"}]})
    assert fidelity.copy_expression_tree(value) == value and fidelity.copy_expression_tree(value) is not value
    subtree = UpdateExpressionParser.make("SET #a = :a").children[0]  # has a parent: deepcopy copies it too
    copied = fidelity.copy_expression_tree(subtree)
    assert copied.parent is not None and copied.parent is not subtree.parent


class _Frame:
    def __init__(self) -> None:
        self.states = SimpleNamespace(reset=lambda input_value: None)
        self.stack: list = []
        self.ended = False

    def set_ended(self) -> None:
        self.ended = True


class _Env:
    """The little of moto's ``Environment`` that ``_evaluate_with_timeout`` touches."""

    def __init__(self, timeout: float) -> None:
        self.stack: list = [timeout]
        self.results: list = []
        self.states = SimpleNamespace(
            get_input=lambda: {},
            set_result=lambda value: None,
            reset=lambda input_value: self.results.append(input_value),
        )
        self.frames: list[_Frame] = []

    def open_frame(self) -> _Frame:
        self.frames.append(_Frame())
        return self.frames[-1]

    def close_frame(self, frame: _Frame) -> None:
        assert frame.ended


def _attempt(timeout: float, body):
    """One Task attempt through moto's own ``ExecutionState._evaluate_with_timeout``."""
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    def evaluate(frame):
        frame.stack.append(body())

    state = SimpleNamespace(
        timeout=SimpleNamespace(eval=lambda env: None),
        _eval_execution=evaluate,
        _is_language_query_jsonpath=lambda: True,
        assign_decl=None,
        result_selector=None,
        result_path=None,
    )
    env = _Env(timeout)
    ExecutionState._evaluate_with_timeout(state, env)
    (result,) = env.results
    return result


def test_task_attempts_reuse_threads_with_moto_timeout_and_a_fresh_context():
    import contextvars
    import threading
    import time

    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
    from moto.stepfunctions.parser.utils import TMP_THREADS

    marker = contextvars.ContextVar("marker", default="unset")
    kept_before = len(TMP_THREADS)

    def attempt_body():
        seen = marker.get()
        marker.set("set by an earlier attempt")
        return threading.get_ident(), seen

    with fidelity.task_attempts_on_reused_threads():
        first, seen_first = _attempt(5.0, attempt_body)
        time.sleep(0.05)  # the worker is back in the idle list
        second, seen_second = _attempt(5.0, attempt_body)
        with pytest.raises(EvalTimeoutError):
            _attempt(0.05, lambda: time.sleep(0.5))  # still moto's timeout: the attempt outlives the wait
    assert first == second != threading.get_ident(), "the second attempt ran on the first one's thread"
    assert seen_first == seen_second == "unset", "each attempt starts in a fresh context, as in a new thread"
    assert len(TMP_THREADS) == kept_before, "no attempt kept in moto's global list"

    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    assert execute_state.Thread is threading.Thread, "moto's own thread is back on leaving"
    assert _attempt(5.0, attempt_body)[0] != first  # unpatched: a new thread per attempt


def _operations_misread(trials: int = 5, *, until_one: bool = False) -> int:
    """Lookups of a fresh moto service model's operations, by 16 threads at once, that returned
    botocore's OperationModel instead of moto's (switching threads every microsecond)."""
    import sys
    import threading

    from moto.core.model import OperationModel, ServiceModel
    from moto.core.utils import get_service_model

    description = get_service_model("lambda")._service_description
    misread: list[str] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(trials):
            model = ServiceModel(description, "lambda")
            barrier = threading.Barrier(16)

            def look_up(model=model, barrier=barrier):
                barrier.wait()
                misread.extend(
                    n for n in model.operation_names if not isinstance(model.operation_model(n), OperationModel)
                )

            threads = [threading.Thread(target=look_up) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if misread and until_one:
                break
    finally:
        sys.setswitchinterval(interval)
    return len(misread)


def test_moto_operation_models_are_never_botocores_under_threads():
    with fidelity.moto_operation_models_race_free():
        assert _operations_misread() == 0
    assert _operations_misread(trials=50, until_one=True) > 0, "moto alone misreads (the race this seam closes)"


def test_a_moto_backend_in_use_is_found_without_moto_lock():
    import threading

    from moto.core.base_backend import BackendDict, backend_lock
    from moto.sqs.models import SQSBackend

    backends = BackendDict(SQSBackend, "sqs")
    account = backends["111122223333"]  # created by moto's own lookup
    try:
        with fidelity.moto_backends_found_without_a_lock():
            found: list = []
            with backend_lock:  # held by another thread: a present account must not wait for it
                reader = threading.Thread(target=lambda: found.append(backends["111122223333"]))
                reader.start()
                reader.join(timeout=5)
                assert found == [account] and found[0] is account
            created = backends["444455556666"]  # missing: still created by moto, and tracked
            assert backends["444455556666"] is created and backends in BackendDict._instances
        assert backends["111122223333"] is account  # moto's lookup is back
    finally:
        with backend_lock:
            backends.clear()
            if backends in BackendDict._instances:
                BackendDict._instances.remove(backends)


EVENT_NAMES = [
    "before-call.dynamodb.GetItem",
    "provide-client-params.elasticloadbalancing.DescribeLoadBalancers",
    "before-sign.runtime.sagemaker.InvokeEndpoint",
    "after-call.api.pricing.GetProducts",
    "needs-retry.secretsmanager.GetSecretValue",
]


def test_event_aliasers_share_one_cache_and_answer_as_botocore():
    from botocore.hooks import EventAliaser, HierarchicalEmitter

    before = EventAliaser.__init__  # the test session's own seam may be active already
    expected = [EventAliaser(HierarchicalEmitter())._alias_event_name(n) for n in EVENT_NAMES]
    assert expected != EVENT_NAMES, "some of the names are aliased"
    with fidelity.botocore_event_aliases_shared():
        first, second = EventAliaser(HierarchicalEmitter()), EventAliaser(HierarchicalEmitter())
        assert [first._alias_event_name(n) for n in EVENT_NAMES] == expected
        assert second._alias_name_cache is first._alias_name_cache and set(EVENT_NAMES) <= set(second._alias_name_cache)
        assert [second._alias_event_name(n) for n in EVENT_NAMES] == expected
        other = EventAliaser(HierarchicalEmitter(), {"dynamodb": "ddb"})
        assert other._alias_name_cache is not first._alias_name_cache
        assert other._alias_event_name(EVENT_NAMES[0]) == "before-call.ddb.GetItem"
    assert EventAliaser.__init__ is before, "put back on leaving"
