"""Auth0 Authentication + Management API by hand (requests)."""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import jwt
import requests

from okta_auth0_sync_sandbox.jose import generate_private_key, private_key_pem
from tests.sandbox.support import AUTH0, JWT_BEARER, auth0_api


def user_url(sb, user_id):
    return auth0_api(sb, "/users/" + quote(user_id, safe=""))


# -- /oauth/token ---------------------------------------------------------------------------------
def token(sb, **data):
    return requests.post(f"{sb.auth0.base_url}/oauth/token", data=data, timeout=10)


def test_token_form_json_and_basic(sb, creds):
    aud = sb.auth0.management_audience
    form = token(
        sb, grant_type="client_credentials", client_id=AUTH0.client, client_secret=creds.auth0_secret, audience=aud
    )
    assert form.status_code == 200 and set(form.json()) == {"access_token", "scope", "expires_in", "token_type"}
    as_json = requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": AUTH0.client,
            "client_secret": creds.auth0_secret,
            "audience": aud,
            "organization": None,
        },
        timeout=10,
    )
    assert as_json.status_code == 200
    basic = requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        data={"grant_type": "client_credentials", "audience": aud},
        auth=(AUTH0.client, creds.auth0_secret),
        timeout=10,
    )
    assert basic.status_code == 200
    scoped = token(
        sb,
        grant_type="client_credentials",
        client_id=AUTH0.client,
        client_secret=creds.auth0_secret,
        audience=aud,
        scope="read:users",
    )
    assert scoped.json()["scope"] == "read:users"
    sb.auth0.token_lifetime = 60
    short = token(
        sb, grant_type="client_credentials", client_id=AUTH0.client, client_secret=creds.auth0_secret, audience=aud
    )
    assert short.json()["expires_in"] == 60


def test_token_errors(sb, creds):
    aud = sb.auth0.management_audience
    base = {"grant_type": "client_credentials", "client_id": AUTH0.client, "client_secret": creds.auth0_secret}
    wrong = token(sb, **{**base, "client_secret": "nope", "audience": aud})
    assert wrong.status_code == 401 and wrong.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    no_slash = token(sb, **base, audience=aud.rstrip("/"))
    assert (
        no_slash.status_code == 403
        and no_slash.json()["error_description"] == f"Service not enabled within domain: {aud.rstrip('/')}"
    )
    no_aud = token(sb, **base)
    assert no_aud.status_code == 403 and no_aud.json()["error"] == "access_denied"
    no_grant = token(sb, **base, audience=AUTH0.api)
    assert no_grant.status_code == 403 and 'You need to create a "client-grant"' in no_grant.json()["error_description"]
    too_much = token(sb, **base, audience=aud, scope="read:users delete:users")
    assert (
        too_much.status_code == 403
        and too_much.json()["error_description"] == "Client has not been granted scopes: delete:users"
    )
    custom = token(
        sb,
        grant_type="client_credentials",
        client_id=AUTH0.api_client,
        client_secret=creds.auth0_api_secret,
        audience=AUTH0.api,
    )
    assert custom.status_code == 200 and custom.json()["expires_in"] == 7200


