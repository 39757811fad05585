"""The redacting log formatter (``okta_auth0_sync.base.logs``), asserted on the real output.

The Powertools ``Logger`` writes one JSON document per record to its ``StreamHandler``; the tests
point that handler at a ``StringIO``, log what a careless line of code could hand the logger (in
the message, in ``extra``, nested, in exception text, through the ``handler`` decorator) and check
that no secret survives while the ordinary identifiers an operator needs are kept.

Each of the formerly known gaps (the event hook secret's ``current``/``previous``, its raw
``authorization`` header in a logged event, private JWKs, secrets inside strings, Python reprs,
unquoted values, other spellings, lower-case schemes, values with a quote, truncated PEMs) has a
test of its own below, and the deployed event hook is run with Powertools' event logging on.
"""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from okta_auth0_sync.base.logs import RedactingFormatter, redact
from okta_auth0_sync.runtime import observability
from okta_auth0_sync.runtime.observability import logger

# ---------------------------------------------------------------------------------- samples


def _b64url(data: dict | bytes) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(header: dict, claims: dict, signature: bytes = b"s" * 64) -> str:
    return f"{_b64url(header)}.{_b64url(claims)}.{_b64url(signature)}"


ACCESS_TOKEN = _jwt(
    {"alg": "RS256", "kid": "k1", "typ": "JWT"},
    {
        "iss": "https://acme.okta.com/oauth2/aus1",
        "sub": "0oaOperatorApp",
        "scp": ["sync.read"],
        "exp": 1795300000,
        "cid": "0oaOperatorApp",
    },
)
DPOP_PROOF = _jwt(
    {"alg": "ES256", "typ": "dpop+jwt", "jwk": {"kty": "EC", "crv": "P-256", "x": "xx", "y": "yy"}},
    {"htm": "POST", "htu": "https://acme.okta.com/oauth2/v1/token", "iat": 1795300000, "jti": "4f1c2a"},
)
CLIENT_ASSERTION = _jwt(
    {"alg": "RS256", "kid": "key-2024"},
    {
        "iss": "0oa1clientid",
        "sub": "0oa1clientid",
        "aud": "https://acme.okta.com/oauth2/v1/token",
        "exp": 1795300300,
        "jti": "a1b2c3",
    },
)
UNSIGNED_JWT = f"{_b64url({'alg': 'none'})}.{_b64url({'sub': 'someone-important'})}."
OPAQUE_TOKEN = "v2.local.Xk3p9QmZ7aLr0TnB4cW8yHs2Jd6FgE1u"  # no JWT shape: only the scheme gives it away
SSWS_TOKEN = "00Qk7vJd2pLmXn9RtYbC4wHs6FgE1uZa8oKe3iTq5"
AUTH0_CLIENT_SECRET = "aW5zZWN1cmUtY2xpZW50LXNlY3JldC12YWx1ZS0wMTIz_-X"
PASSWORD = "Tr0ub4dor&3-correct-horse"
HOOK_SECRET = "hook-shared-secret-0123456789abcdef"
JWK_D = "Vg3mVn2kkd1c8uY9p8rZQk3uX2yB1m0o4W6e7R8t9Y0"

# Ordinary data an operator needs in the logs: must never be masked.
OKTA_USER_ID = "00uieg27N0mAaWp92N5J"
AUTH0_USER_ID = "auth0|c9aa6c7760952e8fc5892901"
SAML_USER_ID = "samlp|acme-saml|lee.chen@partner.example"
EMAIL = "grace.hopper+ops@acme.example"
EVENT_UUID = "ab62c0bc-2837-11eb-9823-9fb8f750c5a9"
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:DeactivationSync:ab62c0bc-2837-11eb-9823-9fb8f750c5a9"


