"""Deactivation sync end to end: sandbox Okta delivers event hooks over HTTP to the local API
Gateway, the receiver starts executions of the real ASL in moto, the handlers update the
sandbox Auth0. Every test checks what Auth0 holds afterwards and the calls it took."""

import json
import time
from pathlib import Path

import pytest
import requests

from okta_auth0_sync.base import counters
from okta_auth0_sync_testbed.apigateway import http_event

from .conftest import EVENT_TYPES, HOOK_SECRET, deliver

GRACE = "00uieg27N0mAaWp92N5J"  # grace.hopper+ops@acme.example, ACTIVE
GRACE_DB = "auth0|c7d4c9e39de14f953e9cd582"
OLIVIA = "00uPlZmrJO86f9L7M1Oe"  # no Auth0 account
MACHINE = "DeactivationSyncStateMachine"


@pytest.fixture
def grace_enterprise(sb):
    """A second Auth0 account for Grace (Okta enterprise connection), with metadata of its own."""
    return sb.auth0.add_user(
        connection="okta-workforce",
        email="grace.hopper+ops@acme.example",
        app_metadata={"plan": "gold", "okta_sync": {"note": "keep me"}},
        user_metadata={"theme": "dark"},
    )["user_id"]


def sync_record(sb, user_id):
    return (sb.auth0.get_user(user_id).get("app_metadata") or {}).get("okta_sync")


def post(api, body, secret=HOOK_SECRET):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Authorization"] = secret
    return requests.post(f"{api.url}/okta/event-hook", data=body, headers=headers, timeout=5)


def test_verification_is_answered_after_checking_the_secret(sb, api, hook):
    assert hook.verification_status == "VERIFIED"
    wrong = sb.okta.register_event_hook(f"{api.url}/okta/event-hook", EVENT_TYPES, "not-the-secret")
    assert wrong.verification_status == "UNVERIFIED"
    headers = {"x-okta-verification-challenge": "abc"}
    response = requests.get(f"{api.url}/okta/event-hook", headers=headers, timeout=5)
    assert response.status_code == 401  # no Authorization at all


def test_deactivation_flags_every_match_keeping_other_metadata(sb, stack, hook, grace_enterprise):
    counters.api_calls.reset()
    sb.okta.deactivate_user(GRACE)
    (delivery,) = deliver(sb)
    runs = stack.wait_all(MACHINE)
    (run,) = runs.values()
    assert run.name == delivery.event_uuids[0]  # named after the event's uuid
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["outcome"] == "synced"
    assert {r["user_id"]: r["outcome"] for r in run.output["results"]} == {
        GRACE_DB: "flagged",
        grace_enterprise: "flagged",
    }

    for user_id in (GRACE_DB, grace_enterprise):
        record = sync_record(sb, user_id)
        assert record["deactivated"] is True
        assert record["okta_user_id"] == GRACE and record["event_uuid"] == run.name
        assert record["event_type"] == "user.lifecycle.deactivate"
    enterprise = sb.auth0.get_user(grace_enterprise)
    assert enterprise["app_metadata"]["plan"] == "gold"  # other top-level keys intact
    assert enterprise["app_metadata"]["okta_sync"]["note"] == "keep me"  # other keys in our object intact
    assert enterprise["user_metadata"] == {"theme": "dark"}

    # The '+' went out encoded and matched; one exact lookup (the email is lower-case) and one
    # case-insensitive search, one PATCH per match, then sessions and refresh tokens revoked.
    assert counters.api_calls.total("auth0", route="/api/v2/users-by-email") == 1
    assert counters.api_calls.total("auth0", route="/api/v2/users") == 1
    assert counters.api_calls.total("auth0", method="PATCH") == 2
    assert counters.api_calls.total("auth0", method="DELETE", route="/api/v2/users/{id}/sessions") == 2
    assert counters.api_calls.total("auth0", method="DELETE", route="/api/v2/users/{id}/refresh-tokens") == 2
    assert counters.api_calls.total("auth0") == 9  # those 8 and the one token mint
    assert all(r["access"] == {"sessions": "revoked", "refresh_tokens": "revoked"} for r in run.output["results"])
    assert all(sb.auth0.get_user(u)["blocked"] is True for u in (GRACE_DB, grace_enterprise))
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}") == 1
    assert counters.tokens_minted.total("auth0") == 1 and counters.tokens_minted.total("okta") == 1
    assert "eyJ" not in json.dumps(run.history, default=str)


