"""The invoke API's resource server: every good and bad token case, decided offline."""

import base64
import hashlib
import hmac
import importlib.util
import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from okta_auth0_sync.base.errors import ConfigurationError
from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.dpop import DpopKey
from okta_auth0_sync.jose.jwks import JWKS_MAX_AGE, JwksCache
from okta_auth0_sync.jose.resource_server import AuthFailure, ResourceServer, ResourceServerNotConfigured
from okta_auth0_sync.services import invoke
from okta_auth0_sync.store.replay import ProofReplayCache
from okta_auth0_sync_testbed.template import load_template

ISSUER = "https://acme.okta.com/oauth2/aus1"
AUDIENCE = "api://okta-auth0-sync"
URL = "https://abc.execute-api.us-east-1.amazonaws.com/v1/provisioning/runs"
NOW = time.time()


@pytest.fixture(scope="module")
def signing():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, {**keys.public_jwk(key, kid="as-key-1"), "alg": "RS256", "use": "sig"}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server(signing):
    fetches = []

    def fetch(uri):
        fetches.append(uri)
        return {"keys": [signing[1]]}

    clock = Clock()
    rs = ResourceServer(
        ISSUER, AUDIENCE, JwksCache(f"{ISSUER}/v1/keys", fetch, clock=clock), ProofReplayCache(None), clock=clock
    )
    rs.fetches = fetches
    rs.time = clock
    return rs


def token(signing, *, alg="RS256", kid="as-key-1", key=None, **claims):
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
        "cid": "0oaCaller",
        "sub": "0oaCaller",
        "scp": ["sync.provision"],
        "jti": str(uuid.uuid4()),
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key or signing[0], algorithm=alg, headers={"kid": kid} if kid else None)


def authenticate(server, value, *, scheme="Bearer", dpop=None, method="POST", url=URL, scope="sync.provision"):
    """What the invoke API does: the authorizer authenticates, the function checks the route's scope."""
    caller = server.authenticate(
        authorization=f"{scheme} {value}" if value is not None else None, dpop=dpop, method=method, url=url
    )
    if scope:
        caller.require(scope)
    return caller


def failure(server, *args, **kwargs) -> AuthFailure:
    with pytest.raises(AuthFailure) as raised:
        authenticate(server, *args, **kwargs)
    return raised.value


def test_a_good_token(server, signing):
    caller = authenticate(server, token(signing))
    assert caller.client_id == "0oaCaller" and caller.token_type == "Bearer"
    assert caller.context() == {
        "client_id": "0oaCaller",
        "scopes": "sync.provision",
        "token_type": "Bearer",
        "subject": "0oaCaller",
    }


def test_scope_claim_as_a_string_too(server, signing):
    assert authenticate(server, token(signing, scp=None, scope="sync.read sync.provision")).client_id


ALGS = 'algs="RS256 RS384 RS512 ES256 ES384 ES512"'


def test_no_credentials_is_401_without_an_error_code(server):
    f = failure(server, None)
    assert (f.status, f.error) == (401, None)
    # RFC 6750 3.1: no error code without credentials; RFC 9449 7.2: both schemes, DPoP with algs
    assert f.www_authenticate == f'Bearer realm="okta-auth0-sync", DPoP realm="okta-auth0-sync", {ALGS}'


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(NOW) - 120, "iat": int(NOW) - 3700}, "expired"),
        ({"iss": "https://acme.okta.com/oauth2/default"}, "issuer"),
        ({"iss": "https://acme.okta.com"}, "issuer"),  # an org authorization server token
        ({"aud": "https://acme.okta.com"}, "audience"),
        ({"nbf": int(NOW) + 600}, "not valid yet"),
        ({"iat": int(NOW) + 600}, "not valid yet"),  # issued in the future
        ({"exp": None}, "invalid"),
    ],
)
def test_bad_claims_are_401_invalid_token(server, signing, claims, reason):
    # The times above were set at import; a slow run starts this test minutes later (nbf = NOW + 600
    # once looked valid): they are moved by as long as that took.
    drift = int(time.time()) - int(NOW)
    claims = {k: v + drift if k in ("exp", "nbf", "iat") and isinstance(v, int) else v for k, v in claims.items()}
    f = failure(server, token(signing, **claims))
    assert (f.status, f.error) == (401, "invalid_token") and reason in f.description
    assert 'error="invalid_token"' in f.www_authenticate


