"""Fuzzing the invoke API's REQUEST authorizer (the real ``functions/api_authorizer/app.py``),
configured with an issuer, an audience and a local JWKS (the issuer's keys made here).

Inputs: ``Authorization`` and ``DPoP`` headers of every kind (missing, garbage, huge, unicode,
JWT-shaped junk, ``alg: none``, HMAC with the public key, an unknown key, a header that is not a
JSON object), header names in any case, tokens genuinely signed by the issuer with claims of the
wrong type or value, DPoP-bound tokens with proofs broken one way each, and routes that do not
exist. For every input the authorizer returns a policy API Gateway accepts (principal a string,
the method ARN as the only resource, a context of strings), or raises exactly
``Exception("Unauthorized")`` (API Gateway's static 401); nothing else (anything else is a 500).
It allows only a valid token (whatever its scopes: the route's is the invoke function's to check),
and a genuinely valid token is allowed. A Deny is a refusal too (the template's ACCESS_DENIED:
401): its context carries the challenge, in the scheme the request used (a Bearer one offering
DPoP, RFC 9449 7.2), with no error code when there were no credentials (RFC 6750 3.1),
``invalid_dpop_proof`` for a bad proof of a valid DPoP-bound token (RFC 9449 7.1), and a body the
template's JSON template renders into valid JSON naming the same error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import strategies as st

from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.dpop import DpopKey
from okta_auth0_sync.services import invoke
from okta_auth0_sync_testbed.template import load_template
from tests.fuzz import support, tally
from tests.fuzz.support import ACCOUNT, REGION, Context, OutboundAttempt, hostile_strings, json_values, texts

ENTRY_POINT = "functions/api_authorizer"
no_outbound = support.no_outbound
module_env = support.module_env

ISSUER = "https://acme.okta.com/oauth2/aus1fuzz"
AUDIENCE = "api://okta-auth0-sync"
DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"
KID = "as-key-1"
ROUTES = {
    ("POST", "/provisioning/runs"): ("sync.provision", "/provisioning/runs"),
    ("POST", "/users/{oktaUserId}/sync"): ("sync.users", "/users/00uieg27N0mAaWp92N5J/sync"),
    ("GET", "/executions/{executionId}"): ("sync.read", "/executions/provisioning.api-1"),
}
LEEWAY = 60


class Issuer:
    """The authorization server: its signing key (RS256, in the JWKS as ``as-key-1``)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = {**keys.public_jwk(self.key, kid=KID), "alg": "RS256", "use": "sig"}
        self.fetches: list[str] = []

    def jwks(self, uri: str) -> dict[str, Any]:
        self.fetches.append(uri)
        return {"keys": [self.jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        """A JWS of ``claims`` as they are (PyJWT's jwt.encode would refuse some of them)."""
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return jwt.PyJWS().encode(payload, self.key, algorithm="RS256", headers={"kid": KID, "typ": "JWT"})


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def authorizer(module_env, no_outbound, issuer):
    for name, value in {
        "API_ISSUER": ISSUER,
        "API_AUDIENCE": AUDIENCE,
        "POWERTOOLS_METRICS_NAMESPACE": "Fuzz",
        "POWERTOOLS_SERVICE_NAME": "fuzz",
    }.items():
        module_env.setenv(name, value)
    for name in ("API_JWKS_URI", "PUBLIC_BASE_URL", "PROOF_REPLAY_TABLE"):
        module_env.delenv(name, raising=False)
    module = support.load_handler("api_authorizer")  # a new container: the resource server is built anew
    module_env.setattr(invoke, "_fetch_json", issuer.jwks)
    return module


# ------------------------------------------------------------------------------------------ tokens
def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def good_claims(scopes: list[str], **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "cid": "0oaFuzzCaller",
        "sub": "0oaFuzzCaller",
        "scp": scopes,
        "jti": str(uuid.uuid4()),
        **extra,
    }


def _number(value: Any) -> bool:
    """A NumericDate: a JSON number (not a boolean) that is a finite date."""
    import math

    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def claims_valid(claims: Any, scope: str) -> tuple[bool, bool]:
    """(the token is valid, it carries ``scope``) for a token genuinely signed by the issuer, by the
    contract: iss exactly the issuer; aud the audience (or a list of strings naming it); exp, iat
    (required) and nbf NumericDates (JSON numbers), exp not past and iat/nbf not ahead (60 s
    leeway); a client (cid, client_id, else sub) that is a string."""
    if not isinstance(claims, dict):
        return False, False
    now = time.time()
    aud = claims.get("aud")
    ok = claims.get("iss") == ISSUER and isinstance(claims.get("iss"), str)
    ok &= aud == AUDIENCE if isinstance(aud, str) else isinstance(aud, list) and all(isinstance(a, str) for a in aud)
    ok &= isinstance(aud, str) or (isinstance(aud, list) and AUDIENCE in aud)
    ok &= _number(claims.get("exp")) and int(claims["exp"]) > now - LEEWAY
    ok &= _number(claims.get("iat")) and int(claims["iat"]) <= now + LEEWAY
    ok &= "nbf" not in claims or (_number(claims["nbf"]) and int(claims["nbf"]) <= now + LEEWAY)
    ok &= "sub" not in claims or isinstance(claims["sub"], str)  # RFC 7519 4.1.2: a StringOrURI
    client = claims.get("cid") or claims.get("client_id") or claims.get("sub")
    ok &= isinstance(client, str) and client != ""
    scp = claims.get("scp")
    scopes = (
        {s for s in scp if isinstance(s, str)}
        if isinstance(scp, list)
        else set(claims["scope"].split())
        if isinstance(claims.get("scope"), str)
        else set()
    )
    return bool(ok), scope in scopes


WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([1e300, -1.0, 0.5, "9999999999", "", [], {}, [AUDIENCE], [AUDIENCE, 5], ISSUER + "/"]),
    st.sampled_from([ISSUER.upper(), f" {ISSUER}"]),
    texts,
)
CLAIM_NAMES = ["iss", "aud", "exp", "iat", "nbf", "cid", "client_id", "sub", "scp", "scope", "cnf"]


@st.composite
def signed_claims(draw: st.DrawFn, scope: str) -> dict[str, Any]:
    """Claims the issuer signs: valid, or with some claims of the wrong type or value."""
    claims = good_claims(draw(st.sampled_from([[scope], [scope, "sync.read"], ["sync.read"], []])))
    for name in draw(st.lists(st.sampled_from(CLAIM_NAMES), max_size=3, unique=True)):
        if draw(st.booleans()):
            claims.pop(name, None)
        else:
            claims[name] = draw(WEIRD)
    return claims


def junk_jwt(draw: st.DrawFn) -> str:
    """Something shaped like a JWT that the issuer never signed."""
    header = draw(
        st.one_of(
            st.fixed_dictionaries(
                {"alg": st.sampled_from(["none", "None", "HS256", "RS256", "ES256", "PS256", "", "RS256 "]) | WEIRD},
                optional={"kid": st.sampled_from([KID, "other", "", "../../keys"]) | WEIRD, "typ": WEIRD, "jwk": WEIRD},
            ),
            json_values,
        )
    )
    payload = draw(st.one_of(st.just(good_claims(["sync.provision", "sync.users", "sync.read"])), json_values))
    parts = [json.dumps(header, default=str).encode(), json.dumps(payload, default=str).encode()]
    signature = draw(st.sampled_from([b"", b"x", b"\x00" * 256]) | st.binary(max_size=300))
    text = ".".join([b64(parts[0]), b64(parts[1]), b64(signature)])
    return draw(st.sampled_from([text, text + ".", text.replace(".", ".."), text[:-1], "." + text]))


# ------------------------------------------------------------------------------------------ events
def authorizer_event(
    method: str,
    resource: str,
    path: str,
    *,
    authorization: str | None,
    dpop: list[str] | str | None = None,
    name_case: str = "Authorization",
    multi: bool = True,
) -> dict[str, Any]:
    headers = {"Host": DOMAIN, "X-Forwarded-Proto": "https", "Content-Type": "application/json"}
    if authorization is not None:
        headers[name_case] = authorization
    if isinstance(dpop, str):
        headers["DPoP"] = dpop
    multi_headers = {k: [v] for k, v in headers.items()}
    if isinstance(dpop, list):
        multi_headers["DPoP"] = dpop
        if dpop:
            headers["DPoP"] = dpop[-1]
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/v1/{method}{path}",
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_headers if multi else None,
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"domainName": DOMAIN, "path": "/v1" + path, "resourcePath": resource, "httpMethod": method},
    }


