"""The operator CLI, against the sandbox tenants, moto and the local invoke API."""

import argparse
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
    # The CLI's output: the last JSON document that starts a line. The in-process functions' log
    # lines come before it when the logger's handler was bound to this capture (which test of this
    # worker imported the library first decides that), or nowhere.
    final = json.loads(out[[m.start() for m in re.finditer(r"(?m)^\{$", out)][-1] :])
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
        assert [line.split()[0] for line in out.splitlines()[:-1]] == ["PASS"] * 9
        assert "PASS  auth0 access revocation scopes" in out
        assert "PASS  okta System Log scope: okta.logs.read granted" in out
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


# ---------------------------------------------------------------------------------- keygen safety


def _one_error_line(err: str) -> str:
    """What the CLI prints for a bad input: exactly one ``error:`` line, never a traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_keygen_refuses_to_overwrite_an_existing_key(tmp_path, capsys):
    out_file = tmp_path / "key.pem"
    out_file.write_text("the operator's only copy of the key\n")
    code, out, err = run(capsys, "keygen", "--kid", "sync-2027-01", "--out", str(out_file))
    assert code == 2
    line = _one_error_line(err)
    assert str(out_file) in line and "--force" in line
    assert out_file.read_text() == "the operator's only copy of the key\n"
    assert out == ""


def test_keygen_refuses_to_write_through_a_symlink(tmp_path, capsys):
    target = tmp_path / "elsewhere.pem"
    link = tmp_path / "key.pem"
    link.symlink_to(target)  # dangling: exists() is False, the link is still refused
    code, _, err = run(capsys, "keygen", "--alg", "ES256", "--kid", "k1", "--out", str(link))
    assert code == 2 and "exists" in _one_error_line(err)
    assert not target.exists()


def test_keygen_force_overwrites_and_makes_the_file_private(tmp_path, capsys):
    from cryptography.hazmat.primitives import serialization

    out_file = tmp_path / "key.pem"
    out_file.write_text("old key\n")
    out_file.chmod(0o644)
    code, _, _ = run(capsys, "keygen", "--alg", "ES384", "--kid", "k2", "--out", str(out_file), "--force")
    assert code == 0
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    key = serialization.load_pem_private_key(out_file.read_bytes(), password=None)
    assert key.curve.name == "secp384r1"


@pytest.mark.parametrize("bits", ["512", "1024", "2047"])
def test_keygen_refuses_rsa_keys_below_2048_bits(tmp_path, capsys, bits):
    out_file = tmp_path / "key.pem"
    with pytest.raises(SystemExit) as raised:
        main(["keygen", "--alg", "RS256", "--bits", bits, "--kid", "k1", "--out", str(out_file)])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert f"{bits} bits is too weak: an RSA key needs at least 2048" in err and "Traceback" not in err
    assert not out_file.exists()


@pytest.mark.parametrize(("bits", "expected"), [(None, 2048), ("3072", 3072)])
def test_keygen_rsa_key_sizes(tmp_path, capsys, bits, expected):
    from cryptography.hazmat.primitives import serialization

    out_file = tmp_path / "key.pem"
    argv = ["keygen", "--alg", "RS384", "--kid", "k1", "--out", str(out_file)] + (["--bits", bits] if bits else [])
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert serialization.load_pem_private_key(out_file.read_bytes(), password=None).key_size == expected
    assert '"key_id": "k1", "alg": "RS384"' in out


def test_keygen_refuses_bits_for_an_ec_key(tmp_path, capsys):
    code, _, err = run(
        capsys, "keygen", "--alg", "ES256", "--bits", "4096", "--kid", "k1", "--out", str(tmp_path / "k")
    )
    assert code == 2 and "--bits is for RSA keys only" in _one_error_line(err)
    assert not (tmp_path / "k").exists()


def test_keygen_into_a_missing_directory_is_a_clear_error(tmp_path, capsys):
    out_file = tmp_path / "no-such-dir" / "key.pem"
    code, _, err = run(capsys, "keygen", "--alg", "ES256", "--kid", "k1", "--out", str(out_file))
    assert code == 2 and f"cannot write {out_file}: No such file or directory" in _one_error_line(err)


# ---------------------------------------------------------------------------------- bad secret files

LEAKY = "do-not-print-this-secret-0123456789"


def _bad_secret_file(tmp_path, kind: str) -> tuple[str, str]:
    """(path, what the error line must say) for one kind of bad --secret-file."""
    path = tmp_path / "secret.json"
    if kind == "missing":
        return str(tmp_path / "absent.json"), "no such file"
    if kind == "directory":
        return str(tmp_path), "is a directory"
    contents = {
        "empty": (b"", "not valid JSON (line 1, column 1: Expecting value)"),
        "not-json": (f"client_secret={LEAKY}".encode(), "not valid JSON"),
        "truncated": (f'{{"client_secret": "{LEAKY}"'.encode(), "not valid JSON"),
        "array": (json.dumps([LEAKY]).encode(), "must be a JSON object, not an array"),
        "string": (json.dumps(LEAKY).encode(), "must be a JSON object, not a string"),
        "null": (b"null", "must be a JSON object, not null"),
        "utf-16": (json.dumps({"client_secret": LEAKY}).encode("utf-16"), "not UTF-8 text"),
        "too-large": (b'{"pad": "' + b"x" * 70_000 + b'"}', "larger than 64 KiB"),
        "deep": (b"[" * 30_000 + b"]" * 30_000, "JSON nested too deeply"),
    }
    data, expected = contents[kind]
    path.write_bytes(data)
    return str(path), expected


BAD_SECRET_FILES = [
    "missing",
    "directory",
    "empty",
    "not-json",
    "truncated",
    "array",
    "string",
    "null",
    "utf-16",
    "too-large",
    "deep",
]


@pytest.mark.parametrize("kind", BAD_SECRET_FILES)
def test_a_bad_secret_file_is_one_clear_error_line(tmp_path, capsys, kind):
    path, expected = _bad_secret_file(tmp_path, kind)
    code, out, err = run(capsys, "token", "--secret-file", path)
    assert code == 2
    line = _one_error_line(err)
    assert line.startswith(f"error: --secret-file {path}: ") and expected in line
    assert LEAKY not in out + err


@pytest.mark.parametrize("kind", ["missing", "not-json", "array"])
def test_a_bad_caller_file_is_one_clear_error_line(tmp_path, capsys, kind):
    path, expected = _bad_secret_file(tmp_path, kind)
    code, _, err = run(capsys, "call", "--api-url", "https://api.example/v1", "--caller", path, "status", "x")
    assert code == 2
    assert expected in _one_error_line(err) and "--caller" in err
    assert LEAKY not in err


def test_a_connection_secret_of_the_wrong_shape_is_one_clear_error_line(tmp_path, capsys):
    path = write(tmp_path, "s.json", {"domain": 42, "client_id": ["x"], "private_key": LEAKY})
    code, _, err = run(capsys, "token", "--secret-file", path)
    assert code == 2
    _one_error_line(err)
    assert LEAKY not in err


def test_no_secret_source_is_one_clear_error_line(capsys):
    code, _, err = run(capsys, "token")
    assert code == 2 and _one_error_line(err) == "error: give --secret-file or --secret-id"


def test_a_missing_secret_id_is_one_clear_error_line(capsys):
    with mock_aws():
        code, _, err = run(capsys, "token", "--secret-id", "okta-auth0-sync/absent")
    assert code == 2
    assert _one_error_line(err) == (
        "error: --secret-id okta-auth0-sync/absent: Secrets Manager answered ResourceNotFoundException"
    )


def test_the_installed_command_prints_no_traceback_for_a_missing_secret_file(tmp_path):
    import subprocess
    import sys

    missing = tmp_path / "absent.json"
    result = subprocess.run(
        [sys.executable, "-m", "okta_auth0_sync_cli.main", "token", "--secret-file", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"error: --secret-file {missing}: no such file\n"
    assert result.stdout == ""


def test_an_unexpected_error_is_one_redacted_line_without_a_traceback(capsys, monkeypatch):
    import okta_auth0_sync_cli.main as cli

    def boom(args):
        raise RuntimeError(f"while posting client_secret={LEAKY}\n  more detail")

    monkeypatch.setattr(cli, "cmd_token", boom)
    code, _, err = run(capsys, "token", "--secret-file", "unused.json")
    assert code == 1
    assert _one_error_line(err) == (
        "error: unexpected RuntimeError: while posting client_secret=<redacted> more detail "
        "(OKTA_AUTH0_SYNC_DEBUG=1 shows the traceback)"
    )
    monkeypatch.setenv("OKTA_AUTH0_SYNC_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["token", "--secret-file", "unused.json"])


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "soon"])
def test_wait_timings_must_be_positive_numbers(capsys, value):
    with pytest.raises(SystemExit) as raised:
        main(["call", "--api-url", "https://api.example/v1", "--caller", "c.json", "--timeout", value, "status", "x"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "argument --timeout" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------- help text


def _all_parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


def test_every_option_and_argument_has_help_text():
    from okta_auth0_sync_cli.main import parser

    missing = [
        f"{p.prog} {'/'.join(a.option_strings) or a.dest}"
        for p in _all_parsers(parser())
        for a in p._actions
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert missing == []
    subcommands = {p.prog for p in _all_parsers(parser())}
    assert {"okta-auth0-sync keygen", "okta-auth0-sync call provision", "okta-auth0-sync call status"} <= subcommands


def test_help_describes_every_keygen_option(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["keygen", "--help"])
    assert raised.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--alg", "--bits", "--kid", "--out", "--force"):
        assert option in text
    assert "RSA key size, 2048 to 16384 (default 2048)" in text
    assert "overwrite --out if it exists" in text


# ---------------------------------------------------------------------------------- check: the stack's domains


def test_check_compares_each_secrets_domain_with_the_stack(tenants, capsys):
    """The template never writes OktaDomain/Auth0Domain into the secrets (a parameter change must
    not overwrite them): ``check`` is where a secret for another tenant is noticed."""
    sb, creds = tenants
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        okta = sm.create_secret(Name="okta", SecretString=json.dumps(creds.okta))["ARN"]
        auth0 = sm.create_secret(Name="auth0", SecretString=json.dumps(creds.auth0))["ARN"]
        boto3.client("cloudformation", region_name="us-east-1").create_stack(
            StackName="okta-auth0-sync",
            TemplateBody=json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {
                        "Auth0ConnectionSecretArn": {"Value": auth0},
                        "OktaConnectionSecretArn": {"Value": okta},
                        "OktaDomain": {"Value": sb.okta.domain.upper()},
                        "Auth0Domain": {"Value": "other-tenant.eu.auth0.com"},
                    },
                }
            ),
        )
        code, out, _ = run(capsys, "check", "--stack-name", "okta-auth0-sync", "--without-revocation")
    assert code == 1
    assert f"PASS  okta secret domain: {sb.okta.domain}, as the stack's OktaDomain" in out
    assert (
        f"FAIL  auth0 secret domain: {sb.auth0.domain}, but the stack's Auth0Domain is other-tenant.eu.auth0.com" in out
    )


def test_check_of_a_missing_stack_is_one_clear_error_line(capsys):
    with mock_aws():
        code, _, err = run(capsys, "check", "--stack-name", "no-such-stack")
    assert code == 2
    line = _one_error_line(err)
    assert line.startswith("error: stack no-such-stack: ") and "does not exist" in line