def test_a_repeated_delivery_starts_nothing_and_writes_nothing(sb, stack, api, hook):
    sb.okta.hooks.duplicate = True  # Okta delivers at least once: every delivery twice
    sb.okta.deactivate_user(GRACE)
    first, second = deliver(sb)
    assert second.duplicate and first.event_uuids == second.event_uuids
    runs = stack.wait_all(MACHINE)
    assert len(runs) == 1
    patches = counters.api_calls.total("auth0", method="PATCH")
    # And once more, after the first execution finished: still nothing new.
    body = json.dumps(
        {"eventType": "com.okta.event_hook", "data": {"events": sb.okta.log_events("user.lifecycle.deactivate")}}
    )
    assert post(api, body).status_code == 204
    assert len(stack.wait_all(MACHINE)) == 1
    assert counters.api_calls.total("auth0", method="PATCH") == patches == 1


def test_reactivation_clears_the_flag(sb, stack, hook):
    sb.okta.deactivate_user(GRACE)
    deliver(sb)
    stack.wait_all(MACHINE)
    assert sync_record(sb, GRACE_DB)["deactivated"] is True
    sb.okta.activate_user(GRACE)  # activating a DEPROVISIONED user logs user.lifecycle.reactivate
    deliver(sb)
    runs = stack.wait_all(MACHINE)
    assert [r.status for r in runs.values()] == ["SUCCEEDED", "SUCCEEDED"]
    record = sync_record(sb, GRACE_DB)
    assert record["deactivated"] is False
    assert record["event_type"] == "user.lifecycle.reactivate"
    assert sb.auth0.get_user(GRACE_DB)["blocked"] is False  # we blocked it, so we unblock it
    # Two events: 2 Okta reads, 2 lookups and 2 searches, 2 PATCHes, and one token per tenant for both.
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}") == 2
    assert counters.api_calls.total("auth0", route="/api/v2/users-by-email") == 2
    assert counters.api_calls.total("auth0", method="PATCH") == 2
    assert counters.tokens_minted.total("auth0") == 1 and counters.tokens_minted.total("okta") == 1


def test_out_of_order_deliveries_keep_the_newest_state(sb, stack, api, hook):
    sb.okta.deactivate_user(GRACE)
    time.sleep(0.01)  # distinct published times (ms resolution)
    sb.okta.activate_user(GRACE)
    sb.okta.hooks.clear()  # we deliver by hand, newest first
    (deactivate,) = sb.okta.log_events("user.lifecycle.deactivate")
    (activate,) = sb.okta.log_events("user.lifecycle.reactivate")
    assert activate["published"] > deactivate["published"]
    for event in (activate, deactivate):
        delivery = json.dumps({"eventType": "com.okta.event_hook", "data": {"events": [event]}})
        assert post(api, delivery).status_code == 204
        stack.wait_all(MACHINE)
    runs = stack.wait_all(MACHINE)
    late = runs[deactivate["uuid"]]
    assert late.status == "SUCCEEDED"
    assert late.output["recorded"] == "superseded"  # the newer reactivation is what it verified
    assert late.output["applied"]["event_uuid"] == activate["uuid"]
    assert [r["outcome"] for r in late.output["results"]] == ["already_applied"]
    record = sync_record(sb, GRACE_DB)
    assert record["deactivated"] is False and record["event_uuid"] == activate["uuid"]
    assert counters.api_calls.total("auth0", method="PATCH") == 1  # the late event wrote nothing
    assert counters.tokens_minted.total("auth0") == 1


def test_a_user_unknown_to_auth0_is_a_normal_outcome(sb, stack, hook):
    sb.okta.deactivate_user(OLIVIA)
    deliver(sb)
    (run,) = stack.wait_all(MACHINE).values()
    assert run.status == "SUCCEEDED"
    assert run.output["outcome"] == "no_auth0_user"
    assert counters.api_calls.total("auth0", method="PATCH") == 0
    assert counters.api_calls.total("auth0", route="/api/v2/users-by-email") == 1
    assert counters.api_calls.total("auth0", route="/api/v2/users") == 1
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}") == 1
    assert sync_record(sb, GRACE_DB) is None  # nobody else touched