def url_of(path: str) -> str:
    return f"https://{DOMAIN}/v1{path}"


PROOF_DEFECTS = [
    "none",
    "htm",
    "htu",
    "ath",
    "stale",
    "future",
    "no-jti",
    "long-jti",
    "typ",
    "private-jwk",
    "alg-none",
    "other-key",
    "two-proofs",
    "missing",
    "garbage",
    "iat-string",
    "jwk-not-object",
    "htu-bad-port",
    "htu-bad-ipv6",
    "nbf-infinite",
]


def make_proof(draw: st.DrawFn, key: DpopKey, method: str, url: str, token: str, defect: str) -> list[str] | str | None:
    """A DPoP proof for this request and token, broken as ``defect`` says (``none``: a good one)."""
    claims: dict[str, Any] = {
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "ath": b64(hashlib.sha256(token.encode()).digest()),
    }
    header: dict[str, Any] = {"typ": "dpop+jwt", "jwk": key.public}
    signer = key
    changes: dict[str, Any] = {
        "htm": {"htm": draw(st.sampled_from(["GET", "PUT", "post", ""]).filter(lambda m: m != method))},
        "htu": {"htu": draw(st.sampled_from([url + "x", url.replace("https", "http"), "https://evil.example/v1"]))},
        "ath": {"ath": draw(st.sampled_from(["", "x", b64(hashlib.sha256(b"other").digest())]))},
        "stale": {"iat": int(time.time()) - 3600},
        "future": {"iat": int(time.time()) + 3600},
        "no-jti": {"jti": draw(st.sampled_from([None, "", 5, []]))},
        "long-jti": {"jti": "j" * 300},
        "iat-string": {"iat": str(int(time.time()))},
        "htu-bad-port": {"htu": f"https://{DOMAIN}:port/v1/x"},
        "htu-bad-ipv6": {"htu": "https://[::1/v1/x"},
        "nbf-infinite": {"nbf": float("inf")},
    }
    claims.update(changes.get(defect, {}))
    if defect == "typ":
        header["typ"] = draw(st.sampled_from(["JWT", "", None, "DPOP+JWT"]))
    if defect == "private-jwk":
        header["jwk"] = key.to_jwk()
    if defect == "jwk-not-object":
        header["jwk"] = draw(st.sampled_from(["x", [key.public], None, 5]))
    if defect == "other-key":
        signer = DpopKey.generate()
        header["jwk"] = signer.public
    if defect == "missing":
        return draw(st.sampled_from([None, [], ""]))
    if defect == "garbage":
        return draw(texts | hostile_strings)
    if defect == "alg-none":
        return (
            b64(json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": key.public}).encode())
            + "."
            + b64(json.dumps(claims).encode())
            + "."
        )
    proof = jwt.encode(claims, signer.private, algorithm="ES256", headers=header)
    if defect == "two-proofs":
        return [proof, proof]
    return [proof] if draw(st.booleans()) else proof


@st.composite
def requests(draw: st.DrawFn, issuer: Issuer) -> tuple[dict[str, Any], str, str | None]:
    """(an authorizer event, what the contract answers: allow | refuse, and the error code a
    refusal must carry when the contract says which one)."""
    route = draw(st.sampled_from([*ROUTES, None]))
    if route is None:
        method = draw(st.sampled_from(["GET", "POST", "DELETE", "post"]) | texts)
        resource = draw(st.sampled_from(["/provisioning/runs", "/{proxy+}", "/executions/{id}", ""]) | texts)
        scope, path = None, "/" + draw(texts)
        if (method, resource) in ROUTES:  # drawn at random, and yet a route: its scope applies
            route, scope = (method, resource), ROUTES[(method, resource)][0]
    else:
        (method, resource), (scope, path) = route, ROUTES[route]
    kind = draw(st.sampled_from(["signed", "signed", "bound", "junk", "text", "scheme", "hmac", "foreign"]))
    multi = draw(st.booleans())  # multiValueHeaders present (API Gateway sends both)
    scheme = draw(st.sampled_from(["Bearer", "bearer", "BEARER", "DPoP", "dpop"]))
    expect, dpop, error = "refuse", None, None
    if kind in ("signed", "bound"):
        claims = draw(signed_claims(scope or "sync.read"))
        if kind == "bound":
            key = DpopKey.generate()
            claims["cnf"] = {"jkt": key.jkt}
        token = issuer.sign(claims)
        valid = claims_valid(claims, scope or "")[0]  # its scopes are the invoke function's to judge
        bound = isinstance(claims.get("cnf"), dict) and bool(claims["cnf"].get("jkt"))
        if kind == "bound":
            defect = draw(st.sampled_from(PROOF_DEFECTS))
            dpop = make_proof(draw, key, method, url_of(path), token, defect)
            # without multiValueHeaders only the last of two DPoP headers is seen: one good proof
            proof_ok = defect == "none" or (defect == "two-proofs" and not multi)
            if valid and scheme.lower() == "dpop" and not proof_ok:  # the token is sound, its proof is not
                error = "invalid_token" if defect == "other-key" else "invalid_dpop_proof"  # RFC 9449 7.1
            valid &= scheme.lower() == "dpop" and proof_ok
        else:
            valid &= not bound and scheme.lower() == "bearer"
        expect = "allow" if valid else "refuse"
        if not valid and error is None:
            error = "invalid_token"
        authorization = f"{scheme} {token}"
    elif kind == "junk":
        authorization = f"{scheme} {junk_jwt(draw)}"
    elif kind == "hmac":  # the public key used as an HMAC secret (the classic key confusion)
        public_pem = issuer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        header = b64(json.dumps({"alg": "HS256", "kid": KID}).encode())
        body = header + "." + b64(json.dumps(good_claims([scope or ""])).encode())
        signature = b64(hmac.new(public_pem, body.encode(), hashlib.sha256).digest())
        authorization = f"{scheme} {body}.{signature}"
    elif kind == "foreign":  # a well-formed token signed by someone else's key under the issuer's kid
        other = ec.generate_private_key(ec.SECP256R1())
        foreign = jwt.encode(good_claims([scope or ""]), other, algorithm="ES256", headers={"kid": KID})
        authorization = f"{scheme} {foreign}"
    elif kind == "scheme":
        authorization = draw(
            st.sampled_from(
                ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "Bearer\ttoken", "Token x", "DPoP"]
            )
        )
    else:
        authorization = draw(st.none() | texts | hostile_strings | st.sampled_from(["Bearer " + "A" * 12_000]))
    if route is None:
        expect, error = "refuse", None  # no scope is defined for the route: refused, whoever asks
    event = authorizer_event(
        method,
        resource,
        path,
        authorization=authorization,
        dpop=dpop if dpop is not None else draw(st.none() | texts),
        name_case=draw(st.sampled_from(["Authorization", "authorization", "AUTHORIZATION"])),
        multi=multi,
    )
    return event, expect, error


