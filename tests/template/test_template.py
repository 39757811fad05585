"""What the template promises: runtime, least privilege, secrets only in Secrets Manager, the
operator's secret values kept across updates and stack deletion."""

import json
import re

from okta_auth0_sync_testbed.template import Template

T = Template.load(parameters={"OktaDomain": "o.example", "Auth0Domain": "a.example"})
FUNCTIONS = {name: T.function(name) for name in T.of_type("AWS::Serverless::Function")}


def policy_statements(props):
    """Inline statements and the managed policies (resolved from the template) of a function."""
    out = []
    for policy in props.get("Policies", []):
        if isinstance(policy, dict) and "Ref" in policy:
            out += T.resources[policy["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
        elif isinstance(policy, dict) and "Statement" in policy:
            out += policy["Statement"]
    return out


def test_runtime_and_architecture():
    for name, props in FUNCTIONS.items():
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Layers"] == [{"Ref": "IdentityLayer"}], name
        assert props["Tracing"] == "Active", name


def test_no_function_gets_a_wildcard_resource_or_managed_admin_policy():
    for name, props in FUNCTIONS.items():
        for policy in props.get("Policies", []):
            assert not isinstance(policy, str), f"{name}: AWS managed policy {policy}"
        for statement in policy_statements(props):
            assert statement["Resource"] != "*", f"{name}: {statement['Action']} on *"


def test_each_function_reads_only_the_secrets_it_needs():
    secret_readers = {}
    for name, props in FUNCTIONS.items():
        for statement in policy_statements(props):
            if "secretsmanager:GetSecretValue" in json.dumps(statement["Action"]):
                secret_readers.setdefault(statement["Resource"]["Ref"], set()).add(name)
        for policy in props.get("Policies", []):
            if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy:
                ref = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Ref"]
                secret_readers.setdefault(ref, set()).add(name)
    assert secret_readers["EventHookSecret"] == {"EventHookFunction"}
    assert "EventHookFunction" not in secret_readers["Auth0ConnectionSecret"]
    assert "UpdateMetadataFunction" not in secret_readers["OktaConnectionSecret"]


def test_token_cache_access_is_limited_to_the_connections_own_items():
    for policy in ("Auth0ConnectionAccess", "OktaConnectionAccess"):
        statements = T.resources[policy]["Properties"]["PolicyDocument"]["Statement"]
        (table,) = [s for s in statements if "dynamodb:GetItem" in s["Action"]]
        assert set(table["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
        keys = table["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        prefix = "auth0" if policy.startswith("Auth0") else "okta"
        assert keys == [f"token#{prefix}#*", f"lease#{prefix}#*"]


def test_no_secret_value_in_the_template():
    for name, res in T.of_type("AWS::SecretsManager::Secret").items():
        props = T.resolve(res["Properties"])
        if "SecretString" in props:
            values = json.loads(props["SecretString"])
            assert all(v in ("", []) for v in values.values()), name
    for props in FUNCTIONS.values():
        for key in props.get("Environment", {}).get("Variables", {}):
            assert not any(word in key for word in ("SECRET_VALUE", "PASSWORD", "TOKEN_VALUE", "API_TOKEN")), key


def test_state_machines_do_not_log_execution_data():
    for name, res in T.of_type("AWS::Serverless::StateMachine").items():
        assert res["Properties"]["Logging"]["IncludeExecutionData"] is False, name
        assert res["Properties"]["Type"] == "STANDARD", name


# ---------------------------------------------------------------------------------- operator data survives

SECRETS = ("Auth0ConnectionSecret", "OktaConnectionSecret", "EventHookSecret")


def references(node) -> set[str]:
    """Every parameter, resource or pseudo parameter a template fragment refers to."""
    if isinstance(node, dict):
        found: set[str] = set()
        for key, value in node.items():
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                found |= {v.split(".")[0] for v in re.findall(r"\$\{([^!}][^}]*)\}", text)} - set(variables)
                found |= references(variables)
            else:
                found |= references(value)
        return found
    if isinstance(node, list):
        return set().union(*(references(item) for item in node)) if node else set()
    return set()


def test_the_connection_and_hook_secrets_survive_stack_deletion_and_replacement():
    assert set(T.of_type("AWS::SecretsManager::Secret")) == set(SECRETS)
    for name in SECRETS:
        resource = T.resources[name]
        assert resource.get("DeletionPolicy") == "Retain", name
        assert resource.get("UpdateReplacePolicy") == "Retain", name


def test_a_secrets_initial_value_depends_on_no_parameter():
    """CloudFormation writes a secret's value on an update only when the template's SecretString
    (or GenerateSecretString) changes: a value made of constants is written once, at creation,
    and a later deploy (OktaDomain or Auth0Domain changed included) keeps the operator's value."""
    for name in SECRETS:
        props = T.resources[name]["Properties"]
        assert ("SecretString" in props) != ("GenerateSecretString" in props), name
        initial = props.get("SecretString", props.get("GenerateSecretString"))
        assert references(initial) == set(), name
        if "SecretString" in props:
            assert isinstance(initial, str) and "${" not in initial, name
    other = Template.load(parameters={"OktaDomain": "other.okta.com", "Auth0Domain": "other.eu.auth0.com"})
    for name in SECRETS:
        assert T.resolve(T.resources[name]["Properties"]) == other.resolve(other.resources[name]["Properties"]), name


def test_a_parameter_change_never_replaces_a_secret():
    """The name is the one property whose change replaces a secret: it depends on the stack name only."""
    for name in SECRETS:
        props = T.resources[name]["Properties"]
        assert references(props["Name"]) == {"AWS::StackName"}, name
        assert references({k: v for k, v in props.items() if k != "Name"}) == set(), name


def test_the_domain_parameters_reach_the_operator_through_the_outputs():
    """check compares each connection secret's domain with them (tests/cli)."""
    outputs = T.doc["Outputs"]
    assert outputs["OktaDomain"]["Value"] == {"Ref": "OktaDomain"}
    assert outputs["Auth0Domain"]["Value"] == {"Ref": "Auth0Domain"}


PARAMETER_CASES = {
    "ApiIssuer": (
        [
            "",
            "https://acme.okta.com/oauth2/aus7gqIzvk6Dnq4hJmNN",
            "https://acme.okta.com/oauth2/default",
            "http://127.0.0.1:54321/oauth2/aus1",
            "http://host.docker.internal:8080/oauth2/aus1",
        ],
        [
            "http://acme.okta.com/oauth2/aus1",
            "https://acme.okta.com",
            "acme.okta.com/oauth2/aus1",
            "https://acme.okta.com/oauth2/aus1?x=1",
            "https://acme.okta.com/oauth2/aus1 ",
        ],
    ),
    "ApiPublicBaseUrl": (
        ["", "https://api.acme.example", "https://api.acme.example/sync"],
        ["http://api.acme.example", "https://api.acme.example/?q", "ftp://api.acme.example"],
    ),
    "LocalAwsEndpoint": (["", "http://127.0.0.1:5000", "http://localhost:5000"], ["http://moto.acme.example:5000"]),
    "OktaDomain": (["acme.okta.com"], ["https://acme.okta.com", "acme.okta.com/", ""]),
    "Auth0Domain": (["acme.eu.auth0.com"], ["https://acme.eu.auth0.com", ""]),
    "OktaGroupId": (["", "00gU18bXbD9XEKxR56aB"], ["Everyone", "00g 1"]),
    "Auth0RoleId": (["", "rol_rRVnAbarjZsuC2Xn"], ["Partner", "rol_ x"]),
    "AlarmEmail": (["", "ops@acme.example"], ["not an address", "ops@"]),
    "ApiAudience": (["api://okta-auth0-sync"], ["", "api://okta auth0"]),
    "VerifiedEmailConnections": (["", "acme-saml", "acme-saml,google-oauth2"], ["acme saml", ",acme-saml"]),
}


def test_every_url_or_id_parameter_has_a_pattern_and_https_where_it_matters():
    """A typo in a URL or id parameter fails the deploy, not a later call (issue 10)."""
    parameters = T.doc["Parameters"]
    for name, (good, bad) in PARAMETER_CASES.items():
        pattern = parameters[name].get("AllowedPattern")
        assert pattern, f"{name} has no AllowedPattern"
        for value in good:
            assert re.fullmatch(pattern, value), f"{name} refuses {value!r}"
        for value in bad:
            assert not re.fullmatch(pattern, value), f"{name} accepts {value!r}"


def test_an_authorizer_failure_is_a_503_with_retry_after_not_a_500():
    api = next(r for r in T.resources.values() if r["Type"] == "AWS::Serverless::Api")
    failure = api["Properties"]["GatewayResponses"]["AUTHORIZER_FAILURE"]
    assert failure["StatusCode"] == 503
    assert failure["ResponseParameters"]["Headers"]["Retry-After"] == "'30'"
    assert "temporarily_unavailable" in failure["ResponseTemplates"]["application/json"]


def test_the_invoke_apis_challenges_are_rfc_6750_and_9449():
    """No credentials (UNAUTHORIZED, answered before the authorizer runs): the library's challenge
    without an error code (RFC 6750 3.1). A refusal by the authorizer (a Deny, ACCESS_DENIED): 401
    with the exact challenge from the authorizer's context. Caching off, so a Deny never answers
    another request. (The 403 insufficient_scope is the invoke function's.)"""
    from okta_auth0_sync.jose.resource_server import AuthFailure

    api = T.resources["InvokeApi"]["Properties"]
    responses = api["GatewayResponses"]
    unauthorized = responses["UNAUTHORIZED"]
    header = unauthorized["ResponseParameters"]["Headers"]["WWW-Authenticate"]
    assert unauthorized["StatusCode"] == 401
    assert header == "'" + AuthFailure(401, None, "credentials required").www_authenticate + "'"
    assert "error=" not in header
    assert json.loads(unauthorized["ResponseTemplates"]["application/json"])["error"] == "unauthorized"
    denied = responses["ACCESS_DENIED"]
    assert denied["StatusCode"] == 401
    assert denied["ResponseParameters"]["Headers"] == {"WWW-Authenticate": "context.authorizer.challenge"}
    body = denied["ResponseTemplates"]["application/json"]
    keys = set(re.findall(r"\$context\.authorizer\.(\w+)", body))
    assert keys == {"error_code", "error_message"}
    # $context.authorizer.<key>: letters, digits and "_" only; "error" is API Gateway's own variable
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", key) and key != "error" for key in keys)
    authorizer = api["Auth"]["Authorizers"][api["Auth"]["DefaultAuthorizer"]]
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["Identity"]["Headers"] == ["Authorization"]
    assert authorizer["Identity"]["ReauthorizeEvery"] == 0


def test_every_event_bridge_receiver_keeps_what_it_could_not_handle():
    """EventBridge invokes a function asynchronously: its RetryPolicy covers the hand-over only. A
    failed invocation must end in an alarmed dead-letter queue, not be dropped after Lambda's retries."""
    streams = Template.load(
        parameters={
            "OktaDomain": "o.example",
            "Auth0Domain": "a.example",
            "OktaLogStreamEventSource": "aws.partner/okta.com/acme/stream",
            "Auth0LogEventSource": "aws.partner/auth0.com/acme-123/auth0.logs",
        }
    )
    alarmed = {
        json.dumps(alarm["Properties"]["Dimensions"][0]["Value"])
        for alarm in streams.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/SQS"
    }
    receivers = {
        name: streams.function(name)
        for name in streams.of_type("AWS::Serverless::Function")
        if any(e["Type"] == "EventBridgeRule" for e in streams.function(name).get("Events", {}).values())
    }
    assert {"LogStreamFunction", "Auth0LogEventsFunction"} <= set(receivers)
    for name, props in receivers.items():
        assert props["EventInvokeConfig"]["MaximumRetryAttempts"] == 2, name
        queue = props["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
        assert json.dumps({"Fn::GetAtt": [queue, "QueueName"]}) in alarmed, f"{name}: {queue} has no alarm"
        for event in props["Events"].values():
            assert event["Properties"]["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}, name


def test_an_org_without_a_public_endpoint_deploys_no_hook():
    """EventHookEndpoint=false: no HookApi, no receiver, no hook alarm or URL; the stream and the
    sweep still start the same syncs."""
    streamed = Template.load(
        parameters={
            "OktaDomain": "o.example",
            "Auth0Domain": "a.example",
            "EventHookEndpoint": "false",
            "OktaLogStreamEventSource": "aws.partner/okta.com/acme/stream",
        }
    )
    deployed = {name for name, res in streamed.resources.items() if streamed.condition_holds(res.get("Condition"))}
    gone = {"HookApi", "HookApiAccessLogs", "EventHookFunction", "EventHookFunctionLogs", "EventHookRejectedAlarm"}
    assert not gone & deployed
    assert {"LogStreamFunction", "SystemLogSweepFunction", "DeactivationSyncStateMachine"} <= deployed
    assert not streamed.condition_holds(streamed.doc["Outputs"]["EventHookUrl"]["Condition"])
    assert all(T.condition_holds(T.resources[name].get("Condition")) for name in gone)  # on by default
