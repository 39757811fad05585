"""Every Okta connection mode, proven against the sandbox Okta (which enforces each as Okta does)
through the thin flow: private_key_jwt with RSA and EC keys, key rotation, DPoP, SSWS."""

import pytest

from okta_auth0_sync.base import counters

ADA = "00uZPx7YubxGT9rKLiKE"
SERVICE_APP = "0oaOKNNcFC2APG9zdPRV"
DPOP_APP = "0oaYoXWx2ogsxqG1E9Ef"  # fixture: "Require DPoP" on
SCOPES = ["okta.users.read", "okta.users.manage", "okta.groups.read", "okta.groups.manage"]


def okta_secret(sb, client_id=SERVICE_APP, **extra):
    return {"domain": sb.okta.domain, "base_url": sb.okta.base_url, "client_id": client_id, "scopes": SCOPES, **extra}


def lookup(stack):
    return stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA})


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"])
def test_private_key_jwt_with_each_algorithm(sb, stack, alg):
    key = sb.okta.register_app_key(SERVICE_APP, alg=alg)
    stack.put_secret("OktaConnectionSecret", okta_secret(sb, private_key=key.private_key_pem, key_id=key.kid, alg=alg))
    stack.cold_start()
    run = lookup(stack)
    assert run.status == "SUCCEEDED", run.cause_message
    assert counters.tokens_minted.total("okta") == 1


def test_key_rotation_without_downtime(sb, stack):
    old = sb.okta.register_app_key(SERVICE_APP, kid="key-2025")
    new = sb.okta.register_app_key(SERVICE_APP, kid="key-2026", alg="ES256")
    sb.okta.remove_app_key(SERVICE_APP, "key-2026")  # step 1: the new key is in the secret, not yet in Okta
    stack.put_secret(
        "OktaConnectionSecret",
        okta_secret(
            sb,
            keys=[
                {"private_key": new.private_key_pem, "key_id": "key-2026", "alg": "ES256"},
                {"private_key": old.private_key_pem, "key_id": "key-2025"},
            ],
        ),
    )
    stack.cold_start()
    assert lookup(stack).status == "SUCCEEDED"  # the old key still works
    assert counters.api_calls.total("okta", route="/oauth2/v1/token", status=401) == 1
    # Step 2: the new public key is registered in Okta and the old one removed: the new key is used.
    sb.okta.register_app_key(SERVICE_APP, public_jwk=new.public_jwk, kid="key-2026", alg="ES256")
    sb.okta.remove_app_key(SERVICE_APP, "key-2025")
    stack.cold_start()
    drop_cached_tokens(stack)  # the token minted with the old key is still valid: make the next mint happen now
    assert lookup(stack).status == "SUCCEEDED"
    assert counters.api_calls.total("okta", route="/oauth2/v1/token", status=200) == 2
    assert counters.api_calls.total("okta", route="/oauth2/v1/token", status=401) == 1  # no failed attempt


def drop_cached_tokens(stack):
    table = stack.ref("TokenCacheTable")
    ddb = stack.client("dynamodb")
    for item in ddb.scan(TableName=table)["Items"]:
        ddb.delete_item(TableName=table, Key={"pk": item["pk"]})


def test_dpop_bound_tokens_for_the_token_request_and_every_api_call(sb, stack):
    key = sb.okta.register_app_key(DPOP_APP)
    stack.put_secret(
        "OktaConnectionSecret", okta_secret(sb, DPOP_APP, private_key=key.private_key_pem, key_id=key.kid, dpop=True)
    )
    stack.cold_start_every_invocation = True  # containers share the token *and* its DPoP key
    runs = [lookup(stack) for _ in range(3)]
    assert [r.status for r in runs] == ["SUCCEEDED"] * 3, runs[0].cause_message
    assert counters.tokens_minted.total("okta") == 1
    # The nonce round trip: 400 use_dpop_nonce, then 200 with a fresh assertion and proof.
    assert counters.api_calls.total("okta", route="/oauth2/v1/token", status=400) == 1
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}", status=200) == 3


def test_dpop_required_but_off_says_to_turn_it_on(sb, stack):
    key = sb.okta.register_app_key(DPOP_APP)
    stack.put_secret("OktaConnectionSecret", okta_secret(sb, DPOP_APP, private_key=key.private_key_pem, key_id=key.kid))
    stack.cold_start()
    run = lookup(stack)
    assert run.status == "FAILED" and run.error == "DpopRequired"
    assert '"dpop": true' in run.cause_message


def test_ssws_api_token(sb, stack, credentials):
    stack.put_secret("OktaConnectionSecret", credentials.okta_ssws)
    stack.cold_start()
    run = lookup(stack)
    assert run.status == "SUCCEEDED", run.cause_message
    assert counters.tokens_minted.total("okta") == 0  # nothing to mint
    assert counters.api_calls.total("okta", route="/oauth2/v1/token") == 0


def test_missing_scope_names_it(sb, stack):
    key = sb.okta.register_app_key("0oalbMwW7Tcc6xBzcL0S")  # fixture: read-only app
    stack.put_secret(
        "OktaConnectionSecret", okta_secret(sb, "0oalbMwW7Tcc6xBzcL0S", private_key=key.private_key_pem, key_id=key.kid)
    )
    stack.cold_start()
    run = lookup(stack)
    assert run.status == "FAILED" and run.error == "PermissionDenied"
    assert "okta.users.manage" in run.cause_message and "Okta API Scopes" in run.cause_message
