"""The run report's member counts, added up from the parts (a result per batch, deprovisioning's
summary) instead of reading every member item: each member once, whatever was retried. Against a
moto state table and small fakes of the tenants: a batch retried after half its members were
written, the recording of a worker's failure, a deprovisioning step retried after a removal, steps
that left no part, and a listing retried after the role changed."""

import io
import json
import threading
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync.base.errors import AlreadyExists, RateLimited, UpstreamUnavailable
from okta_auth0_sync.domain.deprovisioning import DeprovisionPolicy
from okta_auth0_sync.domain.identities import OktaUser
from okta_auth0_sync.domain.policies import ProvisioningPolicy
from okta_auth0_sync.domain.provisioning import RoleGroupMapping, RunOptions
from okta_auth0_sync.services.provisioning.deprovision import MemberContext, deprovision_run
from okta_auth0_sync.services.provisioning.members import list_members, read_departures
from okta_auth0_sync.services.provisioning.report import build_report
from okta_auth0_sync.services.provisioning.worker import RunWorker, record_worker_failure
from okta_auth0_sync.store.provisioning_state import StateTable
from tests.unit.test_store import make_table

MAPPING = RoleGroupMapping("rol_0123456789abcdef", "00g1emaKYZTWRYYRRTSK")
RUN = RunOptions(MAPPING, "run-1")
BUCKET = "provisioning"


def auth0_user(name, *, names=True):
    user = {"user_id": f"auth0|{name}", "email": f"{name}@partner.example", "email_verified": True}
    return {**user, "given_name": name.title(), "family_name": "Partner"} if names else user


class FakeAuth0:
    def __init__(self, users=(), role=(), blocked=()):
        self.users = {u["user_id"]: u for u in users}
        self.role, self.blocked, self.fail_after = list(role), set(blocked), None

    def users_by_id(self, user_ids):
        return {uid: self.users[uid] for uid in user_ids if uid in self.users}

    def role_member_ids(self, role_id):
        for n, user_id in enumerate(self.role):
            if n == self.fail_after:
                raise UpstreamUnavailable("auth0: 503 after retries", tenant="auth0", status=503)
            yield user_id

    def blocked_user_ids(self):
        return set(self.blocked), True


class FakeOkta:
    """Users by login; ``refuse``: logins whose next create answers 429 (after the HTTP layer's
    retries); ``unavailable``: Okta user ids whose next group removal answers 503."""

    def __init__(self, *existing):
        self.http = SimpleNamespace(limiter=SimpleNamespace(snapshot=lambda bucket: None))
        self.users = {login: OktaUser(f"00u{login[:6]}", "ACTIVE", login, login) for login in existing}
        self.refuse, self.unavailable = set(), set()
        self.created, self.removed = [], []
        self.lock = threading.Lock()

    def get_group(self, group_id):
        return {"id": group_id}

    def create_user(self, profile, *, group_ids, activate, federated):
        login = profile["login"]
        with self.lock:
            if login in self.refuse:
                self.refuse.discard(login)
                raise RateLimited("okta create users: 429 after retries", tenant="okta", status=429)
            if login in self.users:
                raise AlreadyExists("E0000001 login: An object with this field already exists")
            self.users[login] = OktaUser(f"00u{login[:6]}", "ACTIVE", login, login)
            self.created.append(login)
            return self.users[login]

    def find_user(self, login):
        return self.users.get(login)

    def add_to_group(self, group_id, user_id):
        pass

    def remove_from_group(self, group_id, user_id):
        with self.lock:
            if user_id in self.unavailable:
                self.unavailable.discard(user_id)
                raise UpstreamUnavailable("okta: 503 after retries", tenant="okta", status=503)
            self.removed.append(user_id)


class FakeS3:
    def __init__(self):
        self.objects = {}

    def put_object(self, *, Bucket, Key, Body, **kwargs):
        self.objects[Key] = Body

    def get_object(self, *, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[Key])}


