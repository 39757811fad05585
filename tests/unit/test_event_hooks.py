"""Event hook deliveries: secret check, validation, selection of lifecycle events."""

import json

import pytest

from okta_auth0_sync.base.errors import ConfigurationError
from okta_auth0_sync.domain.events import DEFAULT_EVENT_TYPES
from okta_auth0_sync.domain.hooks import InvalidDelivery, authorized, hook_secrets, parse_delivery, select_events
from okta_auth0_sync.domain.payloads.deactivation import DeactivationSyncInput
from okta_auth0_sync.settings import Settings


def event(
    uuid="ab62c0bc-2837-11eb-9823-9fb8f750c5a9",
    event_type="user.lifecycle.deactivate",
    targets="user",
    outcome="SUCCESS",
    published="2024-05-02T09:14:01.862Z",
):
    if targets == "user":
        targets = [
            {
                "id": "00u3m90rxKjGQ0G6L1d6",
                "type": "User",
                "alternateId": "john.doe@example.com",
                "displayName": "John Doe",
                "detailEntry": None,
            }
        ]
    return {
        "uuid": uuid,
        "published": published,
        "eventType": event_type,
        "version": "0",
        "outcome": {"result": outcome, "reason": None},
        "target": targets,
        "actor": {"id": "00u2di94bAMSEPvAY1d6", "type": "User"},
    }


def delivery(*events):
    return {
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "eventId": "85b60edb-4263-4e13-993b-818e26201052",
        "data": {"events": list(events)},
    }


def test_secret_comparison():
    assert authorized("s3cret", ["s3cret"])
    assert authorized("old", ["new", "old"])  # rotation: previous still accepted
    assert not authorized("s3cre", ["s3cret"])
    assert not authorized(None, ["s3cret"])
    assert not authorized("", [""])


def test_hook_secret_shape():
    assert hook_secrets({"current": "a", "previous": ""}) == ["a"]
    with pytest.raises(ConfigurationError, match="current"):
        hook_secrets({"previous": "x"})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "empty"),
        ("", "empty"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"data": {}}', "data.events"),
        ('{"data": {"events": {}}}', "data.events"),
        ("x" * (256 * 1024 + 1), "larger than"),
        (b"\xff\xfe", "must be UTF-8 JSON"),
    ],
)
def test_malformed_deliveries(body, reason):
    with pytest.raises(InvalidDelivery, match=reason):
        parse_delivery(body)


def test_batch_with_several_events_and_kinds():
    envelope = parse_delivery(
        json.dumps(
            delivery(
                event("e1"),
                event("e2", "user.lifecycle.reactivate"),
                event("e3", "user.session.start"),
                event("e4", targets=None),  # console preview
                event("e5", outcome="FAILURE"),
                event(
                    "e6",
                    targets=[
                        {"id": "00gGroup", "type": "UserGroup"},
                        {"id": "00uA", "type": "User", "alternateId": "a@example.com"},
                    ],
                ),
                event("bad uuid with spaces"),
                event("e8", published="yesterday"),
                "not-an-object",
            )
        )
    )
    selection = select_events(envelope, DEFAULT_EVENT_TYPES)
    names = [name for name, _ in selection.to_sync]
    assert names == ["e1", "e2", "e6"]
    e6 = selection.to_sync[2][1]
    assert (e6.okta_user_id, e6.okta_login) == ("00uA", "a@example.com")  # the User target, not the group
    assert selection.to_sync[1][1].action == "reactivate"
    reasons = {s["event"]: s["reason"] for s in selection.skipped}
    assert reasons["e3"].startswith("event type user.session.start")
    assert reasons["e4"].startswith("no User target")
    assert reasons["e5"] == "outcome FAILURE"
    assert "uuid" in reasons["bad uuid with spaces"]
    assert "published" in reasons["e8"]
    assert reasons["#8"] == "not an object"


def test_several_user_targets_get_distinct_execution_names():
    envelope = delivery(event("e1", targets=[{"id": "00uA", "type": "User"}, {"id": "00uB", "type": "User"}]))
    assert [n for n, _ in select_events(envelope, DEFAULT_EVENT_TYPES).to_sync] == ["e1-0", "e1-1"]


def test_execution_input_shape():
    ((_, lifecycle),) = select_events(delivery(event()), DEFAULT_EVENT_TYPES).to_sync
    assert DeactivationSyncInput.of_event(lifecycle).to_payload() == {
        "event": {
            "uuid": "ab62c0bc-2837-11eb-9823-9fb8f750c5a9",
            "type": "user.lifecycle.deactivate",
            "published": "2024-05-02T09:14:01.862Z",
            "action": "deactivate",
        },
        "okta_user": {"id": "00u3m90rxKjGQ0G6L1d6", "login": "john.doe@example.com"},
    }


def test_suspensions_are_opt_in():
    envelope = delivery(event("s1", "user.lifecycle.suspend"))
    assert select_events(envelope, DEFAULT_EVENT_TYPES).to_sync == []
    types = Settings.from_env({"HANDLED_EVENT_TYPES": "user.lifecycle.deactivate, user.lifecycle.suspend"})
    assert [n for n, e in select_events(envelope, types.handled_event_types).to_sync] == ["s1"]
    with pytest.raises(ConfigurationError, match=r"HANDLED_EVENT_TYPES: cannot sync user\.session\.start"):
        Settings.from_env({"HANDLED_EVENT_TYPES": "user.session.start"})
