"""Fuzzing the invoke API (the real ``functions/invoke_api/app.py``) with REST API proxy events:
any method, path and path parameter, query, headers, and bodies of every kind (malformed JSON,
other encodings, base64 that is not, deep nesting, huge, wrong types, near-valid mutations).

For any request: an answer below 500, never an exception; a Step Functions execution started only
for a valid request (202) from a caller whose token has the route's scope (the authorizer's
context), with exactly the input the contract gives (``POST /provisioning/runs``:
``{role_id, group_id, dry_run, recheck: false, requested_by}``; ``POST /users/{id}/sync``:
``{okta_user: {id}, requested_by}``), and nothing started for any other answer; a 403 only for a
token without the route's scope, with the RFC 6750 ``insufficient_scope`` challenge in the
caller's scheme naming it. Generated valid requests are answered 202. Step Functions is a
recorder (``start_execution``/``describe_execution``); every other AWS call or HTTP request is
refused (``support.no_outbound``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import strategies as st

from okta_auth0_sync.store import aws
from tests.fuzz import support, tally
from tests.fuzz.support import (
    ACCOUNT,
    REGION,
    Context,
    OutboundAttempt,
    execution_names,
    group_ids,
    hostile_strings,
    json_values,
    okta_ids,
    role_ids,
    texts,
)

ENTRY_POINT = "functions/invoke_api"
no_outbound = support.no_outbound
module_env = support.module_env

PROVISIONING_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:okta-auth0-sync-provisioning"
DEACTIVATION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:okta-auth0-sync-deactivation"
CALLER = "0oaOperatorApp00000"
ROLE_ID = re.compile(r"rol_[A-Za-z0-9]{1,64}")
GROUP_ID = re.compile(r"00g[A-Za-z0-9]{1,64}")
OKTA_USER_ID = re.compile(r"00u[A-Za-z0-9]{1,61}")


class FakeStepFunctions:
    """Step Functions as the API uses it: executions started (recorded), and described."""

    class _Missing(Exception):
        response = {"Error": {"Code": "ExecutionDoesNotExist", "Message": "no such execution"}}

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        self.started.append({"arn": stateMachineArn, "name": name, "input": json.loads(input)})
        return {"executionArn": stateMachineArn.replace(":stateMachine:", ":execution:") + ":" + name}

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        from datetime import UTC, datetime

        if not any(executionArn.endswith(":" + s["name"]) for s in self.started):
            raise self._Missing()
        return {"status": "RUNNING", "startDate": datetime(2026, 11, 22, tzinfo=UTC)}


@pytest.fixture(scope="module")
def api(module_env, no_outbound):
    for name, value in {
        "PROVISIONING_STATE_MACHINE_ARN": PROVISIONING_ARN,
        "DEACTIVATION_STATE_MACHINE_ARN": DEACTIVATION_ARN,
        "POWERTOOLS_METRICS_NAMESPACE": "Fuzz",
        "POWERTOOLS_SERVICE_NAME": "fuzz",
    }.items():
        module_env.setenv(name, value)
    sfn = FakeStepFunctions()
    module = support.load_handler("invoke_api")

    def client(service: str) -> Any:
        if service == "stepfunctions":
            return sfn
        no_outbound.refuse(f"aws:{service}")

    module_env.setattr(aws, "client", client)
    return module, sfn


# ----------------------------------------------------------------------------------------- requests
ROUTES = {
    "provision": ("POST", "/provisioning/runs", "/provisioning/runs", None),
    "sync": ("POST", "/users/{oktaUserId}/sync", "/users/{}/sync", "oktaUserId"),
    "status": ("GET", "/executions/{executionId}", "/executions/{}", "executionId"),
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "post", "Post", "CONNECT", "TRACE"]


def proxy_event(
    method: str,
    resource: str,
    path: str,
    *,
    path_parameters: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
    base64_encoded: bool = False,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/json",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        **(headers or {}),
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "stage": "v1",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "path": "/v1" + path,
            "resourcePath": resource,
            "httpMethod": method,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.10"},
            "requestTimeEpoch": 1795300000000,
            "authorizer": {"principalId": CALLER, "client_id": CALLER, "scopes": "sync.provision sync.read sync.users"}
            if authorizer is None
            else authorizer,
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


valid_bodies = st.fixed_dictionaries({"role_id": role_ids, "group_id": group_ids}, optional={"dry_run": st.booleans()})


def _encode(text: str, encoding: str) -> tuple[str, bool]:
    """A body as API Gateway passes it: text as is, or any bytes base64-encoded."""
    if encoding == "text":
        return text, False
    return base64.b64encode(text.encode(encoding, "surrogatepass")).decode(), True


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str | None, bool]:
    """A body (and its isBase64Encoded flag): valid, near-valid, any JSON, not JSON, not UTF-8,
    not base64, deep, huge."""
    kind = draw(
        st.sampled_from(["valid", "mutated", "json", "text", "bytes", "encoded", "bad-base64", "deep", "huge", "none"])
    )
    if kind == "valid":
        return _encode(json.dumps(draw(valid_bodies)), draw(st.sampled_from(["text", "utf-8"])))
    if kind == "mutated":
        return support.to_json(support.mutate(draw, draw(valid_bodies))), False
    if kind == "json":
        return support.to_json(draw(json_values)), False
    if kind == "text":
        return draw(
            texts | st.sampled_from(['{"role_id"', "{role_id", "{'role_id': 1}", "[", "}", "NaN", "\ufeff{}"])
        ), False
    if kind == "bytes":
        return base64.b64encode(draw(st.binary(max_size=256))).decode(), True
    if kind == "encoded":
        body = json.dumps(draw(valid_bodies), ensure_ascii=False)
        return _encode(body, draw(st.sampled_from(["utf-16", "utf-32", "utf-16-le", "latin-1", "cp1252", "utf-8-sig"])))
    if kind == "bad-base64":
        return draw(st.sampled_from(["{}", "not base64!", "e30", "e30==x", "===", "\u00e9"])), True
    if kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=100_000))
        opener = draw(st.sampled_from(["[", '{"a":']))
        return opener * depth + ("]" if opener == "[" else "}") * depth, False
    if kind == "huge":
        return json.dumps(
            {**draw(valid_bodies), "pad": "x" * draw(st.sampled_from([16_000, 70_000, 3_000_000]))}
        ), False
    return draw(st.sampled_from([None, ""])), False


def path_values(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        valid,
        hostile_strings,
        texts,
        valid.map(lambda v: v + "/"),
        valid.map(lambda v: v.upper()),
        st.sampled_from(["%2e%2e", "..", ".", "me", "00u1%2F..%2F", "00u1?x=1", "00u1#f", "00u1 00u2"]),
    )


headers = st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", "CONTENT-TYPE", "Accept", "X-Forwarded-For", "Host"]) | texts,
    texts,
    max_size=4,
)
SCOPES = ["sync.provision", "sync.users", "sync.read", "sync.reconcile"]
authorizers = st.one_of(
    st.none(),  # the usual: the authorizer's context with the caller's client id and scopes
    st.just({}),
    st.fixed_dictionaries({"client_id": texts}),
    st.fixed_dictionaries(  # a token with some scopes, Bearer or DPoP
        {
            "client_id": st.just(CALLER),
            "scopes": st.lists(st.sampled_from(SCOPES), unique=True).map(" ".join) | texts,
            "token_type": st.sampled_from(["Bearer", "DPoP"]) | texts,
        }
    ),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A proxy event, and whether it is valid by construction (then it must be answered 202)."""
    route = draw(st.sampled_from([*ROUTES, "other"]))
    valid = draw(st.booleans())
    if route == "other":
        path = draw(
            texts.map(lambda t: "/" + t) | st.sampled_from(["/", "//provisioning/runs", "/provisioning/runs/x"])
        )
        event = proxy_event(draw(st.sampled_from(METHODS)), "/{proxy+}", path, body=draw(bodies())[0])
        return event, False
    method, resource, template, parameter = ROUTES[route]
    value = None
    if parameter:
        valid_value = okta_ids() if route == "sync" else st.builds("provisioning.{}".format, execution_names)
        value = draw(valid_value if valid else path_values(valid_value))
        path = template.format(value)
    else:
        path = template
    body, encoded = _encode(json.dumps(draw(valid_bodies)), "text") if valid else draw(bodies())
    event = proxy_event(
        method if valid else draw(st.sampled_from([method, *METHODS])),
        resource,
        path,
        path_parameters={parameter: value} if parameter else None,
        headers=draw(headers),
        query=draw(st.none() | st.dictionaries(texts, texts, max_size=3)),
        body=body if route == "provision" or not valid else None,
        base64_encoded=encoded,
        authorizer=None if valid else draw(authorizers),
    )
    return event, valid and route in ("provision", "sync")


