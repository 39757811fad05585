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
