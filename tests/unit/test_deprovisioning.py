"""Deprovisioning's rules (pure) and its per-member service against a moto state table and a
recording fake of the Okta client: who leaves the group, who is suspended or deactivated, what
a rejoin undoes, the safety stop, and a concurrent writer."""

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync.base.errors import NotFound, RequestRejected
from okta_auth0_sync.domain.deprovisioning import (
    DeprovisionPolicy,
    departure,
    lifecycle_action,
    removal_limit,
    undo_action,
)
from okta_auth0_sync.domain.identities import OktaUser
from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.services.provisioning.deprovision import (
    MemberContext,
    deprovision_departed,
    deprovision_member,
    restore_member,
)
from okta_auth0_sync.store.provisioning_state import StateTable
from tests.unit.test_store import make_table

MAPPING = RoleGroupMapping("rol_0123456789abcdef", "00g1emaKYZTWRYYRRTSK")
OTHER_MAPPED = "00gOtherMapped000000"


class FakeOkta:
    """Users by id with a status and groups; records every write."""

    def __init__(self, users):
        self.users = {uid: {"status": status, "groups": set(groups)} for uid, (status, groups) in users.items()}
        self.writes = []

    def _user(self, user_id):
        if user_id not in self.users:
            raise NotFound("Okta: not found")
        return self.users[user_id]

    def get_user(self, user_id):
        return OktaUser(user_id, self._user(user_id)["status"], "x@y.z", "x@y.z")

    def user_group_ids(self, user_id):
        return set(self._user(user_id)["groups"])

    def remove_from_group(self, group_id, user_id):
        self.writes.append(("remove", group_id, user_id))
        self._user(user_id)["groups"].discard(group_id)

    def add_to_group(self, group_id, user_id):
        self.writes.append(("add", group_id, user_id))
        self._user(user_id)["groups"].add(group_id)

    def lifecycle(self, user_id, op):
        user = self._user(user_id)
        allowed = {"suspend": "ACTIVE", "unsuspend": "SUSPENDED", "deactivate": "ACTIVE", "activate": "DEPROVISIONED"}
        if user["status"] != allowed[op]:
            raise RequestRejected(f"cannot {op}")
        self.writes.append((op, user_id))
        user["status"] = {"suspend": "SUSPENDED", "deactivate": "DEPROVISIONED"}.get(op, "ACTIVE")


@pytest.fixture
def state():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        make_table(client, "state", sort_key=True)
        yield StateTable("state", client)


def provisioned(state, user_id, okta_user_id, *, created=True, outcome="provisioned"):
    record = {"user_id": user_id, "outcome": outcome, "okta_user_id": okta_user_id, "created": created}
    assert state.write_member(MAPPING, "run-0", record, seen_version=0)
    return state.member(MAPPING, user_id)


def context(lifecycle="none", adopted=False, dry_run=False, run_id="run-1", max_percent=10.0):
    return MemberContext(
        MAPPING,
        run_id,
        DeprovisionPolicy(lifecycle=lifecycle, adopted_users=adopted, max_percent=max_percent),
        frozenset({MAPPING.group_id, OTHER_MAPPED}),
        dry_run,
    )


# -- rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifecycle", "created", "adopted", "others", "expected"),
    [
        ("none", True, False, set(), "none"),
        ("suspend", True, False, set(), "suspend"),
        ("deactivate", True, False, set(), "deactivate"),
        ("suspend", False, False, set(), "none"),  # never a user this package did not create...
        ("suspend", False, True, set(), "suspend"),  # ...unless the operator opted in
        ("suspend", True, False, {OTHER_MAPPED}, "none"),  # another mapping still grants the user
    ],
)
def test_lifecycle_action_rules(lifecycle, created, adopted, others, expected):
    policy = DeprovisionPolicy(lifecycle=lifecycle, adopted_users=adopted)
    assert lifecycle_action(policy, created_by_us=created, other_mapped_groups=others) == expected


def test_a_rejoin_undoes_only_what_this_package_did():
    assert undo_action("suspended", "SUSPENDED") == "unsuspend"
    assert undo_action("deactivated", "DEPROVISIONED") == "activate"
    assert undo_action(None, "SUSPENDED") is None  # suspended by someone else: left alone
    assert undo_action("suspended", "ACTIVE") is None  # someone unsuspended already


@pytest.mark.parametrize(
    ("planned", "managed", "role", "stopped"),
    [
        (0, 100, 0, False),
        (10, 100, 90, False),  # 10 % of the group: allowed
        (11, 100, 89, True),
        (1, 5, 4, False),  # a small group may lose one member a run
        (2, 5, 3, True),
        (3, 3, 0, True),  # an empty role read never empties the group
        (100, 100, 0, True),
    ],
)
def test_safety_stop(planned, managed, role, stopped):
    verdict = removal_limit(planned, managed, role, DeprovisionPolicy())
    assert verdict.stopped is stopped
    assert (verdict.reason is not None) is stopped


def test_departure_reasons():
    assert departure({"user_id": "a"}, in_role=False) == "left_role"
    assert departure(None, in_role=True) == "deleted"
    assert departure({"blocked": True}, in_role=True) == "blocked"
    assert departure({"blocked": False}, in_role=True) is None


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError):
        DeprovisionPolicy(lifecycle="delete")
    with pytest.raises(ValueError):
        DeprovisionPolicy(max_percent=150)


# -- one member --------------------------------------------------------------------------------


