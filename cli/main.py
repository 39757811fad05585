"""okta-auth0-sync: operator commands.

    okta-auth0-sync token   --secret-file okta.json          mint a token, print its claims (never the token)
    okta-auth0-sync keygen  --alg ES256 --kid sync-2026-11 --out key.pem  a key pair (never overwrites one)
    okta-auth0-sync call    --api-url URL --caller caller.json provision --role rol_... --group 00g... [--dry-run]
    okta-auth0-sync call    ... sync-user 00u...  |  status provisioning.api-...
    okta-auth0-sync check   --stack-name okta-auth0-sync     secrets well-formed, tokens obtainable, scopes granted
    okta-auth0-sync consent --secret-id <OktaConnectionSecretArn>   an admin's consent (authorization_code mode)
    okta-auth0-sync sandbox [sandbox options]                the sandbox tenants (python -m okta_auth0_sync_sandbox)

Secrets come from a file (``--secret-file``) or Secrets Manager (``--secret-id``). Nothing this
command prints contains a secret or a token.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from okta_auth0_sync.base.errors import SyncError
from okta_auth0_sync.base.logs import redact
from okta_auth0_sync.settings import Auth0Connection, OktaConnection

OKTA_SCOPES = ("okta.users.read", "okta.users.manage", "okta.groups.read", "okta.groups.manage")
OKTA_SWEEP_SCOPE = "okta.logs.read"  # the System Log sweep (SystemLogSweep, on by default)
AUTH0_SCOPES = ("read:users", "read:roles", "read:role_members")
AUTH0_WRITE_SCOPES = ("update:users", "update:users_app_metadata")  # either (blocked needs update:users)
# Ending a deactivated person's access (RevokeSessions / RevokeRefreshTokens): the Enterprise
# endpoints, and the device-credentials endpoints every plan has (used when the plan lacks them).
AUTH0_REVOCATION_SCOPES = (
    "delete:sessions",
    "delete:refresh_tokens",
    "read:device_credentials",
    "delete:device_credentials",
)


MAX_SECRET_BYTES = 65536  # Secrets Manager's own limit for a SecretString
MIN_RSA_BITS = 2048  # NIST SP 800-131A: smaller RSA keys are not allowed for signatures
MAX_RSA_BITS = 16384
DEBUG_ENV = "OKTA_AUTH0_SYNC_DEBUG"  # set: an unexpected error shows its traceback


class CliError(Exception):
    """A bad input the operator can fix: printed as one ``error:`` line, exit code 2."""


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false"}


def parse_secret_json(text: str, where: str) -> dict[str, Any]:
    """The JSON object of a secret, or a :class:`CliError` that says what is wrong with it
    (never the secret's content)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise CliError(f"{where}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise CliError(f"{where}: must be a JSON object, not {_JSON_TYPES.get(type(data), 'null')}")
    return data


def read_secret_file(path: str, what: str = "secret file") -> dict[str, Any]:
    where = f"{what} {path}"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SECRET_BYTES + 1)
    except FileNotFoundError:
        raise CliError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{where}: is a directory, not a file") from None
    except PermissionError:
        raise CliError(f"{where}: permission denied") from None
    except OSError as exc:
        raise CliError(f"{where}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_SECRET_BYTES:
        raise CliError(
            f"{where}: larger than {MAX_SECRET_BYTES // 1024} KiB (a connection secret is a small JSON object)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{where}: not UTF-8 text") from None
    return parse_secret_json(text, where)


def read_secret_id(secret_id: str, what: str = "secret") -> dict[str, Any]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"{what} {secret_id}"
    try:
        value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code") or "an error"
        raise CliError(f"{where}: Secrets Manager answered {code}") from None
    except BotoCoreError as exc:  # no credentials, no region, endpoint unreachable...
        raise CliError(f"{where}: {exc}") from None
    if not isinstance(value.get("SecretString"), str):
        raise CliError(f"{where}: has no SecretString (a binary secret is not a connection secret)")
    return parse_secret_json(value["SecretString"], where)


def load_secret(args: argparse.Namespace, file_attr: str = "secret_file", id_attr: str = "secret_id") -> dict:
    path, secret_id = getattr(args, file_attr, None), getattr(args, id_attr, None)
    file_flag, id_flag = ("--" + attr.replace("_", "-") for attr in (file_attr, id_attr))
    if path:
        return read_secret_file(path, file_flag)
    if secret_id:
        return read_secret_id(secret_id, id_flag)
    raise CliError(f"give {file_flag} or {id_flag}")


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT access token, unverified (for display); None for opaque tokens."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None


def _connection(data: dict, source: str):
    return (
        OktaConnection.from_secret(data, source)
        if "client_secret" not in data or data.get("mode") == "authorization_code"
        else Auth0Connection.from_secret(data, source)
    )


def _vault(args: argparse.Namespace) -> Any:
    """Where an authorization_code connection's refresh token is read and written back."""
    from okta_auth0_sync.store.refresh_tokens import FileVault, SecretsManagerVault

    if getattr(args, "secret_file", None):
        return FileVault(args.secret_file)
    if getattr(args, "secret_id", None):
        import boto3

        return SecretsManagerVault(args.secret_id, boto3.client("secretsmanager"))
    raise CliError("give --secret-file or --secret-id")


def mint(connection) -> Any:
    """A fresh token for a connection (no cache); None for an SSWS API token."""
    from okta_auth0_sync.runtime.connections import minter

    tokens = minter(connection)
    return tokens.mint() if tokens else None


# -- token ---------------------------------------------------------------------------------------
def cmd_token(args: argparse.Namespace) -> int:
    connection = _connection(load_secret(args), args.secret_file or args.secret_id)
    if getattr(connection, "mode", "") == "authorization_code":
        from okta_auth0_sync.clients.tokens.okta_web import OktaWebApp
        from okta_auth0_sync.runtime.connections import http_client

        # a refresh rotates the token: the new one is written back before anything else
        token = OktaWebApp(connection, http_client(connection), _vault(args)).mint()
    else:
        token = mint(connection)
    if token is None:
        print("SSWS API token: nothing to mint (it is sent as is; it expires after 30 days unused)")
        return 0
    claims = jwt_claims(token.value) or {}
    shown = {
        k: claims[k] for k in ("iss", "aud", "sub", "cid", "azp", "scp", "scope", "gty", "iat", "exp") if k in claims
    }
    if "cnf" in claims:
        shown["cnf.jkt"] = claims["cnf"].get("jkt")
    print(
        json.dumps(
            {
                "connection": type(connection).__name__.replace("Connection", "").lower(),
                "token_type": token.token_type,
                "expires_in": int(token.expires_at - token.minted_at),
                "scope": token.scope,
                "claims": shown,
            },
            indent=2,
        )
    )
    return 0


# -- keygen --------------------------------------------------------------------------------------
def cmd_keygen(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from okta_auth0_sync.jose import keys

    curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
    bits = args.bits
    if args.alg in curves and bits is not None:
        raise CliError(f"--bits is for RSA keys only ({args.alg} has a fixed curve)")
    bits = MIN_RSA_BITS if bits is None else bits
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise CliError(f"--bits {bits}: an RSA key must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits")
    out = Path(args.out)
    if not args.force and (out.exists() or out.is_symlink()):
        raise CliError(f"{out} exists: keygen never overwrites a private key (move it away, or give --force)")
    key = ec.generate_private_key(curves[args.alg]) if args.alg in curves else rsa.generate_private_key(65537, bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private_file(out, pem, overwrite=args.force)
    public = {**keys.public_jwk(key, kid=args.kid), "alg": args.alg, "use": "sig"}
    print(f"Private key written to {shown(str(out))} (mode 0600). Keep it out of git; put it in the connection secret.")
    print("Public JWK to add in Okta (app > General > Public keys > Add key > paste JSON):")
    print(json.dumps(public, indent=2))
    alg = f', "alg": "{args.alg}"' if args.alg != "RS256" else ""
    print(f'In the secret: "key_id": {json.dumps(args.kid)}{alg}')
    return 0


def write_private_file(out: Path, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` to a file only its owner can read. Without ``overwrite`` an existing file
    (or a symlink) is refused, atomically (O_EXCL); with it the file is truncated and its mode
    set back to 0600, and a symlink is never followed."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_TRUNC if overwrite else os.O_EXCL
    try:
        fd = os.open(out, flags, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        raise CliError(f"{out} exists: keygen never overwrites a private key (move it away, or give --force)") from None
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or type(exc).__name__}") from None
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), stat.S_IRUSR | stat.S_IWUSR)
        fh.write(data)


# -- call ----------------------------------------------------------------------------------------
def cmd_call(args: argparse.Namespace) -> int:
    from okta_auth0_sync_cli.client import InvokeApiClient

    caller = OktaConnection.from_secret(load_secret(args, "caller", "caller_secret_id"), "caller")
    if not caller.authorization_server:
        raise CliError("the caller's secret must name its custom 'authorization_server' (aus...)")
    client = InvokeApiClient(args.api_url, caller)
    if args.action == "status":
        print(json.dumps(client.status(args.execution_id), indent=2))
        return 0
    started = (
        client.start_provisioning(args.role, args.group, args.dry_run)
        if args.action == "provision"
        else client.sync_user(args.okta_user_id)
    )
    print(f"started {started['execution_id']}", file=sys.stderr)
    if not args.wait:
        print(json.dumps(started, indent=2))
        return 0
    final = client.wait(started["execution_id"], timeout=args.timeout, interval=args.interval)
    print(json.dumps(final, indent=2))
    return 0 if final["status"] == "SUCCEEDED" else 1


# -- check ---------------------------------------------------------------------------------------
class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def line(self, ok: bool, what: str, detail: str = "") -> bool:
        self.failed += 0 if ok else 1
        print(shown(f"{'PASS' if ok else 'FAIL'}  {what}{': ' + detail if detail else ''}"))
        return ok


def stack_outputs(stack_name: str) -> dict[str, str]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        raise CliError(f"stack {stack_name}: {exc.response.get('Error', {}).get('Message') or 'not found'}") from None
    except BotoCoreError as exc:
        raise CliError(f"stack {stack_name}: {exc}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def stack_secret_ids(outputs: dict[str, str]) -> dict[str, str | None]:
    return {
        "auth0": outputs.get("Auth0ConnectionSecretArn"),
        "okta": outputs.get("OktaConnectionSecretArn"),
        "hook": outputs.get("EventHookSecretArn"),
    }


def check_domain(checks: Checks, kind: str, domain: str, expected: str | None) -> None:
    """The secret's domain against the stack's OktaDomain/Auth0Domain (its outputs): the template
    never writes the domain into the secret, so only this notices a secret for another tenant."""
    if not expected:
        return
    parameter = "OktaDomain" if kind == "okta" else "Auth0Domain"
    same = domain.lower() == expected.lower()
    checks.line(
        same,
        f"{kind} secret domain",
        f"{domain}, as the stack's {parameter}" if same else f"{domain}, but the stack's {parameter} is {expected}",
    )


def check_consent(checks: Checks, connection: OktaConnection) -> None:
    """authorization_code mode: the consent is in place and the app asks for the scopes. No token is
    minted here: a refresh rotates the refresh token, and only the functions' lease may do that
    (``okta-auth0-sync token --secret-id`` refreshes on purpose, writing the new token back)."""
    if connection.refresh_token_revoked:
        checks.line(False, "okta consent", f"Okta refused the refresh token at {connection.refresh_token_revoked}: "
                    "re-run okta-auth0-sync consent")  # fmt: skip
    else:
        checks.line(
            bool(connection.refresh_token),
            "okta consent",
            "refresh token present (authorization_code, rotated by the functions)"
            if connection.refresh_token
            else "no refresh token yet: run okta-auth0-sync consent",
        )
    missing = [s for s in OKTA_SCOPES if s not in connection.scopes]
    checks.line(not missing, "okta scopes requested", "missing " + ", ".join(missing) if missing else "all four")


def cmd_consent(args: argparse.Namespace) -> int:
    from okta_auth0_sync_cli.consent import ConsentFailed, run

    try:
        shown_result = run(_vault(args), open_browser=not args.no_browser, timeout=args.timeout, out=sys.stdout,
                           err=sys.stderr)  # fmt: skip
    except ConsentFailed as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(shown_result, indent=2))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    outputs = stack_outputs(args.stack_name) if args.stack_name else {}
    ids = (
        stack_secret_ids(outputs)
        if args.stack_name
        else {"auth0": args.auth0_secret_id, "okta": args.okta_secret_id, "hook": args.hook_secret_id}
    )
    domains = {"okta": outputs.get("OktaDomain"), "auth0": outputs.get("Auth0Domain")}
    checks = Checks()
    for kind, parse in (("auth0", Auth0Connection.from_secret), ("okta", OktaConnection.from_secret)):
        secret_id = ids.get(kind)
        if not secret_id:
            checks.line(False, f"{kind} secret", "no secret id")
            continue
        try:
            data = read_secret_id(secret_id)
        except CliError as exc:  # Secrets Manager: missing, no access, not a JSON object...
            checks.line(False, f"{kind} secret readable", str(exc))
            continue
        try:
            connection = parse(data, secret_id)
        except (SyncError, ValueError, KeyError) as exc:
            checks.line(False, f"{kind} secret well-formed", str(exc))
            continue
        checks.line(True, f"{kind} secret well-formed", f"{connection.domain}, {getattr(connection, 'mode', 'm2m')}")
        check_domain(checks, kind, connection.domain, domains[kind])
        if getattr(connection, "mode", "") == "authorization_code":
            check_consent(checks, connection)
            continue
        try:
            token = mint(connection)
        except SyncError as exc:
            checks.line(False, f"{kind} token obtainable", str(exc))
            continue
        if token is None:
            checks.line(True, f"{kind} API token present", "SSWS (no scopes to check; prefer an OAuth service app)")
            continue
        checks.line(
            True,
            f"{kind} token obtainable",
            f"{token.token_type}, expires in {int(token.expires_at - token.minted_at)} s",
        )
        granted = set(token.scope.split())
        if kind == "okta":
            missing = [s for s in OKTA_SCOPES if s not in granted]
        else:
            missing = [s for s in AUTH0_SCOPES if s not in granted]
            if not granted & set(AUTH0_WRITE_SCOPES):
                missing.append(" or ".join(AUTH0_WRITE_SCOPES))
        checks.line(
            not missing,
            f"{kind} scopes granted",
            "missing " + ", ".join(missing) if missing else " ".join(sorted(granted)),
        )
        if kind == "okta":
            checks.line(
                OKTA_SWEEP_SCOPE in granted,
                "okta System Log scope",
                f"{OKTA_SWEEP_SCOPE} granted: the System Log sweep can run"
                if OKTA_SWEEP_SCOPE in granted
                else f"missing {OKTA_SWEEP_SCOPE} (grant it and list it in 'scopes', or SystemLogSweep=false)",
            )
        if kind == "auth0" and not args.without_revocation:
            lacking = [s for s in AUTH0_REVOCATION_SCOPES if s not in granted]
            checks.line(
                not lacking,
                "auth0 access revocation scopes",
                "missing " + ", ".join(lacking) + " (or deploy with RevokeSessions/RevokeRefreshTokens=false)"
                if lacking
                else "sessions and refresh tokens can be revoked on any plan",
            )
    if ids.get("hook"):
        try:
            hook = read_secret_id(ids["hook"])
        except CliError as exc:
            checks.line(False, "event hook secret readable", str(exc))
        else:
            current = hook.get("current")
            checks.line(
                isinstance(current, str) and len(current) >= 32,
                "event hook secret",
                "present"
                if isinstance(current, str) and len(current) >= 32
                else "'current' missing or shorter than 32 characters",
            )
    print(f"{'all checks passed' if not checks.failed else f'{checks.failed} check(s) failed'}")
    return 1 if checks.failed else 0


# -- sandbox -------------------------------------------------------------------------------------
def cmd_sandbox(args: argparse.Namespace) -> int:
    from okta_auth0_sync_sandbox.__main__ import main as sandbox_main

    return sandbox_main(args.sandbox_args) or 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _rsa_bits(text: str) -> int:
    try:
        bits = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if bits < MIN_RSA_BITS:
        raise argparse.ArgumentTypeError(f"{bits} bits is too weak: an RSA key needs at least {MIN_RSA_BITS}")
    if bits > MAX_RSA_BITS:
        raise argparse.ArgumentTypeError(f"{bits} bits is more than {MAX_RSA_BITS}")
    return bits


def _path(text: str) -> str:
    """A file path as argv can carry it: never a NUL (the OS refuses it with a ValueError)."""
    if not text or "\x00" in text:
        raise argparse.ArgumentTypeError("a file path, not empty and without NUL characters")
    return text


def shown(text: str) -> str:
    """``text`` as printable on a UTF-8 terminal: an undecodable byte of a path (argv carries it as
    a lone surrogate) is shown escaped, not a UnicodeEncodeError after the work is done."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _key_id(text: str) -> str:
    if not text or len(text) > 255 or not text.isprintable() or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError("a key id is 1 to 255 printable characters without spaces")
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="okta-auth0-sync",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")

    t = sub.add_parser("token", help="mint a token for a connection and print its claims (never the token)")
    t.add_argument(
        "--secret-file",
        type=_path,
        help="connection secret JSON file (the Okta or Auth0 connection secret's value)",
    )
    t.add_argument("--secret-id", help="Secrets Manager id or ARN of the connection secret (instead of --secret-file)")
    t.set_defaults(func=cmd_token)

    k = sub.add_parser("keygen", help="generate a key pair; print the public JWK to paste into Okta")
    k.add_argument(
        "--alg",
        default="RS256",
        choices=["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
        help="signing algorithm of the key (default RS256)",
    )
    k.add_argument(
        "--bits",
        type=_rsa_bits,
        help=f"RSA key size, {MIN_RSA_BITS} to {MAX_RSA_BITS} (default {MIN_RSA_BITS}); not for ES keys",
    )
    k.add_argument("--kid", required=True, type=_key_id, help="key id to publish with the key, e.g. sync-2026-11")
    k.add_argument(
        "--out", required=True, type=_path, help="where to write the private key (PEM, mode 0600); must not exist"
    )
    k.add_argument("--force", action="store_true", help="overwrite --out if it exists (the old key is lost)")
    k.set_defaults(func=cmd_keygen)

    c = sub.add_parser("call", help="call the invoke API with a private_key_jwt (optionally DPoP) access token")
    c.add_argument("--api-url", required=True, help="the InvokeApiUrl stack output")
    c.add_argument(
        "--caller",
        type=_path,
        help="caller secret file {domain, client_id, private_key, key_id, scopes, authorization_server[, dpop]}",
    )
    c.add_argument("--caller-secret-id", help="Secrets Manager id or ARN of the caller secret (instead of --caller)")
    c.add_argument("--wait", action="store_true", help="poll until the execution ends, then print the result")
    c.add_argument("--timeout", type=_positive, default=900, help="with --wait: seconds to wait at most (default 900)")
    c.add_argument("--interval", type=_positive, default=2.0, help="with --wait: seconds between polls (default 2)")
    actions = c.add_subparsers(dest="action", required=True, metavar="ACTION", help="one of:")
    prov = actions.add_parser("provision", help="start a provisioning run (POST /provisioning/runs)")
    prov.add_argument("--role", required=True, help="Auth0 role id whose members are provisioned (rol_...)")
    prov.add_argument("--group", required=True, help="Okta group id they are added to (00g...)")
    prov.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
    sync = actions.add_parser("sync-user", help="sync one Okta user's state to Auth0 (POST /users/{id}/sync)")
    sync.add_argument("okta_user_id", help="the Okta user id (00u...)")
    status = actions.add_parser("status", help="an execution's status and result (GET /executions/{id})")
    status.add_argument("execution_id", help="the execution_id a previous call printed")
    c.set_defaults(func=cmd_call)

    ch = sub.add_parser("check", help="check a deployed configuration: secrets, tokens, scopes")
    ch.add_argument("--stack-name", help="read the three secrets' ARNs from this stack's outputs")
    ch.add_argument("--auth0-secret-id", help="Auth0 connection secret id or ARN (without --stack-name)")
    ch.add_argument("--okta-secret-id", help="Okta connection secret id or ARN (without --stack-name)")
    ch.add_argument("--hook-secret-id", help="event hook secret id or ARN (without --stack-name)")
    ch.add_argument(
        "--without-revocation",
        action="store_true",
        help="the stack runs with RevokeSessions=false and RevokeRefreshTokens=false",
    )
    ch.set_defaults(func=cmd_check)

    co = sub.add_parser(
        "consent", help="an Okta admin's one-time consent: store a refresh token (authorization_code mode)"
    )
    co.add_argument("--secret-file", type=_path, help="the Okta connection secret as a JSON file (written back)")
    co.add_argument("--secret-id", help="Secrets Manager id or ARN of the Okta connection secret (written back)")
    co.add_argument("--no-browser", action="store_true", help="print the sign-in URL only; do not open a browser")
    co.add_argument(
        "--timeout", type=_positive, default=300, help="seconds to wait for the sign-in to come back (default 300)"
    )
    co.set_defaults(func=cmd_consent)

    sub.add_parser("sandbox", help="run the sandbox Okta and Auth0 tenants (python -m okta_auth0_sync_sandbox --help)")

    from okta_auth0_sync_cli.operations import add_commands

    add_commands(sub, _positive)
    return p


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:  # everything after it, --help included, is the sandbox's own
        return cmd_sandbox(argparse.Namespace(sandbox_args=argv[1:]))
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (SyncError, CliError) as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, or an input nothing above foresaw: one line, no traceback
        if os.environ.get(DEBUG_ENV):
            raise
        detail = _one_line(redact(str(exc)))
        what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        print(f"error: unexpected {what} ({DEBUG_ENV}=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