# ------------------------------------------------------------------------------------------ oracle
def _body_object(event: dict[str, Any]) -> Any:
    """The body as the contract reads it: UTF-8 JSON (base64 when flagged), or None when it is not."""
    body = event["body"]
    if body in (None, ""):
        return {}
    try:
        raw = base64.b64decode(body, validate=True) if event["isBase64Encoded"] else body.encode("utf-8")
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in ``value`` (a parsed body), without recursion."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def granted(event: dict[str, Any]) -> set[str]:
    """The scopes of the caller's token, as the authorizer's context gives them (space separated)."""
    scopes = (event["requestContext"].get("authorizer") or {}).get("scopes")
    return set(scopes.split(" ")) if isinstance(scopes, str) else set()


def expected_start(event: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The execution (state machine ARN, input) the contract starts for ``event``, or None."""
    caller = (event["requestContext"].get("authorizer") or {}).get("client_id", "unknown")
    if event["httpMethod"].upper() != "POST":  # Powertools matches methods in any case (API Gateway sends POST)
        return None
    path = event["path"]
    if re.fullmatch(r"/provisioning/runs/*", path) and "sync.provision" in granted(event):
        body = _body_object(event)
        if not isinstance(body, dict) or len(event["body"] or "") > 16 * 1024 or _depth(body) > 8:
            return None
        role, group, dry_run = body.get("role_id"), body.get("group_id"), body.get("dry_run", False)
        if not (isinstance(role, str) and ROLE_ID.fullmatch(role) and isinstance(group, str)):
            return None
        if not GROUP_ID.fullmatch(group) or not isinstance(dry_run, bool):
            return None
        payload = {"role_id": role, "group_id": group, "dry_run": dry_run, "recheck": False, "requested_by": caller}
        return PROVISIONING_ARN, payload
    matched = re.fullmatch(r"/users/([^/]*)/sync/*", path)
    if matched and OKTA_USER_ID.fullmatch(matched.group(1)) and "sync.users" in granted(event):
        return DEACTIVATION_ARN, {"okta_user": {"id": matched.group(1)}, "requested_by": caller}
    return None


def call(api, event: dict[str, Any]) -> dict[str, Any]:
    module, _ = api
    try:
        response = module.lambda_handler(event, Context("InvokeApiFunction"))
    except OutboundAttempt:
        raise
    except Exception as exc:  # a Lambda error: API Gateway answers 502
        tally.unhandled(exc)
        raise AssertionError(f"the handler raised {type(exc).__name__}: {str(exc)[:200]} (a 502)") from exc
    tally.answer(response["statusCode"])
    return response


def check(api, event: dict[str, Any], valid: bool) -> dict[str, Any]:
    _, sfn = api
    sfn.started.clear()
    response = call(api, event)
    status = response["statusCode"]
    support.note(f"answered {status}: {str(response.get('body'))[:300]}")
    assert status < 500, response
    expected = expected_start(event)
    if status == 202:
        assert len(sfn.started) == 1, sfn.started
        started = sfn.started[0]
        assert expected is not None, f"started {started} for a request the contract refuses"
        assert (started["arn"], started["input"]) == expected
        answer = json.loads(response["body"])
        flow = "provisioning" if started["arn"] == PROVISIONING_ARN else "user-sync"
        assert answer == {
            "execution_id": f"{flow}.{started['name']}",
            "status_url": f"/executions/{flow}.{started['name']}",
        }
    else:
        assert sfn.started == [], f"answered {status} but started {sfn.started}"
        assert expected is None, f"a valid request answered {status}: {response.get('body')}"
        if status >= 400 and response.get("body"):
            assert json.loads(response["body"]).get("message"), "a refusal says why"
    if status == 403:
        check_insufficient_scope(event, response)
    if valid:
        assert status == 202, f"a valid request answered {status}: {response.get('body')}"
    return response


def check_insufficient_scope(event: dict[str, Any], response: dict[str, Any]) -> str:
    """A 403: the token lacks the scope it names (a scope of the API), challenged in the caller's
    scheme (RFC 6750 3.1, RFC 9449 7.1: DPoP with ``algs`` for a DPoP-bound token). The scope."""
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():  # Powertools' REST answers
        headers.setdefault(name.lower(), values[0] if isinstance(values, list) else values)
    challenge = headers["www-authenticate"]
    token_type = (event["requestContext"].get("authorizer") or {}).get("token_type")
    scheme = "DPoP" if token_type == "DPoP" else "Bearer"
    assert challenge.startswith(f'{scheme} realm="okta-auth0-sync", error="insufficient_scope", '), challenge
    assert ('algs="' in challenge) == (scheme == "DPoP"), challenge
    scope = challenge.split('scope="')[1].split('"')[0]
    assert scope in SCOPES and scope not in granted(event), (scope, granted(event))
    assert json.loads(response["body"]) == {"error": "insufficient_scope", "message": f"the token lacks scope {scope}"}
    return scope


# ------------------------------------------------------------------------------------------- tests
@support.given_data
def test_any_request_is_answered_below_500_and_starts_only_what_is_valid(api, data):
    event, valid = data.draw(requests(), label="request")
    check(api, event, valid)


MALFORMED_BODIES = [
    ("{role_id", False),  # issue 10: a 502
    ('{"role_id": "rol_1", "group_id": "00g1"', False),
    ("\ufeff" + json.dumps({"role_id": "rol_1", "group_id": "00g1"}), False),
    ("[" * 5000 + "]" * 5000, False),
    ('{"a":' * 3000 + "1" + "}" * 3000, False),
    (base64.b64encode(json.dumps({"role_id": "rol_1"}).encode("utf-16")).decode(), True),
    (base64.b64encode(b"\xff\xfe\x00garbage").decode(), True),
    ("not base64!", True),
    (json.dumps({"role_id": "rol_1", "group_id": "00g1", "pad": "x" * 70_000}), False),
    (json.dumps({"role_id": ["rol_1"], "group_id": {"id": "00g1"}, "dry_run": "true"}), False),
    ("null", False),
    ("NaN", False),
]


@pytest.mark.parametrize(("body", "encoded"), MALFORMED_BODIES, ids=range(len(MALFORMED_BODIES)))
def test_a_malformed_body_is_a_4xx_that_starts_nothing(api, body, encoded):
    event = proxy_event("POST", "/provisioning/runs", "/provisioning/runs", body=body, base64_encoded=encoded)
    response = check(api, event, valid=False)
    assert response["statusCode"] in (400, 413)


def test_the_sample_events_are_accepted(api):
    for name, status in (("invoke_api_provision", 202), ("invoke_api_sync_user", 202), ("invoke_api_status", 404)):
        assert check(api, support.sample(name), valid=status == 202)["statusCode"] == status


def test_an_unknown_execution_and_a_malformed_execution_id(api):
    for execution_id, status in (("provisioning.nope", 404), ("other.x", 400), ("provisioning.a:b", 400)):
        event = proxy_event(
            "GET",
            "/executions/{executionId}",
            f"/executions/{execution_id}",
            path_parameters={"executionId": execution_id},
        )
        assert check(api, event, valid=False)["statusCode"] == status


@pytest.mark.parametrize("token_type", ["Bearer", "DPoP"])
@pytest.mark.parametrize("route", ["provision", "sync", "status"])
def test_a_token_without_the_routes_scope_is_403_and_starts_nothing(api, route, token_type):
    """Issue 10: the route's scope is checked by the function (the authorizer's 401 cannot be a
    403): every route refuses a caller without it, before reading the body or starting anything."""
    method, resource, template, parameter = ROUTES[route]
    value = {"sync": "00uieg27N0mAaWp92N5J", "status": "provisioning.api-1"}.get(route)
    scope = {"provision": "sync.provision", "sync": "sync.users", "status": "sync.read"}[route]
    event = proxy_event(
        method,
        resource,
        template.format(value) if parameter else template,
        path_parameters={parameter: value} if parameter else None,
        body=json.dumps({"role_id": "rol_1", "group_id": "00g1"}) if route == "provision" else None,
        authorizer={"client_id": CALLER, "scopes": " ".join(set(SCOPES) - {scope}), "token_type": token_type},
    )
    response = check(api, event, valid=False)
    assert response["statusCode"] == 403
    assert check_insufficient_scope(event, response) == scope
