"""The OAuth 2.0-secured invoke API end to end: tokens minted by the sandbox Okta custom
authorization server (private_key_jwt, Bearer and DPoP), the Lambda authorizer and gateway
responses from the template, the invoke function, the real ASL."""

import base64
import json
import time

import jwt
import pytest
import requests

from okta_auth0_sync.base import counters
from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.dpop import DpopKey
from okta_auth0_sync.settings import OktaConnection
from okta_auth0_sync_cli.client import InvokeApiClient
from okta_auth0_sync_testbed.apigateway import LocalRestApi
from okta_auth0_sync_testbed.deployment import LocalDeployment

from .conftest import connection_secrets

AS_ID = "aus7gqIzvk6Dnq4hJmNN"  # fixture custom authorization server, audience api://okta-auth0-sync
DPOP_CLIENT = "0oagKggGd4S4wY4bdobX"  # fixture: DPoP-bound, sync.users + sync.read
GRACE = "00uieg27N0mAaWp92N5J"
ROLE, GROUP = "rol_rRVnAbarjZsuC2Xn", "00gU18bXbD9XEKxR56aB"


@pytest.fixture
def api(sb, credentials):
    with (
        LocalDeployment(
            connection_secrets(credentials),
            parameters={
                "OktaDomain": sb.okta.domain,
                "Auth0Domain": sb.auth0.domain,
                "ApiIssuer": f"{sb.okta.base_url}/oauth2/{AS_ID}",
            },
        ) as stack,
        LocalRestApi(stack, "InvokeApi") as rest,
    ):
        yield rest


def caller(sb, scopes, *, client_id=None, alg="RS256", dpop=False):
    """A caller app on the custom AS with a registered key, as its connection secret."""
    if client_id is None:
        client_id = sb.okta.register_as_client(AS_ID, name="ops", scopes=scopes).client_id
    key = sb.okta.register_app_key(client_id, auth_server=AS_ID, alg=alg)
    return OktaConnection.from_secret(
        {
            "domain": sb.okta.domain,
            "base_url": sb.okta.base_url,
            "client_id": client_id,
            "private_key": key.private_key_pem,
            "key_id": key.kid,
            "scopes": scopes,
            "authorization_server": AS_ID,
            "dpop": dpop,
        },
        "caller",
    )


def bearer(sb, scopes) -> str:
    client = InvokeApiClient("https://invoke-api.invalid", caller(sb, scopes))  # it only mints: never called
    return client.tokens.current().value


def test_provisioning_on_demand_with_a_private_key_jwt_token(sb, api):
    client = InvokeApiClient(api.url, caller(sb, ["sync.provision", "sync.read"], alg="ES256"))
    started = client.start_provisioning(ROLE, GROUP, dry_run=True)
    assert started["execution_id"].startswith("provisioning.api-")
    final = client.wait(started["execution_id"], interval=0.1, timeout=120)
    assert final["status"] == "SUCCEEDED"
    assert final["result"]["report"]["counts"] == {"would_create": 4, "would_add_existing": 1, "would_fail": 1}
    assert counters.api_calls.total("invoke-api", status=202) == 1


