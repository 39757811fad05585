"""Auth0 tenant logs as domain events (domain/auth0_logs), the reverse sync's rules, and the
Auth0Lifecycle task payload: a table of real log shapes, then hostile input (hypothesis): never
anything but the events a log carries, or InvalidInput naming the field."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.auth0_logs import (
    Auth0LogEvent,
    ReverseSyncPolicy,
    classify,
    log_of_envelope,
    okta_operation,
)
from okta_auth0_sync.domain.payloads.auth0_lifecycle import LifecycleTask

ROLE, OTHER_ROLE = "rol_rRVnAbarjZsuC2Xn", "rol_JLU9bRONfMBQAgNI"
USER = "auth0|5df05339f1861a9587ec7a5a"
OURS = "luUzrF3YzNGBlxHPqRetDe5OQ4hCgbPj"
LOG_ID = "90020261201025035588000000000000000000000000000000000001"
DATE = "2026-12-01T02:50:35.588Z"


def sapi(method, path, body=None, status=200, client="dashboard"):
    return {
        "log_id": LOG_ID,
        "date": DATE,
        "type": "sapi",
        "client_id": client,
        "details": {
            "request": {"method": method, "path": path, "body": body or {}},
            "response": {"statusCode": status},
        },
    }


def kinds(log, **kw):
    found = classify(log, own_client_id=OURS, mapped_roles={ROLE}, **kw)
    return [(e.kind, e.auth0_user_id, e.role_id) for e in found.events], found


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        (sapi("post", f"/api/v2/roles/{ROLE}/users", {"users": [USER, USER, "x"]}), [("role_assigned", USER, ROLE)]),
        (sapi("post", "/api/v2/users/auth0%7C5df05339f1861a9587ec7a5a/roles", {"roles": [ROLE, OTHER_ROLE]}),
         [("role_assigned", USER, ROLE)]),
        (sapi("delete", f"/api/v2/users/{USER}/roles", {"roles": [ROLE]}), [("role_removed", USER, ROLE)]),
        (sapi("patch", "/api/v2/users/auth0%7C5df05339f1861a9587ec7a5a", {"blocked": True}), [("blocked", USER, None)]),
        (sapi("patch", f"/api/v2/users/{USER}", {"blocked": False, "name": "x"}), [("unblocked", USER, None)]),
        (sapi("delete", f"/api/v2/users/{USER}"), [("deleted", USER, None)]),
        ({"log_id": LOG_ID, "date": DATE, "type": "sdu", "user_id": USER}, [("deleted", USER, None)]),
        # ignored: another role, a failed write, a non-blocking PATCH, a read, another type, a bad date
        (sapi("post", f"/api/v2/roles/{OTHER_ROLE}/users", {"users": [USER]}), []),
        (sapi("patch", f"/api/v2/users/{USER}", {"blocked": True}, status=400), []),
        (sapi("patch", f"/api/v2/users/{USER}", {"blocked": "true"}), []),
        (sapi("get", f"/api/v2/users/{USER}"), []),
        ({"log_id": LOG_ID, "date": DATE, "type": "s", "user_id": USER}, []),
        ({**sapi("delete", f"/api/v2/users/{USER}"), "date": "yesterday"}, []),
    ],
)  # fmt: skip
def test_what_each_log_carries(log, expected):
    assert kinds(log)[0] == expected


def test_our_own_writes_are_recognised():
    events, found = kinds(sapi("patch", f"/api/v2/users/{USER}", {"blocked": True}, client=OURS))
    assert events == [] and found.own_write and "client_id" in found.ignored
    marked = {
        "blocked": True,
        "app_metadata": {"okta_sync": {"okta_user_id": "00uZPx7YubxGT9rKLiKE", "event_uuid": "u-1"}},
    }
    _, found = kinds(sapi("patch", f"/api/v2/users/{USER}", marked))
    assert found.marker == ("00uZPx7YubxGT9rKLiKE", "u-1")  # the ingress checks the ledger for it
    _, found = kinds(sapi("patch", f"/api/v2/users/{USER}", marked), marker_path=("user_metadata", "okta_sync"))
    assert found.marker is None


def test_one_log_naming_several_users_names_an_execution_each():
    log = sapi("post", f"/api/v2/roles/{ROLE}/users", {"users": [USER, "google-oauth2|1"]})
    found = classify(log, own_client_id=OURS, mapped_roles={ROLE})
    assert [e.execution_name(i, 2) for i, e in enumerate(found.events)] == [f"{LOG_ID}-0", f"{LOG_ID}-1"]
    assert found.events[0].execution_name(0, 1) == LOG_ID
    assert Auth0LogEvent.from_payload(found.events[1].to_payload()) == found.events[1]


def test_the_envelope_nested_and_flat():
    log = sapi("delete", f"/api/v2/users/{USER}")
    assert log_of_envelope({"detail": {"log_id": LOG_ID, "data": log}}) == log
    assert log_of_envelope({"detail": log}) == log
    for bad in (None, [], {"detail": "x"}, {"detail": {"data": {"type": "sapi"}}}):
        with pytest.raises(InvalidInput):
            log_of_envelope(bad)


@pytest.mark.parametrize(
    ("wanted", "status", "ours", "call"),
    [
        ("suspend", "ACTIVE", False, "suspend"),
        ("suspend", "SUSPENDED", False, None),
        ("suspend", "DEPROVISIONED", False, None),
        ("unsuspend", "SUSPENDED", True, "unsuspend"),
        ("unsuspend", "SUSPENDED", False, None),  # an Okta admin's suspension stays
        ("deactivate", "SUSPENDED", False, "deactivate"),
        ("deactivate", "DEPROVISIONED", False, None),
        ("off", "ACTIVE", False, None),
    ],
)
def test_the_one_okta_call(wanted, status, ours, call):
    assert okta_operation(wanted, status, suspended_by_us=ours) == call


def test_policy():
    assert ReverseSyncPolicy().wanted("unblocked") == "unsuspend"
    assert ReverseSyncPolicy(on_block="off").wanted("unblocked") == "off"
    assert ReverseSyncPolicy(on_delete="suspend").wanted("deleted") == "suspend"
    with pytest.raises(ValueError):
        ReverseSyncPolicy(on_block="deactivate")


def test_the_task_payload():
    event = {"log_id": LOG_ID, "date": DATE, "kind": "role_assigned", "auth0_user_id": USER, "role_id": ROLE}
    task = LifecycleTask.from_payload({"step": "decide_role", "event": event, "execution_name": LOG_ID})
    assert task.event.role_id == ROLE
    for bad in (
        {"step": "reverse_sync", "event": event, "execution_name": LOG_ID},  # a role event to the lifecycle step
        {"step": "commit_role", "event": event, "execution_name": LOG_ID, "key": "auth0#x", "version": True},
        {"step": "decide_role", "event": {**event, "role_id": None}, "execution_name": LOG_ID},
        {"step": "decide_role", "event": {**event, "log_id": "12a"}, "execution_name": LOG_ID},
        {"step": "decide_role", "event": event, "execution_name": "has space"},
    ):
        with pytest.raises(InvalidInput):
            LifecycleTask.from_payload(bad)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=6,
)
PATHS = st.sampled_from(
    [f"/api/v2/users/{USER}", f"/api/v2/users/{USER}/roles", f"/api/v2/roles/{ROLE}/users", "/api/v2/users/%ZZ"]
) | st.text(max_size=40)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log_type=st.sampled_from(["sapi", "sdu", "s"]) | st.text(max_size=5),
    method=st.sampled_from(["post", "patch", "delete", "PATCH"]) | JSON,
    path=PATHS,
    body=JSON,
    user=JSON,
    status=st.sampled_from([200, 204, 400]) | JSON,
)
def test_hostile_logs_never_break_the_classifier(log_type, method, path, body, user, status):
    log = {
        "log_id": LOG_ID,
        "date": DATE,
        "type": log_type,
        "user_id": user,
        "details": {"request": {"method": method, "path": path, "body": body}, "response": {"statusCode": status}},
    }
    found = classify(log, own_client_id=OURS, mapped_roles={ROLE})
    for event in found.events:  # every event is well formed and round-trips through the payload
        assert Auth0LogEvent.from_payload(event.to_payload()) == event
    assert bool(found.events) != bool(found.ignored)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(payload=JSON)
def test_hostile_task_input_is_invalid_input(payload):
    with contextlib.suppress(InvalidInput):
        LifecycleTask.from_payload(payload)
    with contextlib.suppress(InvalidInput):
        log_of_envelope(payload)
