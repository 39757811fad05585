"""Okta management API by hand (requests): users, search, groups, lifecycle, System Log."""

from __future__ import annotations

import http.client
import re
from urllib.parse import quote, urlsplit

import pytest
import requests

from okta_auth0_sync_sandbox.util import iso8601
from tests.sandbox.support import OKTA


@pytest.fixture
def api(sb, creds):
    """GET/POST/PUT/DELETE against the Okta sandbox with the SSWS token."""
    session = requests.Session()
    session.headers["Authorization"] = f"SSWS {creds.ssws}"
    session.base = sb.okta.base_url  # type: ignore[attr-defined]
    yield session
    session.close()


def url(sb, path):
    return f"{sb.okta.base_url}{path}"


def search(api, sb, expr, **params):
    return api.get(url(sb, "/api/v1/users"), params={"search": expr, **params}, timeout=10)


def ids(resp):
    return sorted(u["id"] for u in resp.json())


# -- users ------------------------------------------------------------------------------------
def test_user_object_shape(api, sb):
    resp = api.get(url(sb, f"/api/v1/users/{OKTA.ada}"), timeout=10)
    assert resp.status_code == 200
    user = resp.json()
    assert re.fullmatch(r"00u[A-Za-z0-9]{17}", user["id"])
    for key in (
        "status",
        "created",
        "activated",
        "statusChanged",
        "lastLogin",
        "lastUpdated",
        "passwordChanged",
        "type",
        "profile",
        "credentials",
        "_links",
    ):
        assert key in user
    assert user["credentials"]["provider"] == {"type": "OKTA", "name": "OKTA"}
    assert user["_links"]["self"]["href"] == url(sb, f"/api/v1/users/{OKTA.ada}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", user["created"])
    assert resp.headers["ETag"].startswith('W/"')
    assert resp.headers["X-Okta-Request-Id"] and resp.headers["Date"].endswith("GMT")


def test_get_by_login_and_not_found(api, sb):
    assert api.get(url(sb, "/api/v1/users/" + quote("ADA.Lovelace@acme.example")), timeout=10).json()["id"] == OKTA.ada
    missing = api.get(url(sb, "/api/v1/users/nobody@acme.example"), timeout=10)
    assert missing.status_code == 404
    body = missing.json()
    assert body["errorCode"] == "E0000007" and body["errorLink"] == "E0000007"
    assert body["errorSummary"] == "Not found: Resource not found: nobody@acme.example (User)"
    assert body["errorId"].startswith("oae") and body["errorCauses"] == []


def test_search_expression_language(api, sb):
    sb.okta.add_user(
        {
            "login": "bob.obrien@acme.example",
            "email": "bob.obrien@acme.example",
            "firstName": "Bob",
            "lastName": 'O"Brien',
        }
    )
    assert ids(search(api, sb, 'profile.lastName eq "o\\"brien"')) == [
        sb.okta.get_user("bob.obrien@acme.example")["id"]
    ]
    assert ids(search(api, sb, 'profile.email sw "GRACE.hopper+"')) == [OKTA.grace]
    assert ids(search(api, sb, 'profile.email co "+ops"')) == [OKTA.grace]
    assert ids(search(api, sb, 'status eq "suspended"')) == [OKTA.alan]  # values are case-insensitive
    assert ids(search(api, sb, "profile.auth0_mastered pr")) == [OKTA.priya]
    both = search(api, sb, '(profile.firstName eq "Ada" or profile.firstName eq "Alan") and status eq "ACTIVE"')
    assert ids(both) == [OKTA.ada]
    assert OKTA.katherine in ids(search(api, sb, 'status eq "DEPROVISIONED"'))
    assert ids(search(api, sb, f'id eq "{OKTA.edsger}"')) == [OKTA.edsger]
    bad = search(api, sb, "profile.email eq unquoted")
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000031"


def test_filter_is_case_sensitive_and_q_is_prefix(api, sb):
    exact = api.get(
        url(sb, "/api/v1/users"), params={"filter": 'profile.email eq "ada.lovelace@acme.example"'}, timeout=10
    )
    assert ids(exact) == [OKTA.ada]
    upper = api.get(
        url(sb, "/api/v1/users"), params={"filter": 'profile.email eq "ADA.LOVELACE@ACME.EXAMPLE"'}, timeout=10
    )
    assert upper.json() == []
    not_filterable = api.get(url(sb, "/api/v1/users"), params={"filter": 'profile.department eq "IT"'}, timeout=10)
    assert not_filterable.status_code == 400
    q = api.get(url(sb, "/api/v1/users"), params={"q": "kat"}, timeout=10)
    assert q.json() == []  # q excludes DEPROVISIONED users
    assert ids(api.get(url(sb, "/api/v1/users"), params={"q": "gra"}, timeout=10)) == [OKTA.grace]


