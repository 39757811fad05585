"""What the template promises: runtime, least privilege, secrets only in Secrets Manager."""

import json

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
            assert all(v in ("", [], "o.example", "a.example") for v in values.values()), name
    for props in FUNCTIONS.values():
        for key in props.get("Environment", {}).get("Variables", {}):
            assert not any(word in key for word in ("SECRET_VALUE", "PASSWORD", "TOKEN_VALUE", "API_TOKEN")), key


def test_state_machines_do_not_log_execution_data():
    for name, res in T.of_type("AWS::Serverless::StateMachine").items():
        assert res["Properties"]["Logging"]["IncludeExecutionData"] is False, name
        assert res["Properties"]["Type"] == "STANDARD", name
