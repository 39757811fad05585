"""The sandbox Auth0 tenant's logs: the writes it performs are logged with Auth0's type codes and
shapes (``sapi`` with the caller's ``client_id``, ``sdu``), served by ``GET /api/v2/logs`` in
checkpoint and search mode (driven with auth0-python's ``logs`` client and raw requests), and
streamed as the log stream's EventBridge envelope."""

from __future__ import annotations

import pytest
import requests
from auth0.management.errors import NotFoundError

from tests.sandbox.support import AUTH0, management_session

ADMIN_SCOPES = (
    "read:users",
    "update:users",
    "delete:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
    "read:logs",
)


@pytest.fixture
def admin(sb):
    """A second M2M application (an operator's automation, not the sync) and its token."""
    return management_session(sb, "dashboard-automation", ADMIN_SCOPES)


def api(sb, path):
    return f"{sb.auth0.base_url}/api/v2{path}"


def test_writes_are_logged_as_sapi_with_the_callers_client(sb, admin):
    streamed = []
    sb.auth0.tenant_logs.subscribe(streamed.append)
    quoted = "auth0%7C" + AUTH0.mia.split("|", 1)[1]
    assert admin.post(api(sb, f"/roles/{AUTH0.partner_role}/users"), json={"users": [AUTH0.mia]}).status_code == 200
    assert admin.patch(api(sb, f"/users/{quoted}"), json={"blocked": True}).status_code == 200
    assert admin.delete(api(sb, f"/users/{quoted}/roles"), json={"roles": [AUTH0.partner_role]}).status_code == 204
    assert admin.post(api(sb, f"/users/{quoted}/roles"), json={"roles": [AUTH0.admin_role]}).status_code == 204
    assert admin.get(api(sb, f"/users/{quoted}/roles")).json()[0]["id"] == AUTH0.admin_role
    # a failed write logs nothing
    assert admin.post(api(sb, "/roles/rol_nope/users"), json={"users": [AUTH0.mia]}).status_code == 404
    logs = sb.auth0.tenant_logs.all()
    assert [x["type"] for x in logs] == ["sapi"] * 4
    assert [x["description"] for x in logs] == [
        "Assign users to a role",
        "Update a User",
        "Removes roles from a user",
        "Assign roles to a user",
    ]
    first, patch = logs[0], logs[1]
    assert first["client_id"] == admin.client_id and first["client_name"] == "dashboard-automation"
    assert first["user_id"] == ""  # the caller: an M2M token
    assert first["details"]["request"]["method"] == "post"
    assert first["details"]["request"]["path"] == f"/api/v2/roles/{AUTH0.partner_role}/users"
    assert first["details"]["request"]["body"] == {"users": [AUTH0.mia]}
    assert "create:role_members" in first["details"]["request"]["auth"]["credentials"]["scopes"]
    assert first["details"]["response"]["statusCode"] == 200
    assert patch["details"]["request"]["path"] == f"/api/v2/users/{quoted}"  # as sent: percent-encoded
    assert patch["details"]["request"]["body"] == {"blocked": True}
    assert patch["details"]["response"]["body"]["blocked"] is True
    assert all(len(x["log_id"]) == 56 and x["log_id"].isdigit() for x in logs)
    assert [x["log_id"] for x in logs] == sorted(x["log_id"] for x in logs)  # written order
    # the stream: one EventBridge event per log, the log under detail.data
    assert len(streamed) == 4
    event = streamed[1]
    assert event["detail-type"] == "Auth0 log" and event["source"].startswith("aws.partner/auth0.com/")
    assert event["source"].endswith("/auth0.logs") and event["detail"]["log_id"] == patch["log_id"]
    assert event["detail"]["data"] == patch