def test_default_listing_excludes_deprovisioned_and_links(api, sb):
    resp = api.get(url(sb, "/api/v1/users"), params={"limit": 3}, timeout=10)
    links = resp.raw.headers.getlist("Link")
    assert len(links) == 2
    assert links[0].endswith('rel="self"') and links[1].endswith('rel="next"')
    assert resp.links["next"]["url"].startswith(sb.okta.base_url)
    seen = [u["id"] for u in resp.json()]
    while "next" in resp.links:
        resp = api.get(resp.links["next"]["url"], timeout=10)
        seen += [u["id"] for u in resp.json()]
    assert len(seen) == len(set(seen)) == 7 and OKTA.katherine not in seen
    assert api.get(url(sb, "/api/v1/users"), params={"limit": 500}, timeout=10).status_code == 200  # clamped to 200


def test_create_user_status_rules(api, sb):
    def create(login, params, credentials=None, **profile):
        body = {"profile": {"firstName": "T", "lastName": "User", "email": login, "login": login, **profile}}
        if credentials:
            body["credentials"] = credentials
        return api.post(url(sb, "/api/v1/users"), params=params, json=body, timeout=10)

    assert create("staged@x.example", {"activate": "false"}).json()["status"] == "STAGED"
    assert create("provisioned@x.example", {}).json()["status"] == "PROVISIONED"
    pw = create("active@x.example", {"activate": "true"}, {"password": {"value": "Sandbox!pass1"}})
    assert pw.json()["status"] == "ACTIVE" and "password" in pw.json()["credentials"]
    assert "Sandbox!pass1" not in pw.text
    fed = create(
        "fed@x.example",
        {"provider": "true"},
        {"provider": {"type": "FEDERATION", "name": "FEDERATION"}},
        auth0_mastered="true",
    )
    assert fed.json()["status"] == "ACTIVE"
    assert fed.json()["credentials"] == {"provider": {"type": "FEDERATION", "name": "FEDERATION"}}