def assertion(sb, key_pem, client=AUTH0.jwt_client, aud=None, **claims):
    now = int(time.time())
    payload = {
        "iss": client,
        "sub": client,
        "aud": aud or f"https://{sb.auth0.domain}/",
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    return jwt.encode(payload, key_pem, algorithm="RS256")


def test_private_key_jwt(sb, creds):
    key = creds.auth0_jwt_key.private_key_pem
    aud = sb.auth0.management_audience
    signed = assertion(sb, key)
    ok = token(
        sb, grant_type="client_credentials", client_assertion_type=JWT_BEARER, client_assertion=signed, audience=aud
    )
    assert ok.status_code == 200
    replay = token(
        sb, grant_type="client_credentials", client_assertion_type=JWT_BEARER, client_assertion=signed, audience=aud
    )
    assert replay.status_code == 401
    for bad in (
        assertion(sb, key, aud=f"https://{sb.auth0.domain}/oauth/token"),  # aud is the tenant root
        assertion(sb, key, exp=int(time.time()) + 3600),  # more than 5 minutes ahead
        assertion(sb, private_key_pem(generate_private_key())),
    ):
        resp = token(
            sb, grant_type="client_credentials", client_assertion_type=JWT_BEARER, client_assertion=bad, audience=aud
        )
        assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    secret_for_jwt_client = token(
        sb, grant_type="client_credentials", client_id=AUTH0.jwt_client, client_secret="x", audience=aud
    )
    assert secret_for_jwt_client.status_code == 401


# -- Management API auth --------------------------------------------------------------------------
def test_management_auth_errors(sb, auth0_token, creds, clock):
    target = auth0_api(sb, "/users-by-email")
    missing = requests.get(target, params={"email": "a@b.c"}, timeout=10)
    assert missing.status_code == 401 and missing.json()["message"] == "Missing authentication"
    invalid = requests.get(
        target, params={"email": "a@b.c"}, headers={"Authorization": "Bearer abc.def.ghi"}, timeout=10
    )
    assert invalid.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Invalid token",
        "attributes": {"error": "Invalid token"},
    }
    custom_api_token = auth0_token(AUTH0.api_client, creds.auth0_api_secret, AUTH0.api)
    wrong_aud = requests.get(
        target, params={"email": "a@b.c"}, headers={"Authorization": f"Bearer {custom_api_token}"}, timeout=10
    )
    assert wrong_aud.status_code == 401 and wrong_aud.json()["message"].startswith("Bad audience")
    good = auth0_token()
    clock.advance(86401)
    expired = requests.get(target, params={"email": "a@b.c"}, headers={"Authorization": f"Bearer {good}"}, timeout=10)
    assert expired.status_code == 401 and expired.json()["message"] == "Expired token"