def _pem(key, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


_EC_KEY = ec.generate_private_key(ec.SECP256R1())
PEMS = {
    "pkcs8": _pem(_EC_KEY, serialization.PrivateFormat.PKCS8),
    "ec-traditional": _pem(_EC_KEY, serialization.PrivateFormat.TraditionalOpenSSL),
    "openssh": _pem(ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.OpenSSH),
    "rsa-traditional": "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAwJ4kZ9f0Q2m3h4n5o6p7q8r9s0t1u2v3w4x5y6z7A8B9C0D1\n"
    "E2F3G4H5I6J7K8L9M0N1O2P3Q4R5S6T7U8V9W0X1Y2Z3a4b5c6d7e8f9g0h1i2j3\n"
    "-----END RSA PRIVATE KEY-----\n",
}


def _pem_body(pem: str) -> list[str]:
    """The base64 lines of a PEM: none of them may appear in a log."""
    return [line for line in pem.strip().splitlines() if not line.startswith("-----")]


# ---------------------------------------------------------------------------------- capture


def _documents(text: str) -> list[dict]:
    """Every JSON document the handler wrote (compact or, with POWERTOOLS_DEV, indented)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        document, i = decoder.raw_decode(text, i)
        out.append(document)


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    @property
    def records(self) -> list[dict]:
        return _documents(self.text)

    def last(self) -> dict:
        records = self.records
        assert records, "nothing was logged"
        return records[-1]


@pytest.fixture
def logs(monkeypatch):
    """The real logger's output (its StreamHandler pointed at a StringIO), at INFO."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    level = logger.log_level
    logger.setLevel("INFO")
    yield Captured(stream)
    logger.setLevel(level)


def _assert_absent(captured: Captured, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in captured.text, f"{secret[:24]}... leaked into the log"


class FakeContext:
    function_name = "UpdateMetadataFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:UpdateMetadataFunction"
    aws_request_id = "7c4b0ae4-5b1e-4b7e-9a3e-1d1f0c0ffee0"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# ---------------------------------------------------------------------------------- the formatter is wired


def test_the_logger_uses_the_redacting_formatter():
    assert isinstance(logger.registered_formatter, RedactingFormatter)


def test_output_is_one_json_document_per_record(logs):
    logger.info("first")
    logger.warning("second", extra={"okta_user_id": OKTA_USER_ID})
    first, second = logs.records
    assert (first["level"], first["message"]) == ("INFO", "first")
    assert (second["level"], second["okta_user_id"]) == ("WARNING", OKTA_USER_ID)


# ---------------------------------------------------------------------------------- JWTs


@pytest.mark.parametrize(
    "jwt",
    [ACCESS_TOKEN, DPOP_PROOF, CLIENT_ASSERTION, UNSIGNED_JWT],
    ids=["access-token", "dpop-proof", "client-assertion", "unsigned"],
)
def test_jwts_in_the_message_are_masked(logs, jwt):
    logger.info(f"token endpoint answered with {jwt} for {OKTA_USER_ID}")
    _assert_absent(logs, jwt, jwt.split(".")[1])
    message = logs.last()["message"]
    assert message == f"token endpoint answered with <jwt:redacted> for {OKTA_USER_ID}"


def test_jwts_in_extra_fields_nested_dicts_and_lists_are_masked(logs):
    logger.info(
        "request",
        extra={
            "dpop": DPOP_PROOF,
            "request": {"headers": {"DPoP": DPOP_PROOF}, "form": {"assertion": CLIENT_ASSERTION}},
            "tokens": [ACCESS_TOKEN, {"id_token": ACCESS_TOKEN}],
        },
    )
    _assert_absent(logs, DPOP_PROOF, CLIENT_ASSERTION, ACCESS_TOKEN)
    record = logs.last()
    assert record["dpop"] == "<jwt:redacted>"
    assert record["request"] == {"headers": {"DPoP": "<jwt:redacted>"}, "form": {"assertion": "<jwt:redacted>"}}
    assert record["tokens"] == ["<jwt:redacted>", {"id_token": "<jwt:redacted>"}]


def test_a_dict_message_is_redacted_too(logs):
    logger.info({"access_token": ACCESS_TOKEN, "okta_user_id": OKTA_USER_ID})
    _assert_absent(logs, ACCESS_TOKEN)
    assert logs.last()["message"]["okta_user_id"] == OKTA_USER_ID


# ---------------------------------------------------------------------------------- Authorization values


@pytest.mark.parametrize(
    ("scheme", "value"),
    [
        ("Bearer", OPAQUE_TOKEN),
        ("DPoP", OPAQUE_TOKEN),
        ("SSWS", SSWS_TOKEN),
        ("Bearer", ACCESS_TOKEN),
        ("DPoP", ACCESS_TOKEN),
    ],
    ids=["bearer-opaque", "dpop-opaque", "ssws", "bearer-jwt", "dpop-jwt"],
)
def test_authorization_values_are_masked_in_message_and_extra(logs, scheme, value):
    logger.info(
        f"calling Okta with Authorization: {scheme} {value}",
        extra={"headers": {"Authorization": f"{scheme} {value}", "Accept": "application/json"}},
    )
    _assert_absent(logs, value)
    record = logs.last()
    assert record["message"].startswith(f"calling Okta with Authorization: {scheme} <")
    assert record["headers"]["Authorization"].startswith(f"{scheme} <")
    assert record["headers"]["Accept"] == "application/json"


def test_a_list_of_header_values_is_masked(logs):
    logger.info(
        "multi-value headers",
        extra={"multiValueHeaders": {"Authorization": [f"SSWS {SSWS_TOKEN}"], "DPoP": [DPOP_PROOF]}},
    )
    _assert_absent(logs, SSWS_TOKEN, DPOP_PROOF)
    assert logs.last()["multiValueHeaders"] == {"Authorization": ["SSWS <redacted>"], "DPoP": ["<jwt:redacted>"]}


# ---------------------------------------------------------------------------------- PEM private keys


@pytest.mark.parametrize("kind", sorted(PEMS))
def test_pem_private_keys_in_the_message_are_masked(logs, kind):
    pem = PEMS[kind]
    logger.info(f"loaded key for 0oa1clientid:\n{pem}and moved on")
    _assert_absent(logs, *_pem_body(pem))
    assert logs.last()["message"] == "loaded key for 0oa1clientid:\n<private-key:redacted>\nand moved on"


@pytest.mark.parametrize("kind", sorted(PEMS))
def test_pem_private_keys_in_extra_fields_are_masked(logs, kind):
    pem = PEMS[kind]
    # JSON-escaped newlines (\n) inside a string value, under a field name the field rule does not know
    logger.info("key rotation", extra={"rotation": {"next_key": pem, "kid": "key-2025"}})
    _assert_absent(logs, *_pem_body(pem))
    assert logs.last()["rotation"] == {"next_key": "<private-key:redacted>\n", "kid": "key-2025"}


def test_a_public_key_is_kept(logs):
    public = (
        _EC_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    logger.info("jwks", extra={"public_key_pem": public})
    assert logs.last()["public_key_pem"] == public


# ---------------------------------------------------------------------------------- secret-named fields


SECRET_FIELDS = {
    "client_secret": AUTH0_CLIENT_SECRET,
    "api_token": SSWS_TOKEN,
    "access_token": OPAQUE_TOKEN,
    "private_key": "not-a-pem-but-still-the-private-key-value",
    "client_assertion": "opaque-assertion-value-0123456789",
    "password": PASSWORD,
}


@pytest.mark.parametrize("field", sorted(SECRET_FIELDS))
def test_secret_named_fields_in_extra_are_masked(logs, field):
    value = SECRET_FIELDS[field]
    logger.info("connection", extra={field: value, "client_id": "0oa1clientid"})
    _assert_absent(logs, value)
    record = logs.last()
    assert record[field] == "<redacted>"
    assert record["client_id"] == "0oa1clientid"


def test_secret_named_fields_nested_anywhere_are_masked(logs):
    secret = {"domain": "acme.auth0.com", "client_id": "AbCdEf0123", "client_secret": AUTH0_CLIENT_SECRET}
    okta = {
        "domain": "acme.okta.com",
        "client_id": "0oa1clientid",
        "key_id": "key-2025",
        "dpop": True,
        "dpop_private_key": "dpop-key-material-0123456789",
        "keys": [
            {"private_key": "first-key-material-0123", "key_id": "k1"},
            {"private_key": "second-key-material-4567", "key_id": "k2"},
        ],
    }
    logger.info(
        "secrets loaded",
        extra={
            "auth0": secret,
            "okta": okta,
            "ssws": {"api_token": SSWS_TOKEN},
            "token_response": {"access_token": OPAQUE_TOKEN, "token_type": "Bearer", "expires_in": 86400},
        },
    )
    _assert_absent(
        logs,
        AUTH0_CLIENT_SECRET,
        "dpop-key-material",
        "first-key-material",
        "second-key-material",
        SSWS_TOKEN,
        OPAQUE_TOKEN,
    )
    record = logs.last()
    assert record["auth0"] == {"domain": "acme.auth0.com", "client_id": "AbCdEf0123", "client_secret": "<redacted>"}
    assert record["okta"]["dpop_private_key"] == "<redacted>"
    assert [k["private_key"] for k in record["okta"]["keys"]] == ["<redacted>", "<redacted>"]
    assert [k["key_id"] for k in record["okta"]["keys"]] == ["k1", "k2"]
    assert record["token_response"] == {"access_token": "<redacted>", "token_type": "Bearer", "expires_in": 86400}


@pytest.mark.parametrize(
    "template",
    [
        'client_secret="{v}"',
        'client_secret: "{v}"',
        'client_secret = "{v}"',
        '{{"client_secret": "{v}"}}',
        'password="{v}"',
        'api_token="{v}"',
        'access_token="{v}"',
        'client_assertion="{v}"',
    ],
)
def test_redact_masks_secret_assignments_in_raw_text(template):
    """The rule itself, on text that has not been JSON-serialized (see the gap below for logged strings)."""
    text = template.format(v=AUTH0_CLIENT_SECRET)
    redacted = redact(text)
    assert AUTH0_CLIENT_SECRET not in redacted
    assert '"<redacted>"' in redacted


# ---------------------------------------------------------------------------------- exceptions


def test_exception_text_and_stack_trace_are_redacted(logs):
    try:
        raise RuntimeError(
            f"token endpoint refused Authorization: Bearer {OPAQUE_TOKEN} assertion {CLIENT_ASSERTION} "
            f"for {OKTA_USER_ID}"
        )
    except RuntimeError:
        logger.exception("minting failed", extra={"okta_user_id": OKTA_USER_ID})
    _assert_absent(logs, OPAQUE_TOKEN, CLIENT_ASSERTION)
    record = logs.last()
    assert record["exception_name"] == "RuntimeError"
    assert "Bearer <redacted>" in record["exception"] and "<jwt:redacted>" in record["exception"]
    assert record["stack_trace"]["type"] == "RuntimeError"
    assert "Bearer <redacted>" in record["stack_trace"]["value"]
    assert OKTA_USER_ID in record["stack_trace"]["value"]
    assert record["okta_user_id"] == OKTA_USER_ID


def test_a_pem_in_an_exception_is_redacted(logs):
    pem = PEMS["pkcs8"]
    try:
        raise ValueError(f"could not load private_key {pem}")
    except ValueError:
        logger.exception("bad secret")
    _assert_absent(logs, *_pem_body(pem))
    assert "<private-key:redacted>" in logs.last()["exception"]


def test_exception_passed_as_extra_is_redacted(logs):
    error = PermissionError(f"SSWS {SSWS_TOKEN} lacks okta.users.manage")
    logger.error("call failed", extra={"error": str(error), "error_obj": error})  # json_default=str for objects
    _assert_absent(logs, SSWS_TOKEN)
    record = logs.last()
    assert record["error"] == record["error_obj"] == "SSWS <redacted> lacks okta.users.manage"


# ---------------------------------------------------------------------------------- through the handler decorator


def test_records_inside_a_decorated_handler_are_redacted_and_carry_the_context(logs):
    @observability.handler(correlation_id_path="correlation_id", trace=False)
    def lambda_handler(event, context):
        logger.info(
            "minted",
            extra={"token": ACCESS_TOKEN, "client_secret": AUTH0_CLIENT_SECRET, "okta_user_id": event["okta_user_id"]},
        )
        return {"ok": True}

    assert lambda_handler({"okta_user_id": OKTA_USER_ID, "correlation_id": EVENT_UUID}, FakeContext()) == {"ok": True}
    _assert_absent(logs, ACCESS_TOKEN, AUTH0_CLIENT_SECRET)
    record = logs.last()
    assert record["token"] == "<jwt:redacted>"
    assert record["client_secret"] == "<redacted>"
    assert record["okta_user_id"] == OKTA_USER_ID
    assert record["correlation_id"] == EVENT_UUID
    assert record["function_name"] == "UpdateMetadataFunction"
    assert record["function_request_id"] == FakeContext.aws_request_id


def test_a_logged_invoke_api_event_loses_its_tokens(logs, monkeypatch):
    """POWERTOOLS_LOGGER_LOG_EVENT=true logs every event: the invoke API's Bearer/DPoP headers are masked."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")

    @observability.handler(trace=False)
    def lambda_handler(event, context):
        return None

    event = {
        "httpMethod": "POST",
        "path": "/provisioning/runs",
        "headers": {"Authorization": f"DPoP {ACCESS_TOKEN}", "DPoP": DPOP_PROOF, "Host": "api.example"},
        "multiValueHeaders": {"Authorization": [f"Bearer {OPAQUE_TOKEN}"], "DPoP": [DPOP_PROOF]},
    }
    lambda_handler(event, FakeContext())
    _assert_absent(logs, ACCESS_TOKEN, DPOP_PROOF, OPAQUE_TOKEN)
    logged = next(r["message"] for r in logs.records if isinstance(r["message"], dict))
    assert logged["path"] == "/provisioning/runs"
    assert logged["headers"]["Host"] == "api.example"


# ---------------------------------------------------------------------------------- ordinary data is kept


def test_identifiers_emails_and_outcomes_are_kept_verbatim(logs):
    extra = {
        "okta_user_id": OKTA_USER_ID,
        "auth0_user_ids": [AUTH0_USER_ID, SAML_USER_ID],
        "email": EMAIL,
        "event_uuid": EVENT_UUID,
        "execution_arn": EXECUTION_ARN,
        "published": "2024-05-02T09:14:01.862Z",
        "client_id": "0oaOperatorApp00000",
        "key_id": "key-2025",
        "token_type": "DPoP",
        "token_ref": "minted-1714641243411",
        "expires_at": "2024-05-02T10:14:01Z",
        "role_id": "rol_rRVnAbarjZsuC2Xn",
        "group_id": "00gU18bXbD9XEKxR56aB",
        "counts": {"flagged": 2, "failed": 0},
        "access": {"sessions": "revoked", "refresh_tokens": "revoked"},
        "scopes": "sync.provision sync.read",
    }
    logger.info(f"deactivation sync for {OKTA_USER_ID} ({EMAIL}), event {EVENT_UUID}", extra=extra)
    record = logs.last()
    assert record["message"] == f"deactivation sync for {OKTA_USER_ID} ({EMAIL}), event {EVENT_UUID}"
    for key, value in extra.items():
        assert record[key] == value, key
    assert "redacted" not in logs.text


@pytest.mark.parametrize(
    "message",
    [
        "the token lacks scope okta.users.manage: grant it on the app's Okta API Scopes tab",
        "Okta requires DPoP for this app (invalid_dpop_proof)",
        "an SSWS API token connection has nothing to mint",
        "the password policy of the group forbids this",
        "Bearer token sent for a DPoP-bound token",
        'Bearer realm="okta-auth0-sync", error="insufficient_scope", error_description="needs sync.read", '
        'scope="sync.read", DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512"',
        "secret okta: 'private_key' must be a PEM private key or a private JWK",
    ],
)
def test_error_messages_that_only_mention_secrets_are_kept(logs, message):
    logger.warning(message)
    assert logs.last()["message"] == message


def test_redact_is_idempotent_and_leaves_clean_text_alone():
    dirty = f'Authorization: Bearer {OPAQUE_TOKEN} {ACCESS_TOKEN} "client_secret": "{AUTH0_CLIENT_SECRET}"'
    once = redact(dirty)
    assert redact(once) == once
    clean = f"{OKTA_USER_ID} {AUTH0_USER_ID} {EMAIL} {EVENT_UUID}"
    assert redact(clean) == clean


# ---------------------------------------------------------------------------------- the event hook secret


def test_the_event_hook_secret_fields_are_masked(logs):
    logger.info(
        "event hook secret loaded", extra={"secret": {"current": HOOK_SECRET, "previous": "old-" + HOOK_SECRET}}
    )
    _assert_absent(logs, HOOK_SECRET)
    assert logs.last()["secret"] == "<redacted>"  # a field named like a secret loses its whole value


def test_an_event_hook_secret_without_a_previous_value_is_masked(logs):
    logger.info("rotated", extra={"hook": {"current": HOOK_SECRET, "previous": ""}})
    _assert_absent(logs, HOOK_SECRET)
    assert logs.last()["hook"] == {"current": "<redacted>", "previous": ""}


@pytest.mark.parametrize(
    "text",
    [
        f"secret {{'current': '{HOOK_SECRET}', 'previous': 'old-{HOOK_SECRET}'}}",
        f'secret {{"previous": "", "current": "{HOOK_SECRET}"}}',
    ],
    ids=["repr", "json"],
)
def test_the_event_hook_secret_in_text_is_masked(logs, text):
    logger.info(text)
    _assert_absent(logs, HOOK_SECRET)
    assert "<redacted>" in logs.last()["message"]


def test_a_current_field_elsewhere_is_kept(logs):
    logger.info("status", extra={"state": {"current": "ACTIVE", "target": "DEPROVISIONED"}})
    assert logs.last()["state"] == {"current": "ACTIVE", "target": "DEPROVISIONED"}


def test_the_event_hook_authorization_header_in_a_logged_event_is_masked(logs, monkeypatch):
    """The raw Okta event hook Authorization header is the shared secret, without a scheme."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")

    @observability.handler(trace=False)
    def lambda_handler(event, context):
        return None

    lambda_handler({"rawPath": "/okta/event-hook", "headers": {"authorization": HOOK_SECRET}}, FakeContext())
    _assert_absent(logs, HOOK_SECRET)
    logged = next(r["message"] for r in logs.records if isinstance(r["message"], dict))
    assert logged == {"rawPath": "/okta/event-hook", "headers": {"authorization": "<redacted>"}}


@pytest.mark.parametrize(
    "header",
    ["authorization", "Authorization", "AUTHORIZATION", "Proxy-Authorization", "x-okta-verification-challenge"],
)
def test_credential_headers_are_masked_whatever_their_case(logs, header):
    logger.info("request", extra={"headers": {header: HOOK_SECRET, "user-agent": "Okta Event Hooks"}})
    _assert_absent(logs, HOOK_SECRET)
    assert logs.last()["headers"] == {header: "<redacted>", "user-agent": "Okta Event Hooks"}


@pytest.mark.parametrize(
    "text",
    [
        f"authorization: {HOOK_SECRET}",
        f"Authorization={HOOK_SECRET}",
        f"X-Okta-Verification-Challenge: {HOOK_SECRET}",
        f"{{'authorization': '{HOOK_SECRET}'}}",
        f'{{"AUTHORIZATION": "{HOOK_SECRET}"}}',
        f"Authorization: Basic {HOOK_SECRET}",
    ],
)
def test_credential_headers_in_text_are_masked(logs, text):
    logger.info(f"headers {text}")
    _assert_absent(logs, HOOK_SECRET)


def test_the_real_event_hook_never_logs_its_secret_with_every_event_log_option(logs, monkeypatch):
    """The deployed event hook function, imported with POWERTOOLS_LOGGER_LOG_EVENT=true and run at
    DEBUG: the verification request's secret and challenge are in no log line."""
    import importlib.util
    from pathlib import Path

    import boto3
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    challenge = "verification-challenge-0123456789abcdef"
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    monkeypatch.setenv(
        "DEACTIVATION_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:DeactivationSync"
    )
    logger.setLevel("DEBUG")
    with mock_aws():
        parameters.clear_caches()
        secret = boto3.client("secretsmanager").create_secret(
            Name="log-redaction/okta-event-hook",
            SecretString=json.dumps({"current": HOOK_SECRET, "previous": "old-" + HOOK_SECRET}),
        )
        monkeypatch.setenv("EVENT_HOOK_SECRET_ID", secret["ARN"])
        path = Path(__file__).resolve().parents[2] / "functions" / "event_hook" / "app.py"
        spec = importlib.util.spec_from_file_location("log_redaction_event_hook", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        responses = [
            module.lambda_handler(_hook_event(authorization, challenge), FakeContext())
            for authorization in (HOOK_SECRET, "old-" + HOOK_SECRET, "Bearer " + HOOK_SECRET, HOOK_SECRET[:-1])
        ]
        parameters.clear_caches()
    assert [r["statusCode"] for r in responses] == [200, 200, 401, 401]
    _assert_absent(logs, HOOK_SECRET, HOOK_SECRET[:-1], challenge)
    events = [r["message"] for r in logs.records if isinstance(r["message"], dict)]
    assert len(events) == 4, "event logging is on: every event is logged, redacted"
    assert [e["headers"]["authorization"] for e in events] == [
        "<redacted>",
        "<redacted>",
        "Bearer <redacted>",
        "<redacted>",
    ]
    assert all(e["headers"]["x-okta-verification-challenge"] == "<redacted>" for e in events)
    assert all(e["rawPath"] == "/okta/event-hook" for e in events)


def _hook_event(authorization: str, challenge: str) -> dict:
    return {
        "version": "2.0",
        "routeKey": "GET /okta/event-hook",
        "rawPath": "/okta/event-hook",
        "rawQueryString": "",
        "headers": {
            "authorization": authorization,
            "x-okta-verification-challenge": challenge,
            "user-agent": "Okta Event Hooks",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.test",
            "http": {
                "method": "GET",
                "path": "/okta/event-hook",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Okta Event Hooks",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "GET /okta/event-hook",
            "stage": "$default",
            "timeEpoch": 1714641243411,
        },
        "isBase64Encoded": False,
    }


# ---------------------------------------------------------------------------------- private JWKs


def test_a_private_jwk_loses_its_private_members(logs):
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "d": JWK_D,
    }
    logger.info("okta connection", extra={"okta": {"private_key": jwk, "key_id": "k1"}, "dpop_jwk": jwk})
    _assert_absent(logs, JWK_D)
    record = logs.last()
    assert record["okta"] == {"private_key": "<redacted>", "key_id": "k1"}
    assert record["dpop_jwk"] == {**jwk, "d": "<redacted>"}  # the public members are kept


def test_rsa_and_symmetric_jwk_private_members_are_masked(logs):
    members = {name: f"{name}-private-member-value-0123456789" for name in ("d", "p", "q", "dp", "dq", "qi")}
    rsa_jwk = {"kty": "RSA", "n": "public-modulus", "e": "AQAB", "kid": "k1", **members}
    oct_jwk = {"kty": "oct", "k": "symmetric-key-material-0123456789"}
    logger.info("keys", extra={"jwks": {"keys": [rsa_jwk, oct_jwk]}})
    _assert_absent(logs, *members.values(), oct_jwk["k"])
    rsa_logged, oct_logged = logs.last()["jwks"]["keys"]
    assert rsa_logged == {"kty": "RSA", "n": "public-modulus", "e": "AQAB", "kid": "k1"} | dict.fromkeys(
        members, "<redacted>"
    )
    assert oct_logged == {"kty": "oct", "k": "<redacted>"}


def test_a_private_jwk_in_text_is_masked(logs):
    jwk = {"kty": "EC", "crv": "P-256", "x": "xx", "y": "yy", "d": JWK_D}
    logger.info(f"could not use key {json.dumps(jwk)}")
    logger.info(f"could not use key {jwk}")
    _assert_absent(logs, JWK_D)
    assert all('"kty": "EC"' in r["message"] or "'kty': 'EC'" in r["message"] for r in logs.records)


def test_a_public_jwk_is_kept(logs):
    jwk = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN"}
    logger.info("jwks", extra={"jwk": jwk})
    assert logs.last()["jwk"] == jwk


# ---------------------------------------------------------------------------------- secrets inside strings


ESCAPED_FORMS = {
    "message-assignment": ("message", 'config dump client_secret="{v}"'),
    "message-json": ("message", 'config dump {{"client_secret": "{v}"}}'),
    "message-colon": ("message", 'api_token: "{v}"'),
    "body-in-extra": ("extra", '{{"grant_type": "client_credentials", "client_secret": "{v}"}}'),
    "exception-text": ("exception", 'token request {{"password": "{v}"}} refused'),
}


@pytest.mark.parametrize("form", sorted(ESCAPED_FORMS))
def test_secret_fields_inside_strings_are_masked(logs, form):
    """A message, an exception text or a body logged as a string: redacted before it is
    JSON-escaped."""
    where, template = ESCAPED_FORMS[form]
    text = template.format(v=AUTH0_CLIENT_SECRET)
    if where == "message":
        logger.info(text)
    elif where == "extra":
        logger.info("token request", extra={"body": text})
    else:
        try:
            raise RuntimeError(text)
        except RuntimeError:
            logger.exception("minting failed")
    _assert_absent(logs, AUTH0_CLIENT_SECRET)
    record = logs.last()
    if where == "message":
        assert record["message"] == template.format(v="<redacted>")
    elif where == "extra":
        assert json.loads(record["body"]) == {"grant_type": "client_credentials", "client_secret": "<redacted>"}
    else:
        assert template.format(v="<redacted>") in record["exception"]


def test_a_json_document_escaped_twice_is_masked(logs):
    inner = json.dumps({"client_secret": AUTH0_CLIENT_SECRET, "client_id": "AbCdEf0123"})
    logger.info("cached body", extra={"body": json.dumps({"payload": inner})})
    _assert_absent(logs, AUTH0_CLIENT_SECRET)
    assert "AbCdEf0123" in logs.last()["body"]


def test_a_secret_field_in_a_python_repr_is_masked(logs):
    secret = {"client_id": "AbCdEf0123", "client_secret": AUTH0_CLIENT_SECRET}
    try:
        raise KeyError(f"audience missing from {secret}")
    except KeyError:
        logger.exception("bad Auth0 secret")
    _assert_absent(logs, AUTH0_CLIENT_SECRET)
    assert "'client_id': 'AbCdEf0123', 'client_secret': '<redacted>'" in logs.last()["exception"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"client_secret={AUTH0_CLIENT_SECRET}&grant_type=client_credentials",
            "client_secret=<redacted>&grant_type=client_credentials",
        ),
        (f"password={PASSWORD}", "password=<redacted>"),
        (f"grant_type=refresh_token&refresh_token={OPAQUE_TOKEN}", "grant_type=refresh_token&refresh_token=<redacted>"),
        (f"api_token: {SSWS_TOKEN} (from the file)", "api_token: <redacted> (from the file)"),
    ],
    ids=["form-encoded", "key-value", "refresh-form", "colon"],
)
def test_unquoted_secret_values_are_masked(logs, text, expected):
    logger.info(f"posting {text}")
    _assert_absent(logs, AUTH0_CLIENT_SECRET, PASSWORD, OPAQUE_TOKEN, SSWS_TOKEN)
    assert logs.last()["message"] == f"posting {expected}"


@pytest.mark.parametrize(
    "field", ["CLIENT_SECRET", "clientSecret", "Client-Secret", "refresh_token", "refreshToken", "id_token", "apiKey"]
)
def test_other_spellings_of_secret_fields_are_masked(logs, field):
    logger.info("config", extra={field: AUTH0_CLIENT_SECRET})
    logger.info(f'config {{"{field}": "{AUTH0_CLIENT_SECRET}"}}')
    logger.info(f"config {field}={AUTH0_CLIENT_SECRET}")
    _assert_absent(logs, AUTH0_CLIENT_SECRET)
    assert logs.records[0][field] == "<redacted>"


@pytest.mark.parametrize("scheme", ["bearer", "dpop", "ssws", "BEARER", "Dpop"])
def test_auth_schemes_are_masked_in_any_case(logs, scheme):
    logger.info(f"authorization: {scheme} {OPAQUE_TOKEN}")
    logger.info(f"sent {scheme} {SSWS_TOKEN} to Okta")
    _assert_absent(logs, OPAQUE_TOKEN, SSWS_TOKEN)
    first, second = logs.records
    assert first["message"] == f"authorization: {scheme} <redacted>"
    assert second["message"] == f"sent {scheme} <redacted> to Okta"


def test_a_secret_value_with_a_quote_is_masked_whole(logs):
    value = 'first-half"second-half-of-the-secret'
    logger.info("connection", extra={"client_secret": value})
    logger.info(f"connection {json.dumps({'client_secret': value})}")
    logger.info("connection " + repr({"client_secret": value}))
    _assert_absent(logs, "first-half", "second-half-of-the-secret")
    assert logs.records[0]["client_secret"] == "<redacted>"
    assert logs.records[1]["message"] == 'connection {"client_secret": "<redacted>"}'


def test_a_truncated_pem_is_masked(logs):
    pem = PEMS["pkcs8"]
    logger.error(f"could not load key: {pem[:120]}")
    logger.error("could not load key", extra={"cause": pem[:90]})
    _assert_absent(logs, _pem_body(pem)[0][:40], _pem_body(pem)[1][:12])
    assert logs.records[0]["message"] == "could not load key: <private-key:redacted>"
    assert logs.records[1]["cause"] == "<private-key:redacted>"


# ---------------------------------------------------------------------------------- robustness


def test_prose_about_secrets_tokens_and_schemes_is_kept(logs):
    messages = [
        "bearer authentication is required",
        "the token: expired tokens are refreshed",
        "Auth0 rejected the Management API token: Invalid token. The token is refused",
        "event hook secret: field 'current' is missing or empty",
        "SSWS API token: nothing to mint (it is sent as is)",
        "secret auth0: 'client_secret' is missing",
        'WWW-Authenticate: Bearer error="invalid_token", error_description="expired"',
        "the current secret and the previous one are both accepted",
        "missing X-Okta-Verification-Challenge",
        "event hook request with a missing or wrong Authorization header",
    ]
    for message in messages:
        logger.warning(message)
    assert [r["message"] for r in logs.records] == messages


def test_objects_json_does_not_know_are_redacted_as_text(logs):
    class Connection:
        def __str__(self) -> str:
            return f"Connection(client_secret={AUTH0_CLIENT_SECRET}, token={ACCESS_TOKEN})"

    logger.info("connection", extra={"connection": Connection(), "ids": (OKTA_USER_ID, AUTH0_USER_ID)})
    _assert_absent(logs, AUTH0_CLIENT_SECRET, ACCESS_TOKEN)
    record = logs.last()
    assert record["connection"] == "Connection(client_secret=<redacted>, token=<jwt:redacted>)"
    assert record["ids"] == [OKTA_USER_ID, AUTH0_USER_ID]


def test_a_deeply_nested_value_is_logged_without_a_crash(logs):
    nested: list = []
    for _ in range(5000):
        nested = [nested]
    logger.info("deep", extra={"events": nested, "okta_user_id": OKTA_USER_ID})
    record = logs.last()
    assert record["okta_user_id"] == OKTA_USER_ID
    assert "nested too deeply" in json.dumps(record["events"])


HOSTILE_TEXTS = {
    "jwt-prefixes": "eyJ" * 70_000,
    "pem-begins-without-end": "-----BEGIN PRIVATE KEY-----" * 8_000,
    "names-and-colons": "secret:" * 30_000 + "a",
    "escaped-quotes": 'client_secret: \\"' * 20_000,
    "header-names": "authorization: " * 15_000,
    "schemes": "bearer " * 30_000,
    "form-ampersands": "password=" + "&a" * 100_000,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_TEXTS))