def test_create_user_validation(api, sb):
    def create(body, **params):
        return api.post(url(sb, "/api/v1/users"), params=params, json=body, timeout=10)

    blank = create({"profile": {"login": "x@x.example", "email": "x@x.example", "firstName": "", "lastName": "Y"}})
    assert blank.status_code == 400
    assert blank.json()["errorCode"] == "E0000001"
    assert blank.json()["errorCauses"] == [{"errorSummary": "firstName: The field cannot be left blank"}]
    undeclared = create(
        {"profile": {"login": "x@x.example", "email": "x@x.example", "firstName": "X", "lastName": "Y", "shoeSize": 44}}
    )
    assert undeclared.status_code == 400 and "shoeSize" in undeclared.text
    dup = create(
        {"profile": {"login": "ADA.LOVELACE@acme.example", "email": "a@x.example", "firstName": "A", "lastName": "L"}}
    )
    assert dup.status_code == 400
    body = dup.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert body["errorSummary"] == "Api validation failed: login"
    assert body["errorCauses"] == [
        {"errorSummary": "login: An object with this field already exists in the current organization"}
    ]
    malformed = api.post(
        url(sb, "/api/v1/users"), data="{not json", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert malformed.status_code == 400 and malformed.json()["errorCode"] == "E0000003"


def test_group_ids_are_atomic(api, sb):
    body = {
        "profile": {"login": "g@x.example", "email": "g@x.example", "firstName": "G", "lastName": "H"},
        "groupIds": [OKTA.partners, "00gUnknownGroup00000"],
    }
    resp = api.post(url(sb, "/api/v1/users"), json=body, timeout=10)
    assert resp.status_code == 404 and "(UserGroup)" in resp.json()["errorSummary"]
    assert sb.okta.get_user("g@x.example") is None
    body["groupIds"] = [OKTA.partners, OKTA.engineering]
    created = api.post(url(sb, "/api/v1/users"), json=body, timeout=10).json()
    assert created["id"] in sb.okta.group_member_ids(OKTA.partners) and created["id"] in sb.okta.group_member_ids(
        OKTA.engineering
    )
    too_many = {**body, "profile": {**body["profile"], "login": "g2@x.example"}, "groupIds": [OKTA.partners] * 21}
    assert api.post(url(sb, "/api/v1/users"), json=too_many, timeout=10).json()["errorCode"] == "E0000093"


def test_lifecycle_rules(api, sb):
    def op(uid, name, **params):
        return api.post(url(sb, f"/api/v1/users/{uid}/lifecycle/{name}"), params=params, timeout=10)

    assert op(OKTA.ada, "activate").json()["errorCode"] == "E0000016"
    assert op(OKTA.ada, "unsuspend").status_code == 400
    assert op(OKTA.ada, "suspend").status_code == 200
    assert sb.okta.get_user(OKTA.ada)["status"] == "SUSPENDED"
    assert op(OKTA.ada, "unsuspend").status_code == 200
    staged = op(OKTA.margaret, "activate", sendEmail="false")
    assert staged.status_code == 200 and set(staged.json()) == {"activationUrl", "activationToken"}
    assert op(OKTA.edsger, "reactivate").status_code == 200
    assert op(OKTA.katherine, "deactivate").json()["errorCode"] == "E0000038"
    assert op(OKTA.alan, "deactivate").status_code == 200
    assert op(OKTA.ada, "explode").status_code == 404
    events = [e["eventType"] for e in sb.okta.log_events()]
    assert events == [
        "user.lifecycle.suspend",
        "user.lifecycle.unsuspend",
        "user.lifecycle.activate",
        "user.lifecycle.reactivate",
        "user.lifecycle.deactivate",
    ]


def test_delete_user_deactivates_then_deletes(api, sb):
    assert api.delete(url(sb, f"/api/v1/users/{OKTA.grace}"), timeout=10).status_code == 204
    assert sb.okta.get_user(OKTA.grace)["status"] == "DEPROVISIONED"
    assert api.delete(url(sb, f"/api/v1/users/{OKTA.grace}"), timeout=10).status_code == 204
    assert sb.okta.get_user(OKTA.grace) is None
    assert OKTA.grace not in sb.okta.group_member_ids(OKTA.engineering)


# -- groups -----------------------------------------------------------------------------------
def test_groups(api, sb):
    group = api.get(url(sb, f"/api/v1/groups/{OKTA.partners}"), timeout=10).json()
    assert group["profile"]["name"] == "Auth0 Partners" and group["type"] == "OKTA_GROUP"
    assert group["objectClass"] == ["okta:user_group"]
    listed = api.get(url(sb, "/api/v1/groups"), params={"q": "auth0"}, timeout=10).json()
    assert [g["id"] for g in listed] == [OKTA.partners]
    page = api.get(url(sb, f"/api/v1/groups/{OKTA.engineering}/users"), params={"limit": 2}, timeout=10)
    assert len(page.json()) == 2 and "next" in page.links
    rest = api.get(page.links["next"]["url"], timeout=10).json()
    assert sorted(u["id"] for u in page.json() + rest) == sorted([OKTA.ada, OKTA.grace, OKTA.alan])
    missing = api.get(url(sb, "/api/v1/groups/00gMissing0000000000"), timeout=10)
    assert missing.status_code == 404 and missing.json()["errorSummary"].endswith("(UserGroup)")


def test_membership_put_delete(api, sb):
    path = url(sb, f"/api/v1/groups/{OKTA.partners}/users/{OKTA.ada}")
    first = api.put(path, timeout=10)
    assert first.status_code == 204 and first.content == b""
    assert api.put(path, timeout=10).status_code == 204  # idempotent, no second event
    assert OKTA.ada in sb.okta.group_member_ids(OKTA.partners)
    assert api.delete(path, timeout=10).status_code == 204
    assert OKTA.ada not in sb.okta.group_member_ids(OKTA.partners)
    assert [e["eventType"] for e in sb.okta.log_events()] == [
        "group.user_membership.add",
        "group.user_membership.remove",
    ]
    unknown_user = api.put(url(sb, f"/api/v1/groups/{OKTA.partners}/users/00uMissing0000000000"), timeout=10)
    assert unknown_user.status_code == 404 and unknown_user.json()["errorSummary"].endswith("(User)")
    built_in = api.put(url(sb, f"/api/v1/groups/{OKTA.everyone}/users/{OKTA.ada}"), timeout=10)
    assert built_in.status_code == 403


def test_put_without_content_length_is_411(sb, creds):
    parts = urlsplit(sb.okta.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("PUT", f"/api/v1/groups/{OKTA.partners}/users/{OKTA.ada}")
    conn.putheader("Authorization", f"SSWS {creds.ssws}")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 411
    resp.read()
    conn.close()
    assert OKTA.ada not in sb.okta.group_member_ids(OKTA.partners)


# -- auth on resources ----------------------------------------------------------------------------
def test_ssws_without_space_and_invalid_tokens(sb, creds):
    target = url(sb, f"/api/v1/users/{OKTA.ada}")
    assert requests.get(target, headers={"Authorization": f"SSWS{creds.ssws}"}, timeout=10).status_code == 200
    bad = requests.get(target, headers={"Authorization": "SSWS 00notAToken"}, timeout=10)
    assert bad.status_code == 401 and bad.json()["errorCode"] == "E0000011"
    assert bad.json()["errorSummary"] == "Invalid token provided"
    garbage = requests.get(target, headers={"Authorization": "Bearer not.a.jwt"}, timeout=10)
    assert garbage.status_code == 401 and 'error="invalid_token"' in garbage.headers["WWW-Authenticate"]
    assert requests.get(target, timeout=10).status_code == 403  # no credentials: E0000005


def test_expired_and_underscoped_tokens(sb, creds, okta_token, clock):
    token = okta_token("okta.users.read")
    target = url(sb, "/api/v1/users")
    assert requests.get(target, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    body = {"profile": {"login": "s@x.example", "email": "s@x.example", "firstName": "S", "lastName": "T"}}
    denied = requests.post(target, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert denied.status_code == 403 and denied.json()["errorCode"] == "E0000006"
    www = denied.headers["WWW-Authenticate"]
    assert www.startswith("Bearer ") and 'error="insufficient_scope"' in www and 'scope="okta.users.manage"' in www
    logs = requests.get(url(sb, "/api/v1/logs"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert logs.status_code == 403 and 'scope="okta.logs.read"' in logs.headers["WWW-Authenticate"]
    clock.advance(3601)
    expired = requests.get(target, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert expired.status_code == 401 and expired.json()["errorCode"] == "E0000011"
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]


# -- System Log ---------------------------------------------------------------------------------
def test_system_log_events_and_paging(api, sb, clock):
    start = clock()
    sb.okta.deactivate_user(OKTA.ada)  # an admin in the Admin Console
    clock.advance(10)
    api.post(url(sb, f"/api/v1/users/{OKTA.grace}/lifecycle/deactivate"), timeout=10)
    clock.advance(10)
    api.post(url(sb, f"/api/v1/users/{OKTA.ada}/lifecycle/activate"), timeout=10)
    resp = api.get(url(sb, "/api/v1/logs"), params={"since": iso8601(start - 1)}, timeout=10)
    events = resp.json()
    assert [e["eventType"] for e in events] == [
        "user.lifecycle.deactivate",
        "user.lifecycle.deactivate",
        "user.lifecycle.reactivate",
    ]
    event = events[0]
    for key in (
        "uuid",
        "published",
        "eventType",
        "displayMessage",
        "severity",
        "actor",
        "client",
        "outcome",
        "target",
        "transaction",
        "debugContext",
        "legacyEventType",
        "version",
    ):
        assert key in event
    assert event["displayMessage"] == "Deactivate Okta user"
    assert event["outcome"] == {"result": "SUCCESS", "reason": None}
    assert event["target"] == [
        {
            "id": OKTA.ada,
            "type": "User",
            "alternateId": "ada.lovelace@acme.example",
            "displayName": "Ada Lovelace",
            "detailEntry": None,
        }
    ]
    assert event["legacyEventType"] == "core.user.config.user_deactivated"
    api_event = events[1]
    assert api_event["transaction"]["id"] == api_event["debugContext"]["debugData"]["requestId"]
    assert api_event["debugContext"]["debugData"]["requestUri"] == f"/api/v1/users/{OKTA.grace}/lifecycle/deactivate"
    # polling (ascending, no until) always returns a next link
    assert "next" in resp.links
    follow = api.get(resp.links["next"]["url"], timeout=10)
    assert follow.json() == [] and "next" in follow.links
    sb.okta.deactivate_user(OKTA.alan)
    assert [e["target"][0]["id"] for e in api.get(follow.links["next"]["url"], timeout=10).json()] == [OKTA.alan]
    # filter, sortOrder, limit, until
    filtered = api.get(
        url(sb, "/api/v1/logs"),
        params={"since": iso8601(start - 1), "filter": 'eventType eq "user.lifecycle.reactivate"'},
        timeout=10,
    ).json()
    assert [e["target"][0]["id"] for e in filtered] == [OKTA.ada]
    desc = api.get(
        url(sb, "/api/v1/logs"), params={"since": iso8601(start - 1), "sortOrder": "DESCENDING", "limit": 1}, timeout=10
    )
    assert desc.json()[0]["target"][0]["id"] == OKTA.alan
    bounded = api.get(
        url(sb, "/api/v1/logs"), params={"since": iso8601(start - 1), "until": iso8601(start + 5)}, timeout=10
    )
    assert len(bounded.json()) == 1 and "next" not in bounded.links
    target_filter = api.get(
        url(sb, "/api/v1/logs"),
        params={"since": iso8601(start - 1), "filter": f'target.id eq "{OKTA.grace}"'},
        timeout=10,
    )
    assert len(target_filter.json()) == 1
