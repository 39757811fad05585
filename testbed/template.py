"""Read ``template.yaml`` the way the test bed needs it: resources, globals, intrinsic functions.

The test bed creates what the template declares (secrets, tables, buckets, state machines,
schedules) and routes Lambda tasks to the handlers the template names, so nothing about the
stack is repeated in the tests. Only the intrinsics this template uses are resolved: ``Ref``,
``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``, ``Fn::If`` (with ``Conditions``),
``Fn::Equals``, ``Fn::Not``, ``Fn::ToJsonString``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short-form tags into their long form."""


def _tag(name: str, split_dot: bool = False) -> Callable:
    def construct(loader: yaml.Loader, node: yaml.Node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if split_dot:
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _short, _long in (
    ("Ref", "Ref"),
    ("Sub", "Fn::Sub"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("Not", "Fn::Not"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Condition", "Condition"),
    ("Split", "Fn::Split"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("FindInMap", "Fn::FindInMap"),
):
    _CfnLoader.add_constructor(f"!{_short}", _tag(_long))
_CfnLoader.add_constructor("!GetAtt", _tag("Fn::GetAtt", split_dot=True))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as a fresh dict (parsed once per file version: YAML parsing costs ~0.3 s)."""
    stat = Path(path).stat()
    return copy.deepcopy(_parsed(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    with open(path) as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Template:
    """The template, with parameter values, and a resolver for intrinsic functions."""

    doc: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    stack_name: str = "okta-auth0-sync-test"
    region: str = "us-east-1"
    account: str = "123456789012"
    # Physical ids/attributes of resources, filled in by whoever creates them.
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEMPLATE, parameters: Mapping[str, str] | None = None, **kw) -> Template:
        doc = load_template(path)
        values = {name: str(spec["Default"]) for name, spec in doc.get("Parameters", {}).items() if "Default" in spec}
        values.update(parameters or {})
        missing = [p for p in doc.get("Parameters", {}) if p not in values]
        if missing:
            raise ValueError(f"template parameters without a value: {', '.join(missing)}")
        return cls(doc=doc, parameters=values, **kw)

    # -- resources ---------------------------------------------------------------------------
    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.doc["Resources"]

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {
            name: res
            for name, res in self.resources.items()
            if res["Type"] in types and self.condition_holds(res.get("Condition"))
        }

    def function(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with ``Globals.Function`` merged in (maps merged, scalars overridden)."""
        props = copy.deepcopy(self.doc.get("Globals", {}).get("Function", {}))
        for key, value in self.resources[logical_id]["Properties"].items():
            if isinstance(value, dict) and isinstance(props.get(key), dict):
                props[key] = _merge(props[key], value)
            else:
                props[key] = copy.deepcopy(value)
        return props

    def condition_holds(self, name: str | None) -> bool:
        if name is None:
            return True
        return bool(self.resolve(self.doc.get("Conditions", {})[name]))

    # -- intrinsics --------------------------------------------------------------------------
    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }.get(name)

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            spec = self.doc["Parameters"][name]
            value = self.parameters[name]
            return (
                value.split(",")
                if spec.get("Type", "").startswith("List<") or spec.get("Type") == "CommaDelimitedList"
                else value
            )
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.refs:
            return self.refs[name]
        if name in self.resources:
            return self.physical_default(name)
        raise KeyError(f"Ref to unknown name {name}")

    def physical_default(self, logical_id: str) -> str:
        """The physical id a resource gets when nobody assigned one (functions: their logical id)."""
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::Serverless::Function":
            return logical_id
        if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{logical_id}"
        return f"{self.stack_name}-{logical_id}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        if (logical_id, attribute) in self.attrs:
            return self.attrs[(logical_id, attribute)]
        kind = self.resources[logical_id]["Type"]
        if attribute == "Arn" and kind == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{self.region}:{self.account}:function:{logical_id}"
        if attribute == "Arn" and kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.ref(logical_id)}"
        if attribute == "Arn" and kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{self.region}:{self.account}:log-group:{logical_id}:*"
        if attribute == "Arn" and kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{self.ref(logical_id)}"
        if attribute == "Arn" and kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{self.region}:{self.account}:{self.ref(logical_id)}"
        if attribute == "Name":
            return self.ref(logical_id)
        return f"{self.ref(logical_id)}.{attribute}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition_holds(cond) else no)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Condition":
                return self.condition_holds(arg)
            if key == "Fn::ToJsonString":
                return json.dumps(self.resolve(arg), separators=(",", ":"))
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else copy.deepcopy(value)
        )
    return out