# ------------------------------------------------------------------------------------------ oracle
ACCESS_DENIED = load_template()["Resources"]["InvokeApi"]["Properties"]["GatewayResponses"]["ACCESS_DENIED"]
QUOTABLE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # an auth-param's quoted-string (RFC 6750 3)
OFFERED = 'DPoP realm="okta-auth0-sync", algs="RS256 RS384 RS512 ES256 ES384 ES512"'


def scheme_of(authorization: Any) -> str | None:
    """The scheme a challenge must use for this Authorization header (None: no credentials)."""
    if not isinstance(authorization, str) or not authorization.strip():
        return None
    return "DPoP" if authorization.strip().partition(" ")[0].lower() == "dpop" else "Bearer"


def check_refusal(event: dict[str, Any], context: dict[str, Any]) -> str:
    """A Deny's context: what ACCESS_DENIED sends (401, the challenge, a JSON body). Its error code."""
    challenge, code, message = context["challenge"], context["error_code"], context["error_message"]
    assert context["status"] == "401", context
    assert isinstance(challenge, str) and isinstance(message, str) and message, context
    assert challenge.isascii() and "\r" not in challenge and "\n" not in challenge, challenge
    params = re.findall(r'(\w+)="([^"]*)"', challenge)
    assert all(QUOTABLE.fullmatch(value) for _, value in params), challenge
    errors = [value for name, value in params if name == "error"]
    assert errors == ([] if code == "unauthorized" else [code]), (challenge, code)
    headers = {k.lower(): v for k, v in event["headers"].items()}
    scheme = scheme_of(headers.get("authorization"))
    if (event["httpMethod"], event["resource"]) not in invoke.ROUTE_SCOPES:
        scheme = None  # not a route of the API: its credentials were not looked at
    if scheme is None:  # RFC 6750 3.1: no error code without credentials, both schemes
        assert challenge == f'Bearer realm="okta-auth0-sync", {OFFERED}', challenge
    elif scheme == "DPoP":
        assert challenge.startswith('DPoP realm="okta-auth0-sync", ') and "Bearer realm" not in challenge, challenge
    else:  # RFC 9449 7.2: a Bearer caller is offered DPoP too
        assert challenge.startswith('Bearer realm="okta-auth0-sync", ') and challenge.endswith(OFFERED), challenge
    template = ACCESS_DENIED["ResponseTemplates"]["application/json"]
    body = re.sub(r"\$context\.authorizer\.(\w+)", lambda m: str(context[m[1]]), template)
    assert json.loads(body) == {"error": code, "message": message}, body
    return code


