"""Okta event hooks: verification, delivery envelope, retries, batching, duplicates."""

from __future__ import annotations

import time

import requests

from tests.sandbox.support import OKTA

EVENTS = ["user.lifecycle.deactivate", "user.lifecycle.reactivate"]


def test_verification_get(sb, receiver):
    hook = sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret)
    assert hook.verification_status == "VERIFIED" and hook.status == "ACTIVE"
    get = receiver.requests[0]
    assert get["method"] == "GET"
    assert get["headers"]["X-Okta-Verification-Challenge"]
    assert get["headers"]["Authorization"] == receiver.secret
    wrong_secret = sb.okta.register_event_hook(receiver.url, EVENTS, "Basic d3Jvbmc=")
    assert wrong_secret.verification_status == "UNVERIFIED"
    sb.okta.deactivate_user(OKTA.ada)
    assert sb.okta.hooks.pending == 1  # only the verified hook gets the event


def test_unverified_hook_receives_nothing(sb, receiver):
    receiver.verify_status = 500
    hook = sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret)
    assert hook.verification_status == "UNVERIFIED"
    assert [r["method"] for r in receiver.requests] == ["GET", "GET"]  # one retry after an error
    sb.okta.deactivate_user(OKTA.ada)
    assert sb.okta.flush_event_hooks() == [] and receiver.posts == []


def test_delivery_envelope(sb, receiver):
    hook = sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret, headers={"X-Env": "sandbox"})
    sb.okta.deactivate_user(OKTA.ada)
    sb.okta.lifecycle(OKTA.alan, "unsuspend")  # not subscribed
    deliveries = sb.okta.flush_event_hooks()
    assert len(deliveries) == 1 and deliveries[0].outcome == "success"
    post = receiver.posts[0]
    assert post["headers"]["Authorization"] == receiver.secret
    assert post["headers"]["Content-Type"] == "application/json" and post["headers"]["X-Env"] == "sandbox"
    envelope = post["body"]
    assert envelope["eventType"] == "com.okta.event_hook"
    assert envelope["eventTypeVersion"] == "1.0" and envelope["cloudEventsVersion"] == "0.1"
    assert envelope["source"] == f"{sb.okta.base_url}/api/v1/eventHooks/{hook.id}"
    assert envelope["contentType"] == "application/json" and envelope["eventId"] and envelope["eventTime"]
    (event,) = envelope["data"]["events"]
    assert event["eventType"] == "user.lifecycle.deactivate"
    assert event == sb.okta.log_events("user.lifecycle.deactivate")[0]  # same uuid as /api/v1/logs
    assert sb.okta.hooks.pending == 0


def test_retry_once_on_5xx_never_on_4xx(sb, receiver):
    sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret)
    receiver.responses = [(503, 0), (200, 0)]
    sb.okta.deactivate_user(OKTA.ada)
    (retried,) = sb.okta.flush_event_hooks()
    assert [a.status for a in retried.attempts] == [503, 200] and retried.delivered
    receiver.responses = [(500, 0), (500, 0)]
    sb.okta.deactivate_user(OKTA.grace)
    (failed,) = sb.okta.flush_event_hooks()
    assert [a.status for a in failed.attempts] == [500, 500] and failed.outcome == "http_500"
    receiver.responses = [(401, 0)]
    sb.okta.deactivate_user(OKTA.alan)
    (rejected,) = sb.okta.flush_event_hooks()
    assert [a.status for a in rejected.attempts] == [401]
    assert len(receiver.posts) == 5


def test_retry_once_on_timeout(sb, receiver):
    sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret)
    sb.okta.hooks.timeout = 0.2  # Okta's is 3 s; scaled down for the test
    receiver.responses = [(204, 0.5), (204, 0)]
    sb.okta.deactivate_user(OKTA.ada)
    (delivery,) = sb.okta.flush_event_hooks()
    assert [a.status for a in delivery.attempts] == [None, 204]
    assert delivery.attempts[0].error == "timeout" and delivery.delivered
    bodies = [p["body"]["data"]["events"][0]["uuid"] for p in receiver.posts]
    assert bodies[0] == bodies[1]  # the retry carries the same event