@pytest.fixture
def state():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        make_table(client, "state", sort_key=True)
        yield StateTable("state", client)


def done_before(state, name, run_id="run-0", outcome="provisioned"):
    record = {"user_id": f"auth0|{name}", "outcome": outcome, "okta_user_id": f"00u{name}", "created": True}
    assert state.write_member(MAPPING, run_id, record, seen_version=0)


def publish(state, batches, members, **progress):
    """What the listing writes: the batches, then its progress."""
    for index, user_ids in enumerate(batches):
        state.put_summary(RUN.run_id, f"batch#{index:06d}", {"user_ids": [f"auth0|{n}" for n in user_ids]})
    summary = {"batches": len(batches), "complete": True, "members": members, **progress}
    state.put_summary(RUN.run_id, "progress", summary)


def report_counts(state, s3=None):
    departures = (lambda: [d["user_id"] for d in read_departures(s3, BUCKET, RUN.run_id)["departures"]]) if s3 else None
    return build_report(RUN, state, started_at=None, tokens_minted=0, departures=departures).counts


def run_of_six(state):
    """Six role members in one batch: ``c``'s create answers 429 once (the attempt fails), ``d``
    exists in Okta (added), ``e`` has no name (failed), ``f`` was provisioned by an earlier run."""
    auth0 = FakeAuth0([auth0_user(n) for n in "abcdf"] + [auth0_user("e", names=False)])
    okta = FakeOkta("d@partner.example")
    okta.refuse.add("c@partner.example")
    done_before(state, "f")
    publish(state, ["abcdef"], 6)

    def worker():
        return RunWorker(RUN, auth0=auth0, okta=okta, state=state, policy=ProvisioningPolicy(), sleep=lambda s: None)

    with pytest.raises(RateLimited):
        worker().run(0)
    items = state.outcomes(MAPPING, [f"auth0|{n}" for n in "abcdef"])
    by_run = {uid[len("auth0|") :]: i["outcome"] for uid, i in items.items() if i.get("run_id") == RUN.run_id}
    assert by_run == {"a": "provisioned", "b": "provisioned", "d": "existing_added", "e": "failed"}
    return worker, okta


def test_a_batch_retried_after_half_its_members_were_written_counts_each_once(state):
    worker, okta = run_of_six(state)
    # The failed attempt left no result part: the report counts the batch from its members' items.
    assert report_counts(state) == {"provisioned": 2, "existing_added": 1, "failed": 1, "unchanged": 2}

    # Step Functions retries the worker: members the failed attempt wrote count with their
    # outcome (not as unchanged, not twice); the failed member is retried and counted once.
    assert worker().run(0) == (1, False)
    counts = {"provisioned": 3, "existing_added": 1, "failed": 1, "unchanged": 1}
    assert state.part(RUN.run_id, "result#000000")["counts"] == counts
    assert report_counts(state) == counts
    assert sorted(okta.created) == [f"{n}@partner.example" for n in "abc"]  # each created once
    # Redone again (a redrive): recounted whole, the same.
    worker().run(0)
    assert report_counts(state) == counts
    assert sorted(okta.created) == [f"{n}@partner.example" for n in "abc"]


def test_the_recording_of_a_worker_failure_counts_what_the_failed_attempts_did(state):
    run_of_six(state)
    assert record_worker_failure(RUN, state, 0, "RateLimited", "okta 429") == 2  # c, and e again
    result = state.part(RUN.run_id, "result#000000")
    assert result["counts"] == {"provisioned": 2, "existing_added": 1, "failed": 2, "unchanged": 1}
    assert sorted(f["user_id"] for f in result["failures"]) == ["auth0|c", "auth0|e"]
    assert report_counts(state) == {"provisioned": 2, "existing_added": 1, "failed": 2, "unchanged": 1}


