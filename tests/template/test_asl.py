"""Every ASL file: the graph is sound (targets exist, every state reachable, something ends),
its ${placeholders} are exactly the template's DefinitionSubstitutions, and moto's ASL parser
accepts it. The ASL engines do not catch dangling targets; this does."""

import json
import re
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync_testbed.template import ROOT, Template

ASL_FILES = sorted((ROOT / "statemachines").glob("*.asl.json"))
TEMPLATE = Template.load(parameters={"OktaDomain": "o.example", "Auth0Domain": "a.example"})
MACHINES = {
    name: res["Properties"]
    for name, res in TEMPLATE.resources.items()
    if res["Type"] == "AWS::Serverless::StateMachine"
}


def scopes(definition: dict, path: str = "$"):
    """Yield (path, scope) for the top level and every Map/Parallel body, recursively."""
    yield path, definition
    for name, state in definition["States"].items():
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from scopes(state[key], f"{path}.{name}")
        for i, branch in enumerate(state.get("Branches", [])):
            yield from scopes(branch, f"{path}.{name}[{i}]")


def targets(state: dict) -> list[str]:
    out = [state[k] for k in ("Next", "Default") if k in state]
    out += [c["Next"] for c in state.get("Choices", [])]
    out += [c["Next"] for c in state.get("Catch", [])]
    return out


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_graph_is_sound(path: Path):
    definition = json.loads(path.read_text())
    for where, scope in scopes(definition):
        states = scope["States"]
        assert scope["StartAt"] in states, f"{where}: StartAt {scope['StartAt']} missing"
        for name, state in states.items():
            for target in targets(state):
                assert target in states, f"{where}.{name}: target {target} does not exist"
            ends = (
                state.get("End") or state["Type"] in ("Succeed", "Fail") or "Next" in state or state["Type"] == "Choice"
            )
            assert ends, f"{where}.{name}: neither Next nor End"
        reachable, frontier = set(), [scope["StartAt"]]
        while frontier:
            name = frontier.pop()
            if name not in reachable:
                reachable.add(name)
                frontier.extend(targets(states[name]))
        assert reachable == set(states), f"{where}: unreachable states {set(states) - reachable}"
        assert any(s.get("End") or s["Type"] in ("Succeed", "Fail") for s in states.values()), f"{where}: no end"


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_task_retries_and_catches(path: Path):
    definition = json.loads(path.read_text())
    for where, scope in scopes(definition):
        for name, state in scope["States"].items():
            if state["Type"] == "Task":
                assert state.get("Retry"), f"{where}.{name}: no Retry"
                assert state.get("Catch"), f"{where}.{name}: no Catch"
                for retry in state["Retry"]:
                    assert retry.get("JitterStrategy") == "FULL", f"{where}.{name}: retry without jitter"


def test_every_asl_file_is_deployed_and_substitutions_match():
    used = {}
    for name, props in MACHINES.items():
        text = (ROOT / props["DefinitionUri"]).read_text()
        placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
        assert placeholders == set(props.get("DefinitionSubstitutions", {})), name
        used[props["DefinitionUri"]] = name
    assert {f"statemachines/{p.name}" for p in ASL_FILES} == set(used)


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_moto_parses_the_definition(name):
    props = MACHINES[name]
    text = (ROOT / props["DefinitionUri"]).read_text()
    for key in props.get("DefinitionSubstitutions", {}):
        text = text.replace("${" + key + "}", f"arn:aws:lambda:us-east-1:123456789012:function:{key}")
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        sfn.create_state_machine(name=name, definition=text, roleArn="arn:aws:iam::123456789012:role/r")
