"""The operator CLI, against the sandbox tenants, moto and the local invoke API."""

import json
import os
import re
import stat

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync_cli.main import main
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.apigateway import LocalRestApi
from okta_auth0_sync_testbed.deployment import LocalDeployment

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
AS_ID = "aus7gqIzvk6Dnq4hJmNN"


@pytest.fixture(scope="module")
def tenants():
    sb = sandbox_runner.start()
    yield sb, sandbox_runner.provision_credentials(sb)
    sb.stop()


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_keygen_writes_a_private_pem_and_prints_the_public_jwk(tmp_path, capsys):
    out_file = tmp_path / "key.pem"
    code, out, _ = run(capsys, "keygen", "--alg", "ES256", "--kid", "sync-2026-11", "--out", str(out_file))
    assert code == 0
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    assert "PRIVATE KEY" in out_file.read_text() and "PRIVATE KEY" not in out
    jwk = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert jwk["kid"] == "sync-2026-11" and jwk["alg"] == "ES256" and jwk["crv"] == "P-256"
    assert "d" not in jwk
    assert '"key_id": "sync-2026-11", "alg": "ES256"' in out


@pytest.mark.parametrize("connection", ["okta", "auth0", "okta_ssws"])
def test_token_prints_claims_never_the_token_or_secrets(tenants, tmp_path, capsys, connection):
    _sb, creds = tenants
    secret = getattr(creds, connection)
    code, out, err = run(capsys, "token", "--secret-file", write(tmp_path, "s.json", secret))
    assert code == 0
    assert not JWT.search(out + err)
    for field in ("client_secret", "private_key", "api_token"):
        if field in secret:
            assert secret[field] not in out + err
    if connection == "okta_ssws":
        assert "nothing to mint" in out
    else:
        shown = json.loads(out)
        assert shown["token_type"] == "Bearer" and shown["expires_in"] > 0
        assert shown["claims"]["iss"]


def test_token_for_a_dpop_app_shows_the_binding(tenants, tmp_path, capsys):
    sb, creds = tenants
    key = sb.okta.register_app_key("0oaYoXWx2ogsxqG1E9Ef")
    secret = {
        **creds.okta,
        "client_id": "0oaYoXWx2ogsxqG1E9Ef",
        "private_key": key.private_key_pem,
        "key_id": key.kid,
        "dpop": True,
    }
    code, out, _ = run(capsys, "token", "--secret-file", write(tmp_path, "s.json", secret))
    assert code == 0
    shown = json.loads(out)
    assert shown["token_type"] == "DPoP" and shown["claims"]["cnf.jkt"]


def test_token_error_is_actionable(tenants, tmp_path, capsys):
    _sb, creds = tenants
    code, _, err = run(
        capsys, "token", "--secret-file", write(tmp_path, "s.json", {**creds.auth0, "client_secret": "wrong"})
    )
    assert code == 2 and "client_secret" in err and "wrong" not in err


def test_call_starts_a_run_waits_and_prints_the_report(tenants, tmp_path, capsys):
    sb, creds = tenants
    client = sb.okta.register_as_client(AS_ID, name="operator", scopes=["sync.provision", "sync.read"])
    key = sb.okta.register_app_key(client.client_id, auth_server=AS_ID)
    caller = write(
        tmp_path,
        "caller.json",
        {
            "domain": sb.okta.domain,
            "base_url": sb.okta.base_url,
            "client_id": client.client_id,
            "private_key": key.private_key_pem,
            "key_id": key.kid,
            "scopes": ["sync.provision", "sync.read"],
            "authorization_server": AS_ID,
        },
    )
    secrets = {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta}
    with (
        LocalDeployment(
            secrets,
            parameters={
                "OktaDomain": sb.okta.domain,
                "Auth0Domain": sb.auth0.domain,
                "ApiIssuer": f"{sb.okta.base_url}/oauth2/{AS_ID}",
            },
        ) as stack,
        LocalRestApi(stack, "InvokeApi") as api,
    ):
        code, out, err = run(
            capsys,
            "call",
            "--api-url",
            api.url,
            "--caller",
            caller,
            "--wait",
            "--interval",
            "0.1",
            "provision",
            "--role",
            "rol_rRVnAbarjZsuC2Xn",
            "--group",
            "00gU18bXbD9XEKxR56aB",
            "--dry-run",
        )
    assert code == 0, err
    final = json.loads(out[out.rindex("\n{\n") + 1 :])  # the CLI's output, after the local functions' logs
    assert final["status"] == "SUCCEEDED"
    assert final["result"]["report"]["counts"]["would_create"] == 4
    assert not JWT.search(out + err)


def test_check_reports_pass_and_fail_lines(tenants, capsys):
    sb, creds = tenants
    read_only = {**creds.auth0, "client_id": "1LNojA4rDEqKRRUKxXz6jRd7lj8gZjU1"}
    read_only["client_secret"] = sb.auth0.register_client_secret(read_only["client_id"])
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arns = {
            name: sm.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
            for name, value in (
                ("auth0", creds.auth0),
                ("okta", creds.okta),
                ("hook", {"current": "x" * 48, "previous": ""}),
                ("auth0-ro", read_only),
                ("okta-bad", {"domain": sb.okta.domain, "client_id": "0oa1"}),
            )
        }
        cf = boto3.client("cloudformation", region_name="us-east-1")
        cf.create_stack(
            StackName="okta-auth0-sync",
            TemplateBody=json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {
                        "Auth0ConnectionSecretArn": {"Value": arns["auth0"]},
                        "OktaConnectionSecretArn": {"Value": arns["okta"]},
                        "EventHookSecretArn": {"Value": arns["hook"]},
                    },
                }
            ),
        )
        code, out, _ = run(capsys, "check", "--stack-name", "okta-auth0-sync")
        assert code == 0, out
        assert [line.split()[0] for line in out.splitlines()[:-1]] == ["PASS"] * 8
        assert "PASS  auth0 access revocation scopes" in out
        code, out, _ = run(capsys, "check", "--auth0-secret-id", arns["auth0-ro"], "--okta-secret-id", arns["okta-bad"])
        assert code == 1
        assert "FAIL  auth0 scopes granted: missing read:roles, read:role_members, update:users or" in out
        assert (
            "FAIL  auth0 access revocation scopes: missing delete:sessions, delete:refresh_tokens, "
            "read:device_credentials, delete:device_credentials" in out
        )
        _, without, _ = run(
            capsys,
            "check",
            "--auth0-secret-id",
            arns["auth0-ro"],
            "--okta-secret-id",
            arns["okta"],
            "--without-revocation",
        )
    assert "revocation" not in without
    assert "FAIL  okta secret well-formed" in out and "private_key" in out
    assert read_only["client_secret"] not in out


def test_sandbox_command_is_the_sandbox_cli(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["sandbox", "--help"])
    assert raised.value.code == 0
    assert "--secrets-dir" in capsys.readouterr().out