def test_missing_scope_is_403_insufficient_scope(server, signing):
    f = failure(server, token(signing, scp=["sync.read"]))
    assert (f.status, f.error, f.scope) == (403, "insufficient_scope", "sync.provision")
    assert 'scope="sync.provision"' in f.www_authenticate


def test_authentication_alone_does_not_judge_scopes(server, signing):
    """The authorizer authenticates whatever the scopes (the invoke function checks the route's)."""
    caller = authenticate(server, token(signing, scp=["sync.read"]), scope=None)
    assert caller.scopes == {"sync.read"} and caller.context()["scopes"] == "sync.read"
    caller.require("sync.read")
    with pytest.raises(AuthFailure):
        caller.require("sync.provision")


def test_alg_none_is_refused(server, signing):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "as-key-1"}).encode()).rstrip(b"=")
    claims = jwt.decode(token(signing), options={"verify_signature": False})
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    f = failure(server, f"{header.decode()}.{body.decode()}.")
    assert f.status == 401 and "algorithm none" in f.description


def test_hs256_signed_with_the_public_key_is_refused(server, signing):
    public_pem = (
        signing[0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = json.dumps({"alg": "HS256", "kid": "as-key-1", "typ": "JWT"}).encode()
    header = base64.urlsafe_b64encode(header).rstrip(b"=")
    claims = jwt.decode(token(signing), options={"verify_signature": False})
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
    f = failure(server, b".".join([header, body, sig]).decode())
    assert f.status == 401 and "algorithm HS256" in f.description


def test_unknown_kid_refetches_the_jwks_once_then_refuses(server, signing):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    authenticate(server, token(signing))  # first fetch
    server.time.now += 120  # the minimum refetch interval has passed
    f = failure(server, token(signing, kid="rotated-key", key=other))
    assert f.status == 401 and "unknown signing key" in f.description
    assert len(server.fetches) == 2
    failure(server, token(signing, kid="another-unknown", key=other))
    assert len(server.fetches) == 2  # a flood of made-up kids does not hammer the issuer


def test_key_rotation_is_picked_up_through_the_refetch(signing):
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    served = [[signing[1]]]
    clock = Clock()
    rs = ResourceServer(
        ISSUER, AUDIENCE, JwksCache("u", lambda _: {"keys": served[0]}, clock=clock), ProofReplayCache(None)
    )
    authenticate(rs, token(signing))
    served[0] = [signing[1], keys.public_jwk(new, kid="as-key-2")]
    clock.now += 120
    assert authenticate(rs, token(signing, kid="as-key-2", key=new)).client_id == "0oaCaller"


def test_tampered_payload_is_refused(server, signing):
    good = token(signing, scp=["sync.read"])
    header, _, sig = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False}) | {"scp": ["sync.provision"]}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    f = failure(server, f"{header}.{body}.{sig}")
    assert (f.status, f.error) == (401, "invalid_token")


def test_a_key_that_does_not_fit_the_alg_is_refused(server, signing):
    f = failure(server, token(signing, alg="ES256", key=ec.generate_private_key(ec.SECP256R1())))
    assert f.status == 401 and "does not fit" in f.description


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token"])
def test_malformed_authorization_headers(server, header):
    with pytest.raises(AuthFailure) as raised:
        server.authenticate(authorization=header, dpop=None, method="GET", url=URL)
    assert (raised.value.status, raised.value.error) == (401, "invalid_request")


# -- DPoP ------------------------------------------------------------------------------------------
@pytest.fixture
def bound(signing):
    key = DpopKey.generate()
    return key, token(signing, cnf={"jkt": key.jkt})


def test_dpop_bound_token_with_a_good_proof(server, bound):
    key, value = bound
    caller = authenticate(server, value, scheme="DPoP", dpop=key.proof("POST", URL, access_token=value))
    assert caller.token_type == "DPoP"


def test_dpop_proof_url_with_query_and_default_port_still_matches(server, bound):
    key, value = bound
    proof = key.proof("POST", URL.replace(".com/", ".com:443/") + "?x=1", access_token=value)
    assert authenticate(server, value, scheme="DPoP", dpop=proof).token_type == "DPoP"