def test_a_departed_member_leaves_the_group_and_only_a_created_user_is_suspended(state):
    okta = FakeOkta({"00ua": ("ACTIVE", {MAPPING.group_id}), "00ub": ("ACTIVE", {MAPPING.group_id})})
    provisioned(state, "auth0|a", "00ua", created=True)
    provisioned(state, "auth0|b", "00ub", created=False, outcome="existing_added")
    a = deprovision_member("auth0|a", "left_role", context=context("suspend"), okta=okta, state=state)
    b = deprovision_member("auth0|b", "blocked", context=context("suspend"), okta=okta, state=state)
    assert (a["outcome"], a["okta_action"]) == ("removed", "suspended")
    assert (b["outcome"], b["okta_action"]) == ("removed", None)  # adopted: group only
    assert okta.users["00ua"]["status"] == "SUSPENDED" and okta.users["00ub"]["status"] == "ACTIVE"
    assert not okta.users["00ua"]["groups"] and not okta.users["00ub"]["groups"]
    item = state.member(MAPPING, "auth0|a")
    assert item["outcome"] == "removed" and item["okta_action"] == "suspended" and item["departed"] == "left_role"
    assert item["created"] is True and item["run_id"] == "run-1"
    # Nothing to do twice: already out of the group.
    assert deprovision_member("auth0|a", "left_role", context=context(), okta=okta, state=state)["outcome"] == (
        "not_in_group"
    )


def test_a_user_another_mapping_still_grants_is_not_suspended(state):
    okta = FakeOkta({"00ua": ("ACTIVE", {MAPPING.group_id, OTHER_MAPPED})})
    provisioned(state, "auth0|a", "00ua")
    result = deprovision_member("auth0|a", "left_role", context=context("deactivate"), okta=okta, state=state)
    assert result["okta_action"] is None and okta.users["00ua"] == {"status": "ACTIVE", "groups": {OTHER_MAPPED}}


def test_a_user_someone_else_suspended_is_not_claimed(state):
    okta = FakeOkta({"00ua": ("SUSPENDED", {MAPPING.group_id})})
    provisioned(state, "auth0|a", "00ua")
    result = deprovision_member("auth0|a", "left_role", context=context("suspend"), okta=okta, state=state)
    assert result["okta_action"] is None  # a rejoin will therefore not unsuspend it


def test_dry_run_reads_and_writes_nothing(state):
    okta = FakeOkta({"00ua": ("ACTIVE", {MAPPING.group_id})})
    provisioned(state, "auth0|a", "00ua")
    result = deprovision_member(
        "auth0|a", "left_role", context=context("deactivate", dry_run=True), okta=okta, state=state
    )
    assert result == {
        "user_id": "auth0|a",
        "outcome": "would_remove",
        "departed": "left_role",
        "okta_action": "deactivated",
    }
    assert okta.writes == [] and state.member(MAPPING, "auth0|a")["outcome"] == "provisioned"


@pytest.mark.parametrize(("lifecycle", "status"), [("suspend", "SUSPENDED"), ("deactivate", "DEPROVISIONED")])
def test_a_rejoin_restores_the_membership_and_undoes_the_lifecycle_action(state, lifecycle, status):
    okta = FakeOkta({"00ua": ("ACTIVE", {MAPPING.group_id})})
    provisioned(state, "auth0|a", "00ua")
    deprovision_member("auth0|a", "left_role", context=context(lifecycle), okta=okta, state=state)
    assert okta.users["00ua"]["status"] == status
    item = state.member(MAPPING, "auth0|a")
    restored = restore_member("auth0|a", item, context=context(run_id="run-2"), okta=okta, state=state)
    assert restored["outcome"] == "restored"
    assert okta.users["00ua"] == {"status": "ACTIVE", "groups": {MAPPING.group_id}}
    item = state.member(MAPPING, "auth0|a")
    assert item["outcome"] == "restored" and "okta_action" not in item and "departed" not in item
    assert item["created"] is True  # sticky


def test_a_concurrent_writer_wins_and_the_loser_reports_a_conflict(state):
    okta = FakeOkta({"00ua": ("ACTIVE", {MAPPING.group_id})})
    stale = provisioned(state, "auth0|a", "00ua")
    # Another writer (an event-driven rejoin, another run) updates the member after our read.
    assert state.write_member(
        MAPPING, "run-9", {"user_id": "auth0|a", "outcome": "restored", "okta_user_id": "00ua"}, seen_version=1
    )
    result = deprovision_member("auth0|a", "left_role", context=context(), okta=okta, state=state, item=stale)
    assert result["outcome"] == "conflict"
    assert state.member(MAPPING, "auth0|a")["outcome"] == "restored"
    # And two writers from the same read: exactly one wins.
    fresh = state.member(MAPPING, "auth0|a")
    wins = [
        state.write_member(MAPPING, r, {"user_id": "auth0|a", "outcome": "removed"}, seen_version=fresh["v"])
        for r in ("x", "y")
    ]
    assert wins == [True, False]


def test_a_run_over_the_safety_stop_removes_nobody(state):
    okta = FakeOkta({f"00u{n}": ("ACTIVE", {MAPPING.group_id}) for n in range(20)})
    items = [provisioned(state, f"auth0|{n}", f"00u{n}") for n in range(20)]
    departures = [(f"auth0|{n}", "left_role", items[n]) for n in range(3)]
    summary = deprovision_departed(departures, managed=20, role_members=17, context=context(), okta=okta, state=state)
    assert summary["safety_stop"]["stopped"] is True and summary["safety_stop"]["limit"] == 2
    assert summary["counts"] == {"not_removed": 3} and okta.writes == []
    summary = deprovision_departed(
        departures[:2], managed=20, role_members=18, context=context(), okta=okta, state=state
    )
    assert summary["safety_stop"]["stopped"] is False and summary["counts"] == {"removed": 2}
    assert [w[0] for w in okta.writes] == ["remove", "remove"]