def test_the_syncs_own_write_names_its_client(sb, auth0_token):
    token = auth0_token()
    response = requests.patch(
        api(sb, f"/users/{AUTH0.grace}"),
        json={"blocked": True, "app_metadata": {"okta_sync": {"deactivated": True}}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200
    (log,) = sb.auth0.tenant_logs.all()
    assert log["client_id"] == AUTH0.client and log["client_name"] == "okta-auth0-sync"
    assert log["details"]["request"]["body"]["app_metadata"] == {"okta_sync": {"deactivated": True}}


def test_user_deletion_logs_sapi_and_sdu(sb, admin):
    assert admin.delete(api(sb, f"/users/{AUTH0.mia}")).status_code == 204
    assert sb.auth0.get_user(AUTH0.mia) is None
    assert AUTH0.mia not in sb.auth0.role_member_ids(AUTH0.partner_role)
    assert admin.get(api(sb, f"/users/{AUTH0.mia}")).status_code == 404
    sapi, sdu = sb.auth0.tenant_logs.all()
    assert sapi["type"] == "sapi" and sapi["details"]["request"]["method"] == "delete"
    assert sapi["details"]["response"]["statusCode"] == 204
    assert sdu["type"] == "sdu" and sdu["user_id"] == AUTH0.mia and sdu["client_id"] == admin.client_id
    assert sdu["user_name"] == "mia.wong@partner.example" and sdu["connection"] == "Username-Password-Authentication"


def test_role_writes_are_validated_and_scoped(sb, admin, auth0_token):
    bad = admin.post(api(sb, f"/roles/{AUTH0.partner_role}/users"), json={"users": []})
    assert bad.status_code == 400
    assert (
        admin.post(api(sb, f"/roles/{AUTH0.partner_role}/users"), json={"users": ["auth0|nobody"]}).status_code == 404
    )
    sync = {"Authorization": f"Bearer {auth0_token()}"}  # the sync's client holds no create:role_members
    denied = requests.post(api(sb, f"/roles/{AUTH0.partner_role}/users"), json={"users": [AUTH0.mia]}, headers=sync)
    assert denied.status_code == 403 and denied.json()["errorCode"] == "insufficient_scope"
    assert requests.get(api(sb, "/logs"), headers=sync, timeout=10).status_code == 403
    assert sb.auth0.tenant_logs.all() == []


def test_checkpoint_paging_with_raw_requests(sb, admin):
    for _ in range(5):
        admin.patch(api(sb, f"/users/{AUTH0.sam}"), json={"user_metadata": {"n": 1}})
    ids = [x["log_id"] for x in sb.auth0.tenant_logs.all()]
    page = admin.get(api(sb, "/logs"), params={"from": ids[0], "take": 2})
    assert page.status_code == 200 and [x["log_id"] for x in page.json()] == ids[1:3]
    assert page.links["next"]["url"] == api(sb, f"/logs?from={ids[2]}&take=2")
    second = admin.get(page.links["next"]["url"])
    assert [x["log_id"] for x in second.json()] == ids[3:5]
    empty = admin.get(second.links["next"]["url"])
    assert empty.json() == [] and empty.links["next"]["url"] == second.links["next"]["url"]  # same URL again
    assert admin.get(api(sb, "/logs"), params={"from": ids[0], "take": 101}).status_code == 400
    assert [x["log_id"] for x in admin.get(api(sb, "/logs"), params={"take": 3}).json()] == ids[:3]


def test_search_mode_and_get_with_the_sdk(sb, admin, auth0_mgmt):
    admin.patch(api(sb, f"/users/{AUTH0.sam}"), json={"blocked": True})
    admin.delete(api(sb, f"/users/{AUTH0.mia}"))
    mgmt = auth0_mgmt(admin.client_id, admin.secret)
    newest_first = list(mgmt.logs.list(per_page=2, sort="date:-1"))
    assert [x.type for x in newest_first] == ["sdu", "sapi", "sapi"]  # the pager walked every page
    deletions = list(mgmt.logs.list(search='type:"sdu"'))
    assert [(x.type, x.user_id) for x in deletions] == [("sdu", AUTH0.mia)]
    one = mgmt.logs.get(deletions[0].log_id)
    assert one.user_id == AUTH0.mia and one.client_id == admin.client_id
    with pytest.raises(NotFoundError):
        mgmt.logs.get("90020990101000000000" + "0" * 36)
    totals = admin.get(api(sb, "/logs"), params={"include_totals": "true", "per_page": 1}).json()
    assert totals["total"] == 3 and totals["length"] == 1 and len(totals["logs"]) == 1