def test_dpop_proof_is_single_use(server, bound):
    key, value = bound
    proof = key.proof("POST", URL, access_token=value)
    authenticate(server, value, scheme="DPoP", dpop=proof)
    f = failure(server, value, scheme="DPoP", dpop=proof)
    assert (f.status, f.error, f.scheme) == (401, "invalid_dpop_proof", "DPoP") and "already used" in f.description
    assert f.www_authenticate.startswith('DPoP realm="okta-auth0-sync", error="invalid_dpop_proof"')


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda k, v: k.proof("POST", URL.replace("/runs", "/other"), access_token=v), "htu"),
        (lambda k, v: k.proof("GET", URL, access_token=v), "htm"),
        (lambda k, v: k.proof("POST", URL, access_token=v + "x"), "ath"),
        (lambda k, v: k.proof("POST", URL), "ath"),
        (lambda k, v: k.proof("POST", URL, access_token=v, now=NOW - 3600), "stale"),
        (lambda k, v: None, "exactly one"),
        (lambda k, v: [k.proof("POST", URL, access_token=v)] * 2, "exactly one"),
        (lambda k, v: "not-a-jwt", "not a JWT"),
    ],
)
def test_bad_dpop_proofs(server, bound, make, reason):
    key, value = bound
    f = failure(server, value, scheme="DPoP", dpop=make(key, value))
    assert (f.status, f.error) == (401, "invalid_dpop_proof") and reason in f.description


def test_dpop_proof_with_a_private_jwk_or_wrong_typ_is_refused(server, bound):
    key, value = bound
    claims = {
        "htm": "POST",
        "htu": URL,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "ath": base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest()).rstrip(b"=").decode(),
    }
    leaky = jwt.encode(claims, key.private, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": key.to_jwk()})
    assert "public key" in failure(server, value, scheme="DPoP", dpop=leaky).description
    plain = jwt.encode(claims, key.private, algorithm="ES256", headers={"typ": "JWT", "jwk": key.public})
    assert "typ" in failure(server, value, scheme="DPoP", dpop=plain).description


def test_dpop_bound_token_as_bearer_and_plain_token_as_dpop_are_refused(server, signing, bound):
    key, value = bound
    assert "presented as Bearer" in failure(server, value).description
    plain = token(signing)
    assert (
        "not DPoP-bound"
        in failure(server, plain, scheme="DPoP", dpop=key.proof("POST", URL, access_token=plain)).description
    )


def test_a_proof_signed_by_another_key_is_an_invalid_dpop_key_binding(server, bound):
    _, value = bound
    f = failure(server, value, scheme="DPoP", dpop=DpopKey.generate().proof("POST", URL, access_token=value))
    # RFC 9449 7.1's own example: the token's binding failed, so the token is what is invalid
    assert (f.status, f.error) == (401, "invalid_token") and "Invalid DPoP key binding" in f.description
    assert f.www_authenticate.startswith('DPoP realm="okta-auth0-sync", error="invalid_token"')


# -- issue 10: NumericDate claims ------------------------------------------------------------------
@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "9999999999"},  # PyJWT takes it through int()
        {"exp": str(int(NOW) + 3600)},
        {"nbf": True},  # int(True) == 1: long past
        {"nbf": str(int(NOW) - 60)},
        {"iat": str(int(NOW))},
        {"iat": True},
        {"iat": False},
        {"iat": [int(NOW)]},
    ],
)
def test_time_claims_that_are_not_json_numbers_are_refused(server, signing, claims):
    f = failure(server, token(signing, **claims))
    assert (f.status, f.error) == (401, "invalid_token")
    assert "NumericDate" in f.description or "invalid" in f.description


def test_fractional_numeric_dates_are_numbers_too(server, signing):
    caller = authenticate(server, token(signing, iat=NOW - 1.5, nbf=NOW - 0.25, exp=NOW + 3600.5))
    assert caller.expires_at == int(NOW + 3600.5)


def test_a_dpop_proof_whose_iat_is_not_a_number_is_refused(server, bound):
    key, value = bound

    def proof(iat):
        claims = {"htm": "POST", "htu": URL, "iat": iat, "jti": str(uuid.uuid4()), "ath": keys.sha256_b64url(value)}
        return jwt.encode(claims, key.private, algorithm=key.alg, headers={"typ": "dpop+jwt", "jwk": key.public})

    for iat in (float("nan"), str(int(time.time())), float("inf")):  # NaN used to pass as fresh
        f = failure(server, value, scheme="DPoP", dpop=proof(iat))
        assert (f.status, f.error) == (401, "invalid_dpop_proof") and "NumericDate" in f.description, iat