def test_a_deprovisioning_step_retried_after_a_removal_counts_it_once(state):
    # g left the role, h is blocked (still a role member); 5 role members, none with work.
    done_before(state, "g")
    done_before(state, "h")
    publish(state, [], 5, left_role=1, blocked=1)
    s3 = FakeS3()
    departures = [{"user_id": "auth0|g", "reason": "left_role"}, {"user_id": "auth0|h", "reason": "blocked"}]
    s3.put_object(Bucket=BUCKET, Key=f"runs/{RUN.run_id}/departures.json",
                  Body=json.dumps({"departures": departures, "managed": 20, "role_members": 5}).encode())  # fmt: skip
    okta = FakeOkta()
    okta.unavailable.add("00uh")
    context = MemberContext(MAPPING, RUN.run_id, DeprovisionPolicy())

    def deprovision():
        return deprovision_run(RUN, context=context, okta=okta, state=state, s3=s3, bucket=BUCKET)

    with pytest.raises(UpstreamUnavailable):
        deprovision()
    # No deprovisioning part (the step failed): the report counts the departures from their items.
    assert report_counts(state, s3) == {"removed": 1, "unchanged": 5}

    summary = deprovision()  # retried: g, removed by the failed attempt, counts once, untouched
    assert summary["counts"] == {"removed": 2} and summary["removed_in_role"] == 1
    assert okta.removed == ["00ug", "00uh"]
    assert report_counts(state, s3) == {"removed": 2, "unchanged": 4}  # h is still a role member
    deprovision()
    assert report_counts(state, s3) == {"removed": 2, "unchanged": 4} and okta.removed == ["00ug", "00uh"]


def test_a_retried_listing_keeps_its_batches_and_gives_each_member_to_one_part(state):
    # The first attempt publishes batch 0 (m1, m2) and fails; the worker provisions m1, who then
    # leaves the role; m0 joins at the front. z, in the group by an earlier run, left the role.
    done_before(state, "z")
    auth0 = FakeAuth0(role=["auth0|m1", "auth0|m2", "auth0|m3"])
    auth0.fail_after = 2
    s3, policy = FakeS3(), ProvisioningPolicy(batch_size=2)

    def listing():
        return list_members(RUN, auth0=auth0, okta=FakeOkta(), state=state, bucket=BUCKET, s3=s3, policy=policy)

    with pytest.raises(UpstreamUnavailable):
        listing()
    assert state.part(RUN.run_id, "progress")["batches"] == 1
    assert state.write_member(MAPPING, RUN.run_id, {"user_id": "auth0|m1", "outcome": "provisioned"}, seen_version=0)
    auth0.role, auth0.fail_after = ["auth0|m0", "auth0|m2", "auth0|m3", "auth0|m4"], None

    result = listing()
    batches = [state.part(RUN.run_id, f"batch#{i:06d}")["user_ids"] for i in range(result.batches)]
    assert batches == [["auth0|m1", "auth0|m2"], ["auth0|m0", "auth0|m3"], ["auth0|m4"]]
    assert (result.members, result.pending, result.unchanged) == (4, 4, 0)
    # m1 is the worker's (batch 0): the next run's departure, not this one's.
    assert [d["user_id"] for d in read_departures(s3, BUCKET, RUN.run_id)["departures"]] == ["auth0|z"]


def test_a_recheck_leaves_a_blocked_member_to_deprovisioning_only(state):
    done_before(state, "x")
    done_before(state, "y")
    auth0 = FakeAuth0(role=["auth0|x", "auth0|y"], blocked=["auth0|x"])
    s3 = FakeS3()
    options = RunOptions(MAPPING, RUN.run_id, recheck=True)
    list_members(options, auth0=auth0, okta=FakeOkta(), state=state, bucket=BUCKET, s3=s3, policy=ProvisioningPolicy())
    assert state.part(RUN.run_id, "batch#000000")["user_ids"] == ["auth0|y"]
    departures = read_departures(s3, BUCKET, RUN.run_id)["departures"]
    assert departures == [{"user_id": "auth0|x", "reason": "blocked"}]
