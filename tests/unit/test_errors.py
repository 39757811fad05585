"""Error responses become typed errors whose messages say what to fix."""

import requests

from okta_auth0_sync.base.errors import (
    AlreadyExists,
    AuthenticationFailed,
    DpopRequired,
    PermissionDenied,
    RequestRejected,
    TokenRejected,
    UserStatusConflict,
)
from okta_auth0_sync.clients.auth0 import auth0_error
from okta_auth0_sync.clients.okta import okta_error
from okta_auth0_sync.clients.tokens.auth0 import token_error as auth0_token_error
from okta_auth0_sync.clients.tokens.okta import token_error as okta_token_error
from okta_auth0_sync.settings import Auth0Connection, OktaConnection


def response(status, body, headers=None):
    r = requests.Response()
    r.status_code = status
    r._content = __import__("json").dumps(body).encode()
    r.headers.update(headers or {})
    return r


OKTA = OktaConnection(
    domain="acme.okta.com",
    base_url="https://acme.okta.com",
    client_id="0oaApp",
    scopes=("okta.users.read",),
    source="prod/okta",
)
AUTH0 = Auth0Connection(
    domain="acme.auth0.com",
    client_id="cid",
    client_secret="s",
    base_url="https://acme.auth0.com",
    audience="https://acme.auth0.com/api/v2/",
    source="prod/auth0",
)


def test_okta_403_names_the_missing_scope():
    err = okta_error(
        response(
            403,
            {"errorCode": "E0000006", "errorSummary": "You do not have permission"},
            {
                "WWW-Authenticate": 'Bearer authorization_uri="x", realm="IdpError", scope="okta.users.manage", '
                'error="insufficient_scope", error_description="The access token provided does not '
                'contain the required scopes."'
            },
        )
    )
    assert isinstance(err, PermissionDenied)
    assert err.missing_scope == "okta.users.manage"
    assert "okta.users.manage" in str(err) and "Okta API Scopes" in str(err)


def test_okta_e0000011_says_what_to_check():
    err = okta_error(response(401, {"errorCode": "E0000011", "errorSummary": "Invalid token provided"}))
    assert isinstance(err, TokenRejected)
    assert "org's authorization server" in str(err) and "E0000011" in str(err)


def test_okta_duplicate_login():
    err = okta_error(
        response(
            400,
            {
                "errorCode": "E0000001",
                "errorSummary": "Api validation failed: login",
                "errorCauses": [
                    {"errorSummary": "login: An object with this field already exists in the current organization"}
                ],
            },
        )
    )
    assert isinstance(err, AlreadyExists)


def test_okta_validation_error_lists_causes():
    err = okta_error(
        response(
            400,
            {
                "errorCode": "E0000001",
                "errorSummary": "Api validation failed: firstName",
                "errorCauses": [{"errorSummary": "firstName: The field cannot be left blank"}],
            },
        )
    )
    assert isinstance(err, RequestRejected)
    assert "firstName: The field cannot be left blank" in str(err)


def test_okta_invalid_client_names_kid_and_token_url():
    err = okta_token_error(
        response(401, {"error": "invalid_client", "error_description": "The client_assertion signature is invalid."}),
        OKTA,
        "kid-7",
    )
    assert isinstance(err, AuthenticationFailed)
    assert "kid-7" in str(err) and "https://acme.okta.com/oauth2/v1/token" in str(err)


def test_okta_invalid_dpop_proof_says_to_turn_dpop_on():
    err = okta_token_error(
        response(400, {"error": "invalid_dpop_proof", "error_description": "The DPoP proof JWT header is missing."}),
        OKTA,
        None,
    )
    assert isinstance(err, DpopRequired)
    assert '"dpop": true' in str(err) and "prod/okta" in str(err)


def test_okta_invalid_scope():
    err = okta_token_error(
        response(
            400,
            {"error": "invalid_scope", "error_description": "The following scopes are not allowed: okta.users.manage"},
        ),
        OKTA,
        None,
    )
    assert isinstance(err, PermissionDenied) and "okta.users.manage" in str(err)


def test_auth0_403_names_the_scope():
    err = auth0_error(
        response(
            403,
            {
                "statusCode": 403,
                "error": "Forbidden",
                "errorCode": "insufficient_scope",
                "message": "Insufficient scope, expected any of: update:users",
            },
        )
    )
    assert isinstance(err, PermissionDenied)
    assert err.missing_scope == "update:users" and "grant scope(s) update:users" in str(err)


def test_auth0_bad_client_secret():
    err = auth0_token_error(response(401, {"error": "access_denied", "error_description": "Unauthorized"}), AUTH0)
    assert isinstance(err, AuthenticationFailed)
    assert "prod/auth0" in str(err) and "cid" in str(err)


def test_auth0_missing_client_grant():
    err = auth0_token_error(
        response(
            403,
            {
                "error": "access_denied",
                "error_description": 'Client is not authorized to access "https://acme.auth0.com/api/v2/".',
            },
        ),
        AUTH0,
    )
    assert isinstance(err, PermissionDenied) and "Machine to Machine" in str(err)


def test_okta_e0000038_is_a_status_conflict_not_a_permission_problem():
    """Two executions deactivating one user at once: the second gets 403 E0000038. It is a refusal
    about the user's status (re-read it and decide), never a missing scope or admin role."""
    err = okta_error(
        response(
            403,
            {
                "errorCode": "E0000038",
                "errorSummary": "This operation is not allowed in the user's current status.",
                "errorCauses": [],
            },
        )
    )
    assert isinstance(err, UserStatusConflict) and isinstance(err, RequestRejected)
    assert not isinstance(err, PermissionDenied) and (err.status, err.code) == (403, "E0000038")
    assert "current status" in str(err)