def test_a_dpop_proof_with_a_malformed_jwk_is_refused_not_an_error(server, bound):
    key, value = bound
    claims = {"htm": "POST", "htu": URL, "iat": int(time.time()), "jti": "j", "ath": keys.sha256_b64url(value)}
    header = {"typ": "dpop+jwt", "jwk": {**key.public, "x": "AAAA"}}  # PyJWT raises InvalidKeyError on it
    f = failure(server, value, scheme="DPoP", dpop=jwt.encode(claims, key.private, algorithm=key.alg, headers=header))
    assert (f.status, f.error) == (401, "invalid_dpop_proof") and "does not fit" in f.description


# -- issue 10: challenges (RFC 6750 3, RFC 9449 7.1) -----------------------------------------------
def test_a_refused_bearer_token_is_told_the_error_and_offered_dpop(server, signing):
    f = failure(server, token(signing, exp=int(NOW) - 120, iat=int(NOW) - 3700))
    assert f.www_authenticate == (
        'Bearer realm="okta-auth0-sync", error="invalid_token", error_description="token expired", '
        f'DPoP realm="okta-auth0-sync", {ALGS}'
    )


def test_a_refused_dpop_token_gets_a_dpop_challenge_with_the_error_and_algs(server, signing):
    key = DpopKey.generate()
    expired = token(signing, exp=int(NOW) - 120, iat=int(NOW) - 3700, cnf={"jkt": key.jkt})
    f = failure(server, expired, scheme="DPoP", dpop=key.proof("POST", URL, access_token=expired))
    assert f.www_authenticate == (
        f'DPoP realm="okta-auth0-sync", error="invalid_token", error_description="token expired", {ALGS}'
    )


def test_a_bad_dpop_proof_gets_invalid_dpop_proof_with_algs(server, bound):
    key, value = bound
    proof = key.proof("POST", URL, access_token=value)
    authenticate(server, value, scheme="DPoP", dpop=proof)
    f = failure(server, value, scheme="DPoP", dpop=proof)
    assert f.www_authenticate == (
        'DPoP realm="okta-auth0-sync", error="invalid_dpop_proof", '
        f'error_description="DPoP proof was already used", {ALGS}'
    )


def test_missing_scope_on_a_dpop_request_is_a_dpop_challenge(server, signing):
    key = DpopKey.generate()
    value = token(signing, scp=["sync.read"], cnf={"jkt": key.jkt})
    f = failure(server, value, scheme="DPoP", dpop=key.proof("POST", URL, access_token=value))
    assert (f.status, f.error) == (403, "insufficient_scope")
    assert f.www_authenticate == (
        'DPoP realm="okta-auth0-sync", error="insufficient_scope", '
        f'error_description="the token lacks scope sync.provision", scope="sync.provision", {ALGS}'
    )
    assert "Bearer" not in f.www_authenticate


def test_missing_scope_on_a_bearer_request_is_a_bearer_challenge_only(server, signing):
    f = failure(server, token(signing, scp=["sync.read"]))
    assert f.www_authenticate == (
        'Bearer realm="okta-auth0-sync", error="insufficient_scope", '
        'error_description="the token lacks scope sync.provision", scope="sync.provision"'
    )


def test_a_malformed_dpop_authorization_is_an_invalid_request_in_the_dpop_scheme(server):
    with pytest.raises(AuthFailure) as raised:
        server.authenticate(authorization="DPoP a b", dpop=None, method="GET", url=URL)
    assert raised.value.www_authenticate.startswith('DPoP realm="okta-auth0-sync", error="invalid_request"')


