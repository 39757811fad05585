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
