"""The Okta sandbox's System Log as an ingress (issue 11): every lifecycle change is a System Log
event the official SDK parses, the polling contract (``next`` link always, ``after`` replaces
``since``, an empty page's ``next`` is itself), Log Streaming's EventBridge envelope, and event
hook deliveries switched off (an outage: lost, never replayed)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from okta_auth0_sync_sandbox.util import iso8601
from tests.sandbox.support import OKTA

LIFECYCLE = 'eventType sw "user.lifecycle."'


@pytest.fixture
def api(sb, creds):
    session = requests.Session()
    session.headers["Authorization"] = f"SSWS {creds.ssws}"
    yield session
    session.close()


def logs_url(sb):
    return f"{sb.okta.base_url}/api/v1/logs"


def every_lifecycle_change(sb, api):
    """Each lifecycle operation once, by the API and in the Admin Console."""
    base = sb.okta.base_url
    for user, op in ((OKTA.ada, "deactivate"), (OKTA.ada, "activate"), (OKTA.grace, "suspend")):
        assert api.post(f"{base}/api/v1/users/{user}/lifecycle/{op}", timeout=10).status_code == 200, (user, op)
    sb.okta.lifecycle(OKTA.grace, "unsuspend")
    sb.okta.lifecycle(OKTA.alan, "unsuspend")
    sb.okta.deactivate_user(OKTA.alan)


def test_every_lifecycle_change_is_a_log_event_of_the_real_shape(sb, api, clock):
    """(The official SDK parses the same events: tests/sandbox/test_okta_sdk.py.)"""
    start = clock()
    every_lifecycle_change(sb, api)
    sb.okta.activate_user(OKTA.margaret)  # STAGED -> activate
    sb.okta.activate_user(OKTA.katherine)  # DEPROVISIONED -> reactivate
    query = {"since": iso8601(start - 1), "filter": LIFECYCLE}
    events = api.get(logs_url(sb), params=query, timeout=10).json()
    assert [(e["eventType"], e["target"][0]["id"]) for e in events] == [
        ("user.lifecycle.deactivate", OKTA.ada),
        ("user.lifecycle.reactivate", OKTA.ada),
        ("user.lifecycle.suspend", OKTA.grace),
        ("user.lifecycle.unsuspend", OKTA.grace),
        ("user.lifecycle.unsuspend", OKTA.alan),
        ("user.lifecycle.deactivate", OKTA.alan),
        ("user.lifecycle.activate", OKTA.margaret),
        ("user.lifecycle.reactivate", OKTA.katherine),
    ]
    assert len({e["uuid"] for e in events}) == len(events)
    for event in events:  # the fields of a hook delivery's events (okta-api reference §1.5)
        assert {"uuid", "published", "eventType", "version", "displayMessage", "severity", "legacyEventType",
                "actor", "client", "outcome", "target", "transaction", "debugContext"} <= set(event)  # fmt: skip
        assert event["outcome"] == {"result": "SUCCESS", "reason": None} and event["published"].endswith("Z")
        (target,) = event["target"]
        assert target["type"] == "User" and "@" in target["alternateId"] and target["displayName"]


def test_polling_contract(sb, api, clock):
    start = clock()
    for user in (OKTA.ada, OKTA.grace, OKTA.priya):
        sb.okta.deactivate_user(user)
    query = {"since": iso8601(start - 1), "filter": LIFECYCLE, "sortOrder": "ASCENDING", "limit": 2}
    first = api.get(logs_url(sb), params=query, timeout=10)
    assert [e["target"][0]["id"] for e in first.json()] == [OKTA.ada, OKTA.grace]
    following = first.links["next"]["url"]
    params = parse_qs(urlsplit(following).query)
    assert "since" not in params and params["after"] and params["limit"] == ["2"] and params["filter"] == [LIFECYCLE]
    second = api.get(following, timeout=10)
    assert [e["target"][0]["id"] for e in second.json()] == [OKTA.priya]
    caught_up = second.links["next"]["url"]
    empty = api.get(caught_up, timeout=10)
    assert empty.json() == [] and empty.links["next"]["url"] == caught_up  # read it again later
    sb.okta.activate_user(OKTA.ada)
    later = api.get(caught_up, timeout=10).json()
    assert [(e["eventType"], e["target"][0]["id"]) for e in later] == [("user.lifecycle.reactivate", OKTA.ada)]
    # a first query that finds nothing links to itself; since and after are mutually exclusive
    nothing = api.get(logs_url(sb), params={**query, "since": iso8601(clock() + 60)}, timeout=10)
    assert nothing.json() == [] and nothing.links["next"]["url"] == nothing.url
    both = api.get(following + "&since=" + iso8601(start), timeout=10)
    assert both.status_code == 400 and both.json()["errorCode"] == "E0000001"
    # a cursor is not bound to the 7-day default window
    clock.advance(8 * 86400)
    assert len(api.get(following, timeout=10).json()) == 2


def test_log_streaming_envelope(sb, api, clock):
    admin = f"{sb.okta.base_url}/__sandbox/log-stream"
    sb.okta.deactivate_user(OKTA.ada)  # before the stream: not sent
    configured = requests.put(admin, json={"event_source_name": "okta-auth0-sync", "duplicate": False}, timeout=10)
    assert configured.status_code == 200 and configured.json()["active"] is True
    subdomain = sb.okta.domain.split(".")[0]
    assert configured.json()["source"] == f"aws.partner/okta.com/{subdomain}/okta-auth0-sync"
    sb.okta.activate_user(OKTA.ada)
    sb.okta.lifecycle(OKTA.grace, "suspend")
    envelopes = requests.post(f"{admin}/drain", timeout=10).json()["events"]
    # Okta streams every System Log event (no filtering on its side): the rule filters
    assert [e["detail"]["eventType"] for e in envelopes] == ["user.lifecycle.reactivate", "user.lifecycle.suspend"]
    envelope = envelopes[0]
    fields = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert set(envelope) == fields
    assert envelope["version"] == "0" and envelope["source"] == f"aws.partner/okta.com/{subdomain}/okta-auth0-sync"
    assert envelope["time"].endswith("Z") and len(envelope["time"]) == 20
    assert envelope["detail"] == sb.okta.log_events("user.lifecycle.reactivate")[0]  # the LogEvent, same uuid
    assert requests.post(f"{admin}/drain", timeout=10).json()["events"] == []
    # at least once: a duplicate has its own id and the same detail
    requests.put(admin, json={"duplicate": True}, timeout=10)
    sb.okta.deactivate_user(OKTA.ada)
    twice = requests.post(f"{admin}/drain", timeout=10).json()["events"]
    assert len(twice) == 2 and twice[0]["id"] != twice[1]["id"] and twice[0]["detail"] == twice[1]["detail"]
    assert requests.put(admin, json={"event_source_name": "has space"}, timeout=10).status_code == 400
    requests.put(admin, json={"active": False}, timeout=10)
    sb.okta.activate_user(OKTA.ada)
    assert sb.okta.log_stream.drain() == []
    json.dumps(twice)  # an envelope is plain JSON


def test_event_hook_deliveries_switched_off_are_lost(sb, receiver):
    sb.okta.register_event_hook(receiver.url, ["user.lifecycle.deactivate"], receiver.secret)
    settings = f"{sb.okta.base_url}/__sandbox/event-hooks/settings"
    off = requests.put(settings, json={"enabled": False}, timeout=10).json()
    assert off["settings"]["enabled"] is False
    sb.okta.deactivate_user(OKTA.ada)
    assert sb.okta.flush_event_hooks() == [] and receiver.posts == []
    lost = sb.okta.log_events("user.lifecycle.deactivate")[0]["uuid"]
    assert requests.get(f"{sb.okta.base_url}/__sandbox/event-hooks", timeout=10).json()["lost"] == [lost]
    requests.put(settings, json={"enabled": True}, timeout=10)
    sb.okta.deactivate_user(OKTA.grace)
    (delivery,) = sb.okta.flush_event_hooks()  # no replay of the lost one
    assert delivery.outcome == "success" and delivery.event_uuids != [lost]