def test_a_challenge_never_carries_what_a_quoted_string_cannot(server, signing):
    header = base64.urlsafe_b64encode(json.dumps({"alg": 'x"\r\n\\a', "kid": "as-key-1"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps({"iss": ISSUER}).encode()).rstrip(b"=")
    f = failure(server, f"{header.decode()}.{body.decode()}.c2ln")
    description = f.www_authenticate.split('error_description="')[1].split('"')[0]
    assert description == "algorithm x????a is not accepted"  # no quote, backslash, CR or LF
    assert not any(c in f.www_authenticate for c in "\r\n\\")


# -- issue 10: the issuer's JWKS endpoint is down --------------------------------------------------
def test_a_jwks_outage_after_the_max_age_still_serves_good_tokens(signing):
    down, fetches = [False], []

    def fetch(uri):
        fetches.append(uri)
        if down[0]:
            raise ConnectionError("okta.example unreachable")
        return {"keys": [signing[1]]}

    clock = Clock()
    rs = ResourceServer(ISSUER, AUDIENCE, JwksCache("u", fetch, clock=clock), ProofReplayCache(None))
    authenticate(rs, token(signing))
    down[0] = True
    clock.now += JWKS_MAX_AGE + 1  # the keys are due a refresh, and the issuer is down
    for _ in range(5):
        assert authenticate(rs, token(signing)).client_id == "0oaCaller"
    assert len(fetches) == 2  # one refresh attempt, not one per request


# -- issue 10: the template's default (empty) ApiIssuer ---------------------------------------------
@pytest.fixture
def unconfigured(monkeypatch):
    """The invoke API as deployed with the template's defaults: ApiIssuer empty."""
    monkeypatch.setattr(invoke, "_server", None)
    monkeypatch.setenv("API_ISSUER", "")
    monkeypatch.setenv("API_AUDIENCE", "api://okta-auth0-sync")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("issuer", "audience"),
    [("", AUDIENCE), ("   ", AUDIENCE), (ISSUER, ""), ("acme.okta.com/oauth2/aus1", AUDIENCE), ("https://", AUDIENCE)],
)
def test_an_unconfigured_resource_server_is_a_clear_refusal(unconfigured, issuer, audience):
    unconfigured.setenv("API_ISSUER", issuer)
    unconfigured.setenv("API_AUDIENCE", audience)
    with pytest.raises(ResourceServerNotConfigured) as raised:
        invoke.resource_server()
    failure = raised.value
    assert isinstance(failure, AuthFailure) and isinstance(failure, ConfigurationError)
    assert (failure.status, failure.error) == (401, "invalid_token")
    assert "invoke API is not configured" in failure.description and "API_ISSUER" in failure.description


def test_a_configured_resource_server_is_built_once(unconfigured):
    unconfigured.setenv("API_ISSUER", ISSUER + "/")
    server = invoke.resource_server()
    assert (server.issuer, server.audience, server.jwks.jwks_uri) == (ISSUER, AUDIENCE, f"{ISSUER}/v1/keys")
    assert invoke.resource_server() is server


class LambdaContext:
    function_name = "ApiAuthorizerFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ApiAuthorizerFunction"
    aws_request_id = "8f1c2f9e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def api_authorizer():
    path = Path(__file__).resolve().parents[2] / "functions" / "api_authorizer" / "app.py"
    spec = importlib.util.spec_from_file_location(f"api_authorizer_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_authorizer_refuses_a_genuine_token_when_the_api_is_not_configured(unconfigured, signing):
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/v1/POST/provisioning/runs",
        "resource": "/provisioning/runs",
        "path": "/provisioning/runs",
        "httpMethod": "POST",
        "headers": {"Authorization": f"Bearer {token(signing)}", "Host": "abc.example"},
        "requestContext": {"domainName": "abc.example", "path": "/v1/provisioning/runs"},
    }
    out = api_authorizer().lambda_handler(event, LambdaContext())  # API Gateway: 401 (ACCESS_DENIED), not a 500
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    context = out["context"]
    assert (context["status"], context["error_code"]) == ("401", "invalid_token")
    assert context["challenge"].startswith('Bearer realm="okta-auth0-sync", error="invalid_token", ')
    assert "API_ISSUER" not in context["challenge"]  # the operator's details are for the log, not the caller


def test_an_unconfigured_api_is_counted_apart_from_refused_callers(unconfigured, signing, capsys, caplog):
    """The operator's mistake has its own metric (ApiNotConfigured, alarmed in the template) and an
    error-level line; the caller's refusals (ApiAuth401) are not inflated by it."""
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/v1/GET/executions/x1",
        "resource": "/executions/{executionId}",
        "path": "/executions/x1",
        "httpMethod": "GET",
        "headers": {"Authorization": f"Bearer {token(signing)}", "Host": "abc.example"},
        "requestContext": {"domainName": "abc.example", "path": "/v1/executions/x1"},
    }
    assert api_authorizer().lambda_handler(event, LambdaContext())["context"]["status"] == "401"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line]
    assert [m["Name"] for m in emf[-1]["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["ApiNotConfigured"]
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert errors and "not configured" in errors[0].getMessage() and "API_ISSUER" in errors[0].reason
    alarm = load_template()["Resources"]["InvokeApiNotConfiguredAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApiNotConfigured"
