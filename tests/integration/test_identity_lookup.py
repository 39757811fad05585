"""The thin flow end to end: the real ASL in moto, our handlers, the sandbox tenants."""

import json

from okta_auth0_sync.base import counters

ADA = "00uZPx7YubxGT9rKLiKE"  # fixture: ada.lovelace@acme.example


def test_thin_flow_finds_the_okta_user_and_auth0_matches(stack):
    run = stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA})
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["okta_user"] == {
        "id": ADA,
        "status": "ACTIVE",
        "login": "ada.lovelace@acme.example",
        "email": "ada.lovelace@acme.example",
    }
    # Both of Ada's accounts: the database one (stored lower-cased) and the enterprise one, which
    # keeps the IdP's casing (Ada.Lovelace@Acme.example) and users-by-email alone would miss.
    assert [u["user_id"] for u in run.output["auth0_users"]] == [
        "auth0|5df05339f1861a9587ec7a5a",
        "okta|okta-workforce|00uZPx7YubxGT9rKLiKE",
    ]
    assert run.output["auth0_token"]["token_ref"].startswith("minted-")
    # No token anywhere in the execution history (inputs, outputs of every state).
    history = json.dumps(run.history, default=str)
    assert "eyJ" not in history and "access_token" not in history
    # One Okta GET by id; one Auth0 users-by-email (the email is already lower-case), one
    # case-insensitive search that discovers the other casing, one consistent read of it; two tokens.
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}") == 1
    assert counters.api_calls.total("auth0", route="/api/v2/users-by-email") == 1
    assert counters.api_calls.total("auth0", route="/api/v2/users") == 1
    assert counters.api_calls.total("auth0", route="/api/v2/users/{id}") == 1
    assert counters.tokens_minted.total("auth0") == 1 and counters.tokens_minted.total("okta") == 1


def test_one_auth0_token_serves_several_executions_and_cold_containers(stack):
    stack.cold_start_every_invocation = True  # every invocation in a fresh container
    runs = [stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA}) for _ in range(3)]
    assert [r.status for r in runs] == ["SUCCEEDED"] * 3
    assert counters.tokens_minted.total("auth0") == 1  # shared through the DynamoDB cache
    assert counters.tokens_minted.total("okta") == 1
    assert counters.api_calls.total("auth0", route="/oauth/token") == 1
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}") == 3
    assert counters.api_calls.total("auth0", route="/api/v2/users-by-email") == 3
    assert len({r.output["auth0_token"]["token_ref"] for r in runs}) == 1


def test_unknown_okta_user_fails_with_a_clear_reason(stack):
    run = stack.execute("IdentityLookupStateMachine", {"okta_user_id": "00uDoesNotExist00000"})
    assert run.status == "FAILED"
    assert run.error == "NotFound"
    assert "00uDoesNotExist00000" in run.cause_message


def test_bad_input_fails_without_calling_the_tenants(stack):
    run = stack.execute("IdentityLookupStateMachine", {"okta_user_id": "../../etc/passwd"})
    assert run.status == "FAILED" and run.error == "InvalidInput"
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}") == 0