def test_202_with_location_and_status_route(sb, api):
    token = bearer(sb, ["sync.provision", "sync.read"])
    response = requests.post(
        f"{api.url}/provisioning/runs",
        json={"role_id": ROLE, "group_id": GROUP},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 202
    assert response.headers["Location"] == response.json()["status_url"]
    status = requests.get(
        f"{api.url}{response.json()['status_url']}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert status.status_code == 200 and status.json()["status"] in ("RUNNING", "SUCCEEDED")
    api.stack.wait_all("ProvisioningStateMachine")


def test_one_user_sync_now_follows_okta_status(sb, api):
    sb.okta.deactivate_user(GRACE)  # no event hook: the admin asks for a sync on demand
    client = InvokeApiClient(api.url, caller(sb, ["sync.users", "sync.read"]))
    final = client.wait(client.sync_user(GRACE)["execution_id"], interval=0.1, timeout=120)
    assert final["status"] == "SUCCEEDED"
    assert final["result"]["results"][0]["outcome"] == "flagged"
    record = sb.auth0.get_user("auth0|c7d4c9e39de14f953e9cd582")["app_metadata"]["okta_sync"]
    assert record["deactivated"] is True and record["event_type"] == "user.lifecycle.deactivate"
    sb.okta.activate_user(GRACE)
    final = client.wait(client.sync_user(GRACE)["execution_id"], interval=0.1, timeout=120)
    assert final["result"]["results"][0]["outcome"] == "cleared"


def test_unknown_user_or_execution(sb, api):
    client = InvokeApiClient(api.url, caller(sb, ["sync.users", "sync.read"]))
    final = client.wait(client.sync_user("00uDoesNotExist00000")["execution_id"], interval=0.1, timeout=120)
    assert final["status"] == "FAILED" and final["error"] == "NotFound"
    token = client.tokens.current().value
    for execution in ("provisioning.api-nope", "other.api-x", "provisioning.a:b"):
        response = requests.get(
            f"{api.url}/executions/{execution}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert response.status_code in (400, 404), execution


def test_dpop_bound_caller(sb, api):
    """The fixture's DPoP-bound app: nonce round trip at the token endpoint, a proof per call."""
    client = InvokeApiClient(api.url, caller(sb, ["sync.users", "sync.read"], client_id=DPOP_CLIENT, dpop=True))
    started = client.sync_user(GRACE)
    assert client.tokens.current().is_dpop
    assert client.wait(started["execution_id"], interval=0.1, timeout=120)["status"] == "SUCCEEDED"


ALGS = 'algs="RS256 RS384 RS512 ES256 ES384 ES512"'
OFFERED = f'DPoP realm="okta-auth0-sync", {ALGS}'  # RFC 9449 7.2: a Bearer caller is offered DPoP too


def refused(response, status: int = 401) -> str:
    """The answer's challenge, once it is a refusal with a JSON body naming the same error."""
    assert response.status_code == status, response.text
    challenge = response.headers["WWW-Authenticate"]
    error = challenge.split('error="')[1].split('"')[0] if 'error="' in challenge else "unauthorized"
    assert response.json()["error"] == error and response.json()["message"]
    return challenge


def test_dpop_proof_replayed_or_for_another_url_is_401_invalid_dpop_proof(sb, api):
    """RFC 9449 7.1: a bad proof is answered in the DPoP scheme with invalid_dpop_proof."""
    client = InvokeApiClient(api.url, caller(sb, ["sync.users", "sync.read"], client_id=DPOP_CLIENT, dpop=True))
    token = client.tokens.current()
    key = DpopKey(token.dpop_jwk)
    url = f"{api.url}/users/{GRACE}/sync"
    proof = key.proof("POST", url, access_token=token.value)
    headers = {"Authorization": f"DPoP {token.value}", "DPoP": proof}
    assert requests.post(url, headers=headers, timeout=10).status_code == 202
    replay = refused(requests.post(url, headers=headers, timeout=10))
    assert replay == (
        'DPoP realm="okta-auth0-sync", error="invalid_dpop_proof", '
        f'error_description="DPoP proof was already used", {ALGS}'
    )
    elsewhere = key.proof("POST", f"{api.url}/provisioning/runs", access_token=token.value)
    other_url = refused(requests.post(url, headers={**headers, "DPoP": elsewhere}, timeout=10))
    assert other_url.startswith('DPoP realm="okta-auth0-sync", error="invalid_dpop_proof", ')
    assert "htu" in other_url and "Bearer" not in other_url
    no_proof = refused(requests.post(url, headers={"Authorization": f"DPoP {token.value}"}, timeout=10))
    assert no_proof.startswith('DPoP realm="okta-auth0-sync", error="invalid_dpop_proof", ')
    # RFC 9449 7.2: a DPoP-bound token presented as a bearer token is refused (invalid_token), and
    # the Bearer challenge comes with the DPoP one
    as_bearer = refused(requests.post(url, headers={"Authorization": f"Bearer {token.value}"}, timeout=10))
    assert as_bearer == (
        'Bearer realm="okta-auth0-sync", error="invalid_token", '
        f'error_description="DPoP-bound token presented as Bearer", {OFFERED}'
    )
    assert len(api.stack.executions("DeactivationSyncStateMachine")) == 1  # the one good request
    api.stack.wait_all("DeactivationSyncStateMachine")


def test_a_request_without_credentials_gets_no_error_code(api):
    """RFC 6750 3.1: no Authorization header (API Gateway's UNAUTHORIZED, before the authorizer
    runs) or an empty one: both schemes offered, no error code."""
    url = f"{api.url}/provisioning/runs"
    for headers in ({}, {"Authorization": ""}):
        challenge = refused(requests.post(url, json={}, headers=headers, timeout=10))
        assert challenge == f'Bearer realm="okta-auth0-sync", {OFFERED}', headers
    assert api.stack.executions("ProvisioningStateMachine") == []


def test_a_token_without_the_routes_scope_is_403_in_the_callers_scheme(sb, api):
    """RFC 6750 3.1 insufficient_scope, naming the route's scope, in the scheme the caller used
    (one challenge); nothing is started."""
    body = {"role_id": ROLE, "group_id": GROUP, "dry_run": True}
    url = f"{api.url}/provisioning/runs"
    reader = requests.post(url, json=body, headers={"Authorization": f"Bearer {bearer(sb, ['sync.read'])}"}, timeout=10)
    assert refused(reader, 403) == (
        'Bearer realm="okta-auth0-sync", error="insufficient_scope", '
        'error_description="the token lacks scope sync.provision", scope="sync.provision"'
    )
    client = InvokeApiClient(api.url, caller(sb, ["sync.users", "sync.read"], client_id=DPOP_CLIENT, dpop=True))
    token = client.tokens.current()
    proof = DpopKey(token.dpop_jwk).proof("POST", url, access_token=token.value)
    dpop = requests.post(url, json=body, headers={"Authorization": f"DPoP {token.value}", "DPoP": proof}, timeout=10)
    assert refused(dpop, 403) == (
        'DPoP realm="okta-auth0-sync", error="insufficient_scope", '
        f'error_description="the token lacks scope sync.provision", scope="sync.provision", {ALGS}'
    )
    assert api.stack.executions("ProvisioningStateMachine") == []


def forged(token: str, *, header=None, claims=None, signature=None) -> str:
    h, c, s = token.split(".")
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    if header is not None:
        h = enc({**jwt.get_unverified_header(token), **header})
    if claims is not None:
        c = enc({**jwt.decode(token, options={"verify_signature": False}), **claims})
    return f"{h}.{c}.{s if signature is None else signature}"


def test_bad_tokens_through_the_gateway(sb, api, credentials):
    url = f"{api.url}/provisioning/runs"
    body = {"role_id": ROLE, "group_id": GROUP, "dry_run": True}
    good = bearer(sb, ["sync.provision"])
    stranger = caller(sb, ["sync.read"])  # a key the authorization server never signed with
    self_signed = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}),
        keys.load_private_key(stranger.keys[0].private_key),
        algorithm="RS256",
        headers={"kid": "not-a-server-key"},
    )
    org_token = mint_org_token(credentials.okta)  # the Okta org authorization server: not for our API
    cases = {
        "garbage": "Bearer not-a-jwt",
        "alg none": "Bearer " + forged(good, header={"alg": "none"}, signature=""),
        "HS256 with the public key": "Bearer " + forged(good, header={"alg": "HS256"}),
        "unknown kid": "Bearer " + self_signed,
        "tampered payload": "Bearer " + forged(good, claims={"scp": ["sync.provision", "sync.read", "sync.users"]}),
        "expired": "Bearer " + forged(good, claims={"exp": int(time.time()) - 3600}),
        "wrong audience": "Bearer " + forged(good, claims={"aud": "api://someone-else"}),
        "wrong issuer": "Bearer " + forged(good, claims={"iss": sb.okta.base_url}),
        "org authorization server token": "Bearer " + org_token,
    }
    reasons = {}
    for name, header in cases.items():
        response = requests.post(url, json=body, headers={"Authorization": header}, timeout=10)
        challenge = refused(response)
        assert challenge.startswith('Bearer realm="okta-auth0-sync", error="invalid_token", error_description="'), name
        assert challenge.endswith(f", {OFFERED}"), name
        reasons[name] = challenge.split('error_description="')[1].split('"')[0]
    assert reasons["unknown kid"] == "unknown signing key"  # what the authorizer found, to the caller
    assert reasons["alg none"] == "algorithm none is not accepted"
    assert reasons["tampered payload"] == reasons["expired"] == "token signature or claims are invalid"
    assert api.stack.executions("ProvisioningStateMachine") == []  # nothing started by any of them


def mint_org_token(secret: dict) -> str:
    from okta_auth0_sync.runtime.connections import minter

    return minter(OktaConnection.from_secret(secret)).mint().value


def test_bad_request_bodies_are_400(sb, api):
    token = bearer(sb, ["sync.provision"])
    for body in (
        {"role_id": "x", "group_id": GROUP},
        {"role_id": ROLE},
        {"role_id": ROLE, "group_id": GROUP, "dry_run": "yes"},
    ):
        response = requests.post(
            f"{api.url}/provisioning/runs", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_an_issuer_outage_with_no_keys_cached_is_a_503_with_retry_after(sb, api):
    """The authorizer cannot judge the token (the issuer's JWKS unreachable, nothing cached): the
    gateway answers 503 with Retry-After, not a 500, and nothing is started."""
    good = bearer(sb, ["sync.provision"])
    sb.okta.faults.error(route=f"*/oauth2/{AS_ID}/v1/keys", status=503)
    response = requests.post(
        f"{api.url}/provisioning/runs",
        json={"role_id": ROLE, "group_id": GROUP, "dry_run": True},
        headers={"Authorization": f"Bearer {good}"},
        timeout=30,
    )
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "30"
    assert response.json()["error"] == "temporarily_unavailable"