def test_redaction_takes_linear_time_on_hostile_text(kind):
    """A logged event can hold 256 KB an attacker chose: no rule may rescan it from every
    position (the JWT rule once took minutes on 180 KB of "eyJ"). A few tens of ms each here."""
    import time

    text = HOSTILE_TEXTS[kind]
    started = time.process_time()
    redact(text)
    assert time.process_time() - started < 2.0


def test_the_record_handed_to_the_logger_is_not_changed(logs):
    extra = {"auth0": {"client_secret": AUTH0_CLIENT_SECRET}, "headers": {"authorization": HOOK_SECRET}}
    logger.info("secrets", extra=extra)
    assert extra == {"auth0": {"client_secret": AUTH0_CLIENT_SECRET}, "headers": {"authorization": HOOK_SECRET}}
    _assert_absent(logs, AUTH0_CLIENT_SECRET, HOOK_SECRET)


@pytest.mark.parametrize(
    "dirty",
    [
        f"client_secret={AUTH0_CLIENT_SECRET}&x=1 authorization: bearer {OPAQUE_TOKEN}",
        f"{{'current': '{HOOK_SECRET}', 'previous': ''}} {PEMS['pkcs8'][:100]}",
        f'{{"kty": "EC", "d": "{JWK_D}"}} Authorization: {HOOK_SECRET} password: "a\\"b"',
    ],
)
def test_redact_is_idempotent_on_every_rule(dirty):
    once = redact(dirty)
    assert once != dirty
    assert redact(once) == once


