"""What the deactivation sync writes for one Auth0 user: merges, ordering, block, legacy flag."""

from datetime import UTC, datetime

import pytest

from okta_auth0_sync.base.errors import ConfigurationError, InvalidInput
from okta_auth0_sync.domain.deactivation import plan_update
from okta_auth0_sync.domain.events import LifecycleEvent
from okta_auth0_sync.domain.identities import Auth0User
from okta_auth0_sync.domain.policies import SyncPolicy
from okta_auth0_sync.settings import Settings

NOW = datetime(2024, 5, 2, 9, 14, 3, 120000, tzinfo=UTC)
DEACTIVATE = LifecycleEvent("uuid-2", "user.lifecycle.deactivate", "2024-05-02T09:14:01.862Z", "00uOkta")
REACTIVATE = LifecycleEvent("uuid-3", "user.lifecycle.reactivate", "2024-05-02T10:00:00.000Z", "00uOkta")


def user(app=None, meta=None, blocked=False):
    return Auth0User(
        user_id="auth0|1", email="a@example.com", blocked=blocked, app_metadata=app or {}, user_metadata=meta or {}
    )


def test_deactivate_writes_the_whole_sub_object_and_keeps_other_keys():
    current = {
        "plan": "gold",
        "okta_sync": {
            "note": "kept",
            "deactivated": False,
            "published": "2024-05-01T00:00:00Z",
            "event_uuid": "uuid-1",
        },
    }
    outcome, body = plan_update(user(app=current), DEACTIVATE, SyncPolicy(), NOW)
    assert outcome == "flagged"
    assert set(body) == {"app_metadata", "blocked"}  # other top-level keys untouched (Auth0 merges them)
    assert body["blocked"] is True  # blocked by default
    assert body["app_metadata"] == {
        "okta_sync": {
            "note": "kept",
            "deactivated": True,
            "okta_user_id": "00uOkta",
            "event_type": "user.lifecycle.deactivate",
            "event_uuid": "uuid-2",
            "published": "2024-05-02T09:14:01.862Z",
            "synced_at": "2024-05-02T09:14:03.120Z",
            "blocked": True,
        }
    }


def test_without_blocking_the_flag_alone_is_written():
    outcome, body = plan_update(user(), DEACTIVATE, SyncPolicy(block_users=False), NOW)
    assert outcome == "flagged" and body["blocked"] is False
    assert body["app_metadata"]["okta_sync"]["blocked"] is False


def test_user_metadata_target_for_compatibility():
    _, body = plan_update(
        user(meta={"okta": {"other": 1}}), DEACTIVATE, SyncPolicy(target="user_metadata", key="okta"), NOW
    )
    assert body["user_metadata"]["okta"]["other"] == 1
    assert body["user_metadata"]["okta"]["deactivated"] is True  # a boolean, not the string "true"


def test_an_older_event_never_undoes_a_newer_one():
    applied = {"okta_sync": {"deactivated": False, "published": REACTIVATE.published, "event_uuid": "uuid-3"}}
    assert plan_update(user(app=applied), DEACTIVATE, SyncPolicy(), NOW) == ("stale_event", None)


def test_the_same_event_is_applied_once():
    applied = {
        "okta_sync": {"deactivated": True, "published": DEACTIVATE.published, "event_uuid": "uuid-2", "blocked": True}
    }
    assert plan_update(user(app=applied, blocked=True), DEACTIVATE, SyncPolicy(), NOW) == ("already_applied", None)


def test_the_same_event_is_written_again_when_the_account_disagrees_with_it():
    """The record says the event was applied but the account is not blocked (a racing writer
    unblocked it): applying again repairs the account instead of trusting the record."""
    applied = {
        "okta_sync": {"deactivated": True, "published": DEACTIVATE.published, "event_uuid": "uuid-2", "blocked": True}
    }
    outcome, body = plan_update(user(app=applied, blocked=False), DEACTIVATE, SyncPolicy(), NOW)
    assert outcome == "flagged" and body["blocked"] is True


def test_a_racing_reactivation_and_deactivation_leave_the_account_self_consistent():
    """Both read the same account; whichever PATCH lands last, the account's block matches its
    record, so the ledger's re-check can finish the job."""
    before = user()
    _, deactivating = plan_update(before, DEACTIVATE, SyncPolicy(), NOW)
    _, reactivating = plan_update(before, REACTIVATE, SyncPolicy(), NOW)
    for body in (deactivating, reactivating):
        assert body["blocked"] is body["app_metadata"]["okta_sync"]["blocked"]