def test_insufficient_scope(sb, auth0_token, creds):
    readonly = {"Authorization": f"Bearer {auth0_token(AUTH0.readonly_client, creds.auth0_readonly_secret)}"}
    resp = requests.get(auth0_api(sb, f"/roles/{AUTH0.partner_role}/users"), headers=readonly, timeout=10)
    assert resp.status_code == 403 and resp.json()["errorCode"] == "insufficient_scope"
    patch = requests.patch(user_url(sb, AUTH0.sam), json={"app_metadata": {"x": 1}}, headers=readonly, timeout=10)
    assert patch.json()["message"] == "Insufficient scope, expected any of: update:users,update:users_app_metadata"
    # update:users_app_metadata alone allows app_metadata, nothing else
    jwt_client = token(
        sb,
        grant_type="client_credentials",
        client_assertion_type=JWT_BEARER,
        client_assertion=assertion(sb, creds.auth0_jwt_key.private_key_pem),
        audience=sb.auth0.management_audience,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {jwt_client}"}
    assert (
        requests.patch(
            user_url(sb, AUTH0.sam), json={"app_metadata": {"x": 1}}, headers=headers, timeout=10
        ).status_code
        == 200
    )
    assert (
        requests.patch(user_url(sb, AUTH0.sam), json={"blocked": True}, headers=headers, timeout=10).status_code == 403
    )
    assert (
        requests.get(auth0_api(sb, f"/roles/{AUTH0.partner_role}/users"), headers=headers, timeout=10).status_code
        == 200
    )  # read:role_members


# -- users-by-email ----------------------------------------------------------------------------------
def test_users_by_email(sb, mgmt):
    target = auth0_api(sb, "/users-by-email")
    encoded = mgmt.get(target, params={"email": "sam.rivera+partners@partner.example"}, timeout=10)
    assert [u["user_id"] for u in encoded.json()] == [AUTH0.sam]
    raw_plus = mgmt.get(f"{target}?email=sam.rivera+partners@partner.example", timeout=10)
    assert raw_plus.status_code == 200 and raw_plus.json() == []  # '+' decodes to a space
    assert mgmt.get(target, params={"email": "nobody@nowhere.example"}, timeout=10).json() == []
    fields = mgmt.get(
        target, params={"email": "mia.wong@partner.example", "fields": "user_id,app_metadata,blocked"}, timeout=10
    )
    assert fields.json() == [{"user_id": AUTH0.mia}]
    excluded = mgmt.get(
        target,
        params={"email": "mia.wong@partner.example", "fields": "identities,picture", "include_fields": "false"},
        timeout=10,
    )
    assert "identities" not in excluded.json()[0] and "email" in excluded.json()[0]
    missing = mgmt.get(target, timeout=10)
    assert missing.status_code == 400
    assert missing.json()["message"].startswith("Query validation error: 'Missing required property: email'")
    assert missing.json()["errorCode"] == "invalid_query_string"


def test_user_shapes(sb, mgmt):
    noah = mgmt.get(user_url(sb, AUTH0.noah), timeout=10).json()
    assert noah["identities"] == [
        {
            "connection": "google-oauth2",
            "provider": "google-oauth2",
            "user_id": "144388474300177161134",
            "isSocial": True,
        }
    ]
    for key in (
        "user_id",
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
        "nickname",
        "picture",
        "created_at",
        "updated_at",
        "logins_count",
    ):
        assert key in noah
    anon = mgmt.get(user_url(sb, AUTH0.anon), timeout=10).json()
    assert "given_name" not in anon and "user_metadata" not in anon and anon["name"] == anon["email"]
    lee = mgmt.get(user_url(sb, AUTH0.lee), timeout=10).json()
    assert lee["email"] == "Lee.Chen@partner.example"  # enterprise users keep the IdP's casing
    missing = mgmt.get(user_url(sb, "auth0|nope"), timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "The user does not exist.",
        "errorCode": "inexistent_user",
    }


def test_patch_validation(sb, mgmt):
    target = user_url(sb, AUTH0.mia)

    def patch(body):
        return mgmt.patch(target, json=body, timeout=10)

    assert patch({}).json()["message"] == "Payload validation error: 'Too few properties defined (0), minimum 1'."
    assert "Additional properties not allowed: favourite" in patch({"favourite": 1}).json()["message"]
    assert patch({"blocked": "yes"}).status_code == 400
    assert patch({"app_metadata": {"a.b": 1}}).status_code == 400
    assert patch({"user_metadata": {"nested": {"$set": 1}}}).status_code == 400
    reserved = patch({"app_metadata": {"blocked": True}})
    assert reserved.status_code == 400 and reserved.json()["errorCode"] == "invalid_body"
    assert patch({"app_metadata": None}).status_code == 400
    enterprise = mgmt.patch(user_url(sb, AUTH0.ada_okta), json={"given_name": "Augusta"}, timeout=10)
    assert enterprise.status_code == 400 and "cannot be updated: given_name" in enterprise.json()["message"]
    database = patch({"given_name": "Mia", "email": "Mia.Wong@Partner.example"})
    assert database.json()["given_name"] == "Mia" and database.json()["email"] == "mia.wong@partner.example"
    assert sb.auth0.get_user(AUTH0.mia)["user_metadata"]["preferred_language"] == "en"  # untouched


def test_search_syntax(sb, mgmt):
    def q(query, **params):
        resp = mgmt.get(auth0_api(sb, "/users"), params={"q": query, "search_engine": "v3", **params}, timeout=10)
        assert resp.status_code == 200, resp.text
        return sorted(u["user_id"] for u in resp.json())

    assert q('identities.connection:"okta-workforce"') == [AUTH0.ada_okta]
    assert q("user_metadata.firstName:Mia") == [AUTH0.mia]
    assert q("user_metadata.firstName:mia") == []  # metadata is case-sensitive
    assert q('name:"lee chen"') == [AUTH0.lee]
    assert q("user_id:google-oauth2*") == [AUTH0.noah]
    assert q("blocked:true") == [AUTH0.blocked]
    assert q("_exists_:app_metadata.okta_sync AND NOT blocked:true") == [AUTH0.priya]
    assert q("email:*@partner.example AND logins_count:[1 TO 5]") == sorted([AUTH0.mia, AUTH0.lee])
    bare = mgmt.get(auth0_api(sb, "/users"), params={"q": "user_metadata.firstName:Mia"}, timeout=10).json()
    assert isinstance(bare, list)
    env = mgmt.get(
        auth0_api(sb, "/users"),
        params={"q": "email:*@partner.example", "include_totals": "true", "per_page": 2, "page": 1, "sort": "email:1"},
        timeout=10,
    ).json()
    assert set(env) == {"start", "limit", "length", "total", "users"}
    assert env["start"] == 2 and env["limit"] == 2 and env["length"] == 2 and env["total"] == 6
    emails = [u["email"] for u in env["users"]]
    assert emails == sorted(emails)
    assert mgmt.get(auth0_api(sb, "/users"), params={"per_page": 101}, timeout=10).status_code == 400
    assert mgmt.get(auth0_api(sb, "/users"), params={"q": "email:(unclosed"}, timeout=10).status_code == 400
    assert mgmt.get(auth0_api(sb, "/users"), params={"search_engine": "v2"}, timeout=10).status_code == 400


def test_email_case_in_search_and_users_by_email(sb, mgmt):
    """Search v3 matches ``email`` case-insensitively; users-by-email stays exact and case-sensitive."""
    database, enterprise = AUTH0.ada, AUTH0.ada_okta  # stored as ada.lovelace@… and Ada.Lovelace@Acme.example
    for written in ("Ada.Lovelace@Acme.example", "ada.lovelace@acme.example", "ADA.LOVELACE@ACME.EXAMPLE"):
        found = mgmt.get(auth0_api(sb, "/users"), params={"q": f'email:"{written}"', "search_engine": "v3"}, timeout=10)
        assert sorted(u["user_id"] for u in found.json()) == sorted([database, enterprise]), written

    def by_email(email):
        return [
            u["user_id"] for u in mgmt.get(auth0_api(sb, "/users-by-email"), params={"email": email}, timeout=10).json()
        ]

    assert by_email("ada.lovelace@acme.example") == [database]
    assert by_email("Ada.Lovelace@Acme.example") == [enterprise]
    assert by_email("ADA.LOVELACE@ACME.EXAMPLE") == []


def test_offset_cap_and_414(sb, mgmt):
    sb.auth0.bulk_add_users(1000, email_template="many{n}@bulk.example")
    ok = mgmt.get(auth0_api(sb, "/users"), params={"q": "email:*@bulk.example", "per_page": 100, "page": 9}, timeout=10)
    assert ok.status_code == 200 and len(ok.json()) == 100
    capped = mgmt.get(
        auth0_api(sb, "/users"), params={"q": "email:*@bulk.example", "per_page": 100, "page": 10}, timeout=10
    )
    assert capped.status_code == 400 and capped.json()["message"].startswith(
        "You can only page through the first 1000 records"
    )
    long_query = "user_id:(" + " OR ".join(f'"auth0|{i:024d}"' for i in range(300)) + ")"
    too_long = mgmt.get(auth0_api(sb, "/users"), params={"q": long_query}, timeout=10)
    assert too_long.status_code == 414


def test_roles_and_role_members(sb, mgmt):
    roles = mgmt.get(auth0_api(sb, "/roles"), params={"include_totals": "true"}, timeout=10).json()
    assert roles["total"] == 2 and {r["id"] for r in roles["roles"]} == {AUTH0.partner_role, AUTH0.admin_role}
    assert mgmt.get(auth0_api(sb, "/roles/rol_missing000000000"), timeout=10).json()["errorCode"] == "inexistent_role"
    target = auth0_api(sb, f"/roles/{AUTH0.partner_role}/users")
    offset = mgmt.get(target, params={"per_page": 4, "page": 1, "include_totals": "true"}, timeout=10).json()
    assert set(offset) == {"start", "limit", "total", "users"} and offset["total"] == 6 and len(offset["users"]) == 2
    assert all(set(u) == {"user_id", "email", "name", "picture"} for u in offset["users"])
    bare = mgmt.get(target, timeout=10).json()
    assert isinstance(bare, list) and len(bare) == 6
    first = mgmt.get(target, params={"take": 4, "include_totals": "true"}, timeout=10).json()
    assert set(first) == {"next", "users"} and len(first["users"]) == 4
    last = mgmt.get(target, params={"take": 4, "from": first["next"]}, timeout=10).json()
    assert "next" not in last and len(last["users"]) == 2
    assert {u["user_id"] for u in first["users"] + last["users"]} == {
        AUTH0.priya,
        AUTH0.sam,
        AUTH0.mia,
        AUTH0.noah,
        AUTH0.lee,
        AUTH0.anon,
    }
    assert mgmt.get(target, params={"take": 101}, timeout=10).status_code == 400
    assert mgmt.get(target, params={"per_page": 0}, timeout=10).status_code == 400
    assert (
        mgmt.get(auth0_api(sb, "/roles/rol_missing000000000/users"), params={"take": 5}, timeout=10).status_code == 404
    )


def test_role_offset_cap(sb, mgmt):
    sb.auth0.bulk_add_users(1001, role_id=AUTH0.admin_role, email_template="admin{n}@bulk.example")
    target = auth0_api(sb, f"/roles/{AUTH0.admin_role}/users")
    assert mgmt.get(target, params={"per_page": 100, "page": 10}, timeout=10).status_code == 400
    cursor, seen = None, 0
    while True:  # checkpoint paging has no cap
        params = {"take": 100, **({"from": cursor} if cursor else {})}
        body = mgmt.get(target, params=params, timeout=10).json()
        seen += len(body["users"])
        cursor = body.get("next")
        if not cursor:
            break
    assert seen == 1002