def decide(authorizer, event: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Run the authorizer: ("allow", policy), or ("refuse", policy) for a Deny, ("refuse", None)
    for Exception("Unauthorized")."""
    try:
        policy = authorizer.lambda_handler(event, Context("ApiAuthorizerFunction"))
    except OutboundAttempt:
        raise
    except Exception as exc:
        if type(exc) is Exception and exc.args == ("Unauthorized",):
            tally.answer(401)
            return "refuse", None
        tally.unhandled(exc)
        tally.answer(500)
        what = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise AssertionError(f"the authorizer raised {what} (API Gateway: 500)") from exc
    assert isinstance(policy, dict), policy
    statement = policy["policyDocument"]["Statement"]
    assert policy["policyDocument"]["Version"] == "2012-10-17"
    assert isinstance(policy["principalId"], str) and policy["principalId"], policy
    assert len(statement) == 1 and statement[0]["Action"] == "execute-api:Invoke", statement
    assert statement[0]["Resource"] == event["methodArn"], statement
    context = policy.get("context") or {}
    assert all(isinstance(v, str | int | float | bool) for v in context.values()), context
    effect = statement[0]["Effect"]
    assert effect in ("Allow", "Deny"), effect
    if effect == "Deny":
        check_refusal(event, context)
        tally.answer(int(ACCESS_DENIED["StatusCode"]))
        return "refuse", policy
    tally.answer(200)
    return "allow", policy


# ------------------------------------------------------------------------------------------- tests
@support.given_data
def test_any_credentials_get_a_policy_or_unauthorized_and_only_valid_tokens_are_allowed(authorizer, issuer, data):
    event, expect, error = data.draw(requests(issuer), label="request")
    outcome, policy = decide(authorizer, event)
    support.note(f"expected {expect} ({error}), got {outcome}: {policy}")
    assert outcome == expect, f"expected {expect}, got {outcome}"
    if outcome == "allow":
        assert policy["context"]["client_id"] == policy["principalId"]
    elif error is not None and policy is not None:
        assert policy["context"]["error_code"] == error, policy["context"]


def test_a_genuine_token_is_allowed_with_its_caller_in_the_context(authorizer, issuer):
    for (method, resource), (scope, path) in ROUTES.items():
        token = issuer.sign(good_claims([scope]))
        event = authorizer_event(method, resource, path, authorization=f"Bearer {token}")
        outcome, policy = decide(authorizer, event)
        assert outcome == "allow"
        assert policy["context"] == {
            "client_id": "0oaFuzzCaller",
            "scopes": scope,
            "token_type": "Bearer",
            "subject": "0oaFuzzCaller",
        }


def test_a_genuine_dpop_bound_token_with_its_proof_is_allowed(authorizer, issuer):
    key = DpopKey.generate()
    (method, resource), (scope, path) = next(iter(ROUTES.items()))
    token = issuer.sign(good_claims([scope], cnf={"jkt": key.jkt}))
    event = authorizer_event(
        method,
        resource,
        path,
        authorization=f"DPoP {token}",
        dpop=[key.proof(method, url_of(path), access_token=token)],
    )
    assert decide(authorizer, event)[0] == "allow"


REFUSED_HEADERS = [
    None,
    "",
    "Bearer",
    "Bearer \ud800.e30.x",  # a lone surrogate: not encodable as UTF-8
    "DPoP \udcff",
    "Bearer " + "é" * 5000,
    "Bearer " + b64(b"[" * 5000) + ".e30.x",
    "Bearer " + b64(json.dumps({"alg": "none", "kid": KID}).encode()) + "." + b64(b"{}") + ".",
    "Bearer " + "A" * 100_000,
]


@pytest.mark.parametrize("authorization", REFUSED_HEADERS, ids=range(len(REFUSED_HEADERS)))
def test_refused_headers_are_unauthorized_not_a_500(authorizer, authorization):
    event = authorizer_event("POST", "/provisioning/runs", "/provisioning/runs", authorization=authorization)
    assert decide(authorizer, event)[0] == "refuse"


def test_a_proof_with_an_htu_that_is_not_a_url_is_refused_not_a_500(authorizer, issuer):
    key = DpopKey.generate()
    token = issuer.sign(good_claims(["sync.provision"], cnf={"jkt": key.jkt}))
    for htu in (f"https://{DOMAIN}:port/v1/provisioning/runs", "https://[::1/v1/provisioning/runs"):
        claims = {"htm": "POST", "htu": htu, "iat": int(time.time()), "jti": str(uuid.uuid4())}
        claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
        proof = jwt.encode(claims, key.private, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": key.public})
        event = authorizer_event(
            "POST", "/provisioning/runs", "/provisioning/runs", authorization=f"DPoP {token}", dpop=[proof]
        )
        assert decide(authorizer, event)[0] == "refuse"


def test_a_token_naming_no_client_is_unauthorized_whatever_its_scopes(authorizer, issuer):
    """Found by the long profile: a genuine token without cid/client_id/sub and without the route's
    scope was answered 403 insufficient_scope (a Deny) instead of 401: the scope was checked first."""
    for scopes in (["sync.read"], ["sync.provision"]):
        claims = {k: v for k, v in good_claims(scopes).items() if k not in ("cid", "sub")}
        event = authorizer_event(
            "POST", "/provisioning/runs", "/provisioning/runs", authorization=f"Bearer {issuer.sign(claims)}"
        )
        assert decide(authorizer, event)[0] == "refuse"


def test_a_genuine_token_without_the_routes_scope_is_allowed_with_its_scopes(authorizer, issuer):
    """The route's scope is the invoke function's to check (a 403 there, in the caller's scheme):
    the authorizer allows and passes the scopes on, so the 401 of ACCESS_DENIED never says it."""
    token = issuer.sign(good_claims(["sync.read"]))
    event = authorizer_event("POST", "/provisioning/runs", "/provisioning/runs", authorization=f"Bearer {token}")
    outcome, policy = decide(authorizer, event)
    assert outcome == "allow" and policy["context"]["scopes"] == "sync.read"


def test_a_bad_proof_of_a_genuine_bound_token_is_invalid_dpop_proof_in_the_dpop_scheme(authorizer, issuer):
    """RFC 9449 7.1, through the Deny's context (issue 10: it was a static invalid_token)."""
    key = DpopKey.generate()
    (method, resource), (scope, path) = next(iter(ROUTES.items()))
    token = issuer.sign(good_claims([scope], cnf={"jkt": key.jkt}))
    stale = key.proof(method, url_of(path), access_token=token, now=time.time() - 3600)
    event = authorizer_event(method, resource, path, authorization=f"DPoP {token}", dpop=[stale])
    outcome, policy = decide(authorizer, event)
    assert outcome == "refuse"
    assert policy["context"]["challenge"] == (
        'DPoP realm="okta-auth0-sync", error="invalid_dpop_proof", '
        'error_description="DPoP proof is stale or from the future", '
        'algs="RS256 RS384 RS512 ES256 ES384 ES512"'
    )