def test_block_and_unblock_only_what_we_blocked():
    policy = SyncPolicy(block_users=True)
    _, body = plan_update(user(), DEACTIVATE, policy, NOW)
    assert body["blocked"] is True and body["app_metadata"]["okta_sync"]["blocked"] is True
    flagged = user(app={"okta_sync": body["app_metadata"]["okta_sync"]}, blocked=True)
    outcome, body = plan_update(flagged, REACTIVATE, policy, NOW)
    assert outcome == "cleared" and body["blocked"] is False
    assert body["app_metadata"]["okta_sync"]["deactivated"] is False
    assert body["app_metadata"]["okta_sync"]["published"] == REACTIVATE.published  # ordering survives


def test_a_user_blocked_by_someone_else_stays_blocked():
    policy = SyncPolicy(block_users=True)
    _, body = plan_update(user(blocked=True), DEACTIVATE, policy, NOW)
    assert body["blocked"] is True and body["app_metadata"]["okta_sync"]["blocked"] is False
    _, body = plan_update(
        user(app={"okta_sync": body["app_metadata"]["okta_sync"]}, blocked=True), REACTIVATE, policy, NOW
    )
    assert body["blocked"] is True  # not ours to clear


def test_reactivation_clears_the_original_templates_flag_keeping_the_rest():
    legacy = {"okta": {"deactivated": "true", "employee_id": "E1"}, "theme": "dark"}
    _, body = plan_update(user(meta=legacy), REACTIVATE, SyncPolicy(), NOW)
    assert body["user_metadata"] == {"okta": {"employee_id": "E1"}}  # "theme" untouched by the top-level merge
    cleared = user(meta={"okta": {"employee_id": "E1"}}, app=body.get("app_metadata"))
    assert plan_update(cleared, REACTIVATE, SyncPolicy(), NOW) == ("already_applied", None)
    _, body = plan_update(user(meta={"okta": {"deactivated": "true"}}), REACTIVATE, SyncPolicy(), NOW)
    assert body["user_metadata"] == {"okta": None}  # nothing else under okta: delete the key


def test_event_input_validation():
    with pytest.raises(InvalidInput, match="published"):
        LifecycleEvent.from_payload({"uuid": "u", "type": "user.lifecycle.deactivate", "published": "soon"}, "00u")
    with pytest.raises(InvalidInput, match=r"user\.session\.start"):
        LifecycleEvent.from_payload(
            {"uuid": "u", "type": "user.session.start", "published": "2024-01-01T00:00:00Z"}, "00u"
        )


def test_event_payload_round_trip():
    """The hook writes the event object, the metadata update reads it back: one class both ways."""
    payload = DEACTIVATE.to_payload()
    assert payload == {
        "uuid": "uuid-2",
        "type": "user.lifecycle.deactivate",
        "published": "2024-05-02T09:14:01.862Z",
        "action": "deactivate",
    }
    assert LifecycleEvent.from_payload(payload, "00uOkta") == DEACTIVATE


def test_policy_from_env():
    assert Settings.from_env({}).sync_policy == SyncPolicy()
    assert SyncPolicy().block_users and SyncPolicy().revoke.sessions and SyncPolicy().revoke.refresh_tokens
    p = Settings.from_env(
        {
            "METADATA_TARGET": "user_metadata",
            "METADATA_KEY": "okta",
            "BLOCK_DEACTIVATED_USERS": "false",
            "REVOKE_SESSIONS": "false",
            "REVOKE_REFRESH_TOKENS": "false",
        }
    ).sync_policy
    assert (p.target, p.key, p.block_users) == ("user_metadata", "okta", False)
    assert (p.revoke.sessions, p.revoke.refresh_tokens) == (False, False)
    with pytest.raises(ConfigurationError, match="METADATA_TARGET"):
        Settings.from_env({"METADATA_TARGET": "profile"})
    with pytest.raises(ConfigurationError, match="METADATA_KEY"):
        Settings.from_env({"METADATA_KEY": "a.b"})


def test_same_instant_the_safer_state_wins():
    same_time = LifecycleEvent("uuid-9", "user.lifecycle.reactivate", DEACTIVATE.published, "00uOkta")
    applied = {"okta_sync": {"deactivated": True, "published": DEACTIVATE.published, "event_uuid": "uuid-2"}}
    assert plan_update(user(app=applied), same_time, SyncPolicy(), NOW) == ("stale_event", None)
    applied = {"okta_sync": {"deactivated": False, "published": DEACTIVATE.published, "event_uuid": "uuid-9"}}
    assert plan_update(user(app=applied), DEACTIVATE, SyncPolicy(), NOW)[0] == "flagged"