# ---------------------------------------------------------------------------------- no logger bypasses it


def test_no_library_module_logs_through_a_logger_of_its_own():
    """Records of a plain ``logging.getLogger(__name__)`` reach the Lambda runtime's handler as
    plain text, unredacted: every module logs through ``okta_auth0_sync.base.logs.logger``."""
    import re
    from pathlib import Path

    import okta_auth0_sync

    root = Path(okta_auth0_sync.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"logging\.getLogger\(|\bLogger\(", line) and path.name != "logs.py"
    ]
    assert offenders == []


def test_the_token_cache_logs_through_the_redacting_logger(logs):
    from okta_auth0_sync.clients.tokens import cache

    assert cache.log is logger
    cache.log.warning("token cache: read failed", extra={"client_secret": AUTH0_CLIENT_SECRET})
    _assert_absent(logs, AUTH0_CLIENT_SECRET)
    assert logs.last()["message"] == "token cache: read failed"


# ------------------------------------------------- records never reach a root handler; botocore bodies
CLIENT_SECRET_VALUE = "k9TqZ4mW8xR2vB6nH1sJ5dL3pF7gC0yE-auth0-client-secret"


@pytest.fixture
def root_at_debug():
    """The root logger at DEBUG with a handler of its own: what Lambda's runtime has when the
    function's ApplicationLogLevel is DEBUG (advanced logging controls)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_package_logger_never_hands_its_records_to_a_root_handler(logs, root_at_debug):
    """A handler added to the root logger after the package's logger was made (Powertools filters
    only the ones present then) would print records unredacted: they never reach it."""
    logger.info("token answer", extra={"body": f"client_secret={CLIENT_SECRET_VALUE}&grant_type=client_credentials"})
    assert "token answer" in logs.text and CLIENT_SECRET_VALUE not in logs.text
    assert root_at_debug.getvalue() == ""


def test_botocore_bodies_and_signed_headers_are_not_logged_at_debug(monkeypatch, root_at_debug):
    """Secrets Manager's answers (SecretString), PutSecretValue requests and the role's session
    token are in botocore's DEBUG lines; those loggers are held at INFO whatever the root level."""
    import boto3
    from moto import mock_aws

    session_token = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN0123456789abcdef"
    monkeypatch.setenv("AWS_SESSION_TOKEN", session_token)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        value = json.dumps({"client_secret": CLIENT_SECRET_VALUE})
        arn = client.create_secret(Name="debug/auth0", SecretString=value)["ARN"]
        client.put_secret_value(SecretId=arn, SecretString=value.replace('"}', '-rotated"}'))
        assert CLIENT_SECRET_VALUE in client.get_secret_value(SecretId=arn)["SecretString"]
    text = root_at_debug.getvalue()
    assert "Event before-call.secrets-manager.GetSecretValue" in text  # botocore's own DEBUG chatter still flows
    assert CLIENT_SECRET_VALUE not in text and session_token not in text