def test_batching_and_duplicates(sb, receiver):
    sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret)
    sb.okta.hooks.batch_size = 5
    for uid in (OKTA.ada, OKTA.grace, OKTA.alan):
        sb.okta.deactivate_user(uid)
    (batch,) = sb.okta.flush_event_hooks()
    assert len(batch.event_uuids) == 3
    assert [e["target"][0]["id"] for e in receiver.posts[0]["body"]["data"]["events"]] == [
        OKTA.ada,
        OKTA.grace,
        OKTA.alan,
    ]
    sb.okta.hooks.batch_size = 1
    sb.okta.hooks.duplicate = True
    sb.okta.activate_user(OKTA.ada)
    original, copy = sb.okta.flush_event_hooks()
    assert copy.duplicate and original.event_uuids == copy.event_uuids
    assert receiver.posts[1]["body"]["eventId"] != receiver.posts[2]["body"]["eventId"]


def test_api_writes_trigger_hooks_and_background_mode(sb, creds, receiver):
    sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret)
    sb.okta.hooks.start_background(interval=0.05)
    resp = requests.post(
        f"{sb.okta.base_url}/api/v1/users/{OKTA.grace}/lifecycle/deactivate",
        headers={"Authorization": f"SSWS {creds.ssws}"},
        timeout=10,
    )
    assert resp.status_code == 200
    deadline = time.monotonic() + 5
    while not receiver.posts and time.monotonic() < deadline:
        time.sleep(0.02)
    sb.okta.hooks.stop_background()
    (post,) = receiver.posts
    assert post["body"]["data"]["events"][0]["target"][0]["id"] == OKTA.grace


def test_admin_endpoints_for_hooks(sb, receiver):
    admin = f"{sb.okta.base_url}/__sandbox"
    created = requests.post(
        f"{admin}/event-hooks", json={"url": receiver.url, "authorization": receiver.secret}, timeout=10
    )
    assert created.status_code == 201 and created.json()["verificationStatus"] == "VERIFIED"
    leaked = receiver.secret in created.text
    assert not leaked, "the hook view exposes its secret"
    action = requests.post(f"{admin}/users/{OKTA.ada}/lifecycle/deactivate", timeout=10)
    assert action.status_code == 200 and action.json()["user"]["status"] == "DEPROVISIONED"
    conflict = requests.post(f"{admin}/users/{OKTA.ada}/lifecycle/deactivate", timeout=10)
    assert conflict.status_code == 403 and conflict.json()["errorCode"] == "E0000038"
    flushed = requests.post(f"{admin}/event-hooks/flush", timeout=10).json()["deliveries"]
    assert [d["outcome"] for d in flushed] == ["success"]
    listing = requests.get(f"{admin}/event-hooks", timeout=10).json()
    assert listing["pending"] == 0 and len(listing["deliveries"]) == 1
    unverifiable = requests.post(
        f"{admin}/event-hooks", json={"url": receiver.url, "authorization": "wrong"}, timeout=10
    )
    assert unverifiable.status_code == 400


def test_reset_clears_hooks_and_knobs(sb, receiver):
    sb.okta.register_event_hook(receiver.url, EVENTS, receiver.secret)
    sb.okta.hooks.batch_size, sb.okta.hooks.duplicate, sb.okta.hooks.timeout = 10, True, 0.5
    sb.okta.deactivate_user(OKTA.ada)
    sb.reset()
    hooks = sb.okta.hooks
    assert (hooks.hooks, hooks.pending, hooks.batch_size, hooks.duplicate, hooks.timeout) == ({}, 0, 1, False, 3.0)
    assert sb.okta.get_user(OKTA.ada)["status"] == "ACTIVE" and sb.okta.log_events() == []