def test_wrong_secret_gets_401_and_starts_nothing(sb, stack, api):
    event = json.loads(Path("events/event_hook_deactivate.json").read_text())
    for secret in (None, "wrong", HOOK_SECRET + "x", HOOK_SECRET[:-1]):
        assert post(api, event["body"], secret=secret).status_code == 401
    assert stack.executions(MACHINE) == []
    assert counters.api_calls.total() == 0 and counters.tokens_minted.total() == 0


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ("{not json", 400, "not valid JSON"),
        ("[]", 400, "JSON object"),
        ('{"data": {"events": "nope"}}', 400, "data.events"),
        ("", 400, "empty"),
        ('{"data": {"events": []}, "pad": "' + "x" * 300_000 + '"}', 413, "larger than"),
    ],
)
def test_malformed_bodies_get_a_4xx_with_a_reason(stack, api, body, status, reason):
    response = post(api, body)
    assert response.status_code == status
    assert reason in response.json()["message"]
    assert HOOK_SECRET not in response.text
    assert stack.executions(MACHINE) == []
    assert counters.api_calls.total() == 0


def test_a_batch_with_several_events_and_a_console_preview(sb, stack, api, hook):
    sb.okta.hooks.batch_size = 10
    sb.okta.deactivate_user(GRACE)
    sb.okta.deactivate_user(OLIVIA)
    (delivery,) = deliver(sb)
    assert len(delivery.event_uuids) == 2
    preview = json.loads(json.loads(Path("events/event_hook_preview.json").read_text())["body"])
    assert post(api, json.dumps(preview)).status_code == 204  # target null: skipped, still 2xx
    runs = stack.wait_all(MACHINE)
    assert sorted(runs) == sorted(delivery.event_uuids)
    assert {r.output["outcome"] for r in runs.values()} == {"synced", "no_auth0_user"}
    assert sync_record(sb, GRACE_DB)["deactivated"] is True
    assert counters.api_calls.total("auth0", method="PATCH") == 1
    assert counters.api_calls.total("auth0", route="/api/v2/users-by-email") == 2
    assert counters.tokens_minted.total("auth0") == 1


def test_missing_scope_fails_the_execution_with_the_scope_named(sb, stack, credentials, hook):
    read_only = dict(credentials.auth0)
    read_only["client_id"] = "1LNojA4rDEqKRRUKxXz6jRd7lj8gZjU1"  # fixture: read:users only
    read_only["client_secret"] = sb.auth0.register_client_secret(read_only["client_id"])
    stack.put_secret("Auth0ConnectionSecret", read_only)
    stack.cold_start()
    sb.okta.deactivate_user(GRACE)
    deliver(sb)
    (run,) = stack.wait_all(MACHINE).values()
    assert run.status == "FAILED"
    assert run.error == "PermissionDenied"
    assert "update:users" in run.cause_message
    assert read_only["client_secret"] not in (run.cause or "")
    assert sync_record(sb, GRACE_DB) is None  # nothing written
    assert counters.api_calls.total("auth0", method="PATCH", status=403) == 1


def test_sample_events_work_with_the_handler_directly(stack):
    """The events/ samples are what `sam local invoke -e` sends: they must work as is."""
    stack.put_secret("EventHookSecret", {"current": "local-dev-hook-secret-change-me", "previous": ""})
    stack.cold_start()
    verify = stack.invoke("EventHookFunction", json.loads(Path("events/event_hook_verify.json").read_text()))
    assert verify["statusCode"] == 200
    assert json.loads(verify["body"]) == {"verification": "8NsRshXwDSfLV4hdsY5ZUgYiTfKyp-jH1G5xLG5_"}
    result = stack.invoke("EventHookFunction", json.loads(Path("events/event_hook_deactivate.json").read_text()))
    assert result["statusCode"] == 204
    assert [e["name"] for e in stack.executions(MACHINE)] == ["ab62c0bc-2837-11eb-9823-9fb8f750c5a9"]
    unauthorized = http_event("POST", "/okta/event-hook", headers={"authorization": "nope"}, body="{}")
    assert stack.invoke("EventHookFunction", unauthorized)["statusCode"] == 401
