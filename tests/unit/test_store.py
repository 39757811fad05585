"""The store's shared idioms (client resolution, error codes, item marshalling) and the stores
built on them that have no test of their own: the provisioning state table, the token cache
table, DPoP proof replay and Step Functions executions (moto evaluates the real conditions)."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from okta_auth0_sync.domain.lifecycle import DesiredState
from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.store import aws, executions
from okta_auth0_sync.store.dynamodb import marshal, unmarshal
from okta_auth0_sync.store.ledger import Ledger, desired_state
from okta_auth0_sync.store.provisioning_state import StateTable
from okta_auth0_sync.store.replay import ProofReplayCache
from okta_auth0_sync.store.token_table import SealedToken, TokenTable

REGION = "us-east-1"


def client_error(code, operation="PutItem"):
    return ClientError({"Error": {"Code": code, "Message": "refused"}}, operation)


def make_table(dynamodb, name, *, sort_key=False):
    keys = [("pk", "HASH")] + ([("sk", "RANGE")] if sort_key else [])
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
    )


@pytest.fixture
def dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


# -- aws.error_code ----------------------------------------------------------------------------


def test_error_code_reads_the_code_of_a_client_error():
    assert aws.error_code(client_error(aws.CONDITION_FAILED)) == "ConditionalCheckFailedException"
    assert aws.error_code(client_error("ExecutionDoesNotExist", "DescribeExecution")) == "ExecutionDoesNotExist"


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("connection reset"),
        ClientError({"Error": {"Message": "no code"}}, "PutItem"),
        ClientError({}, "PutItem"),
        type("Odd", (Exception,), {"response": "not a dict"})(),
        type("Odder", (Exception,), {"response": {"Error": "not a dict"}})(),
    ],
    ids=["not-aws", "no-code", "no-error", "response-not-a-dict", "error-not-a-dict"],
)
def test_error_code_is_none_for_anything_without_one(exc):
    assert aws.error_code(exc) is None


# -- aws.resolve -------------------------------------------------------------------------------


def test_an_injected_client_wins_and_the_shared_one_is_made_only_on_first_use(monkeypatch):
    made = []

    class FakeDynamo:
        def get_item(self, **kwargs):
            return {}

    def factory(service):
        made.append(service)
        return FakeDynamo()

    monkeypatch.setattr(aws, "client", factory)
    injected = object()
    assert aws.resolve(injected, "dynamodb") is injected
    ledger, state, tokens = Ledger("ledger"), StateTable("state"), TokenTable("tokens")
    ProofReplayCache("replay")
    assert made == []  # building stores creates no client
    assert ledger.get("00u1") is None
    assert made == ["dynamodb"]
    assert isinstance(state.client, FakeDynamo) and isinstance(tokens.client, FakeDynamo)
    assert Ledger("ledger", injected).client is injected


# -- marshalling -------------------------------------------------------------------------------


def test_marshal_writes_each_scalar_as_dynamodb_expects():
    assert marshal(
        {"s": "x", "i": 42, "f": 1700000000.25, "b": b"\x00\xff", "t": True, "skipped": None, "empty": ""}
    ) == {
        "s": {"S": "x"},
        "i": {"N": "42"},
        "f": {"N": "1700000000.25"},
        "b": {"B": b"\x00\xff"},
        "t": {"BOOL": True},
        "empty": {"S": ""},
    }


def test_unmarshal_reads_numbers_as_int_or_float():
    assert unmarshal({"a": {"N": "7"}, "b": {"N": "-3"}, "c": {"N": "0.5"}, "d": {"N": "1E+3"}}) == {
        "a": 7,
        "b": -3,
        "c": 0.5,
        "d": 1000.0,
    }
    assert type(unmarshal({"a": {"N": "7"}})["a"]) is int
    assert unmarshal({"n": {"NULL": True}, "flag": {"BOOL": False}}) == {"n": None, "flag": False}


def test_marshalling_round_trips_in_memory_and_through_dynamodb(dynamodb):
    values = {
        "pk": "user#00u1",
        "count": 12345678901234,
        "at": 1700000123.456789,
        "blob": bytes(range(256)),
        "flag": False,
        "text": "ünïcode ✓",
    }
    assert unmarshal(marshal(values)) == values
    make_table(dynamodb, "round-trip")
    dynamodb.put_item(TableName="round-trip", Item=marshal(values))
    stored = dynamodb.get_item(TableName="round-trip", Key=marshal({"pk": "user#00u1"}))["Item"]
    assert unmarshal(stored) == values


@pytest.mark.parametrize("value", [[1], {"a": 1}, {1, 2}, object()], ids=["list", "map", "set", "object"])
def test_marshal_refuses_what_the_tables_do_not_hold(value):
    with pytest.raises(TypeError, match="attribute x"):
        marshal({"x": value})


def test_unmarshal_refuses_attribute_types_the_tables_do_not_hold():
    with pytest.raises(TypeError, match="attribute tags: DynamoDB type SS"):
        unmarshal({"tags": {"SS": ["a", "b"]}})


# -- the ledger's item -> DesiredState (moved out of the domain) --------------------------------


def test_desired_state_from_a_ledger_item():
    item = {
        "pk": {"S": "user#00u1"},
        "okta_user_id": {"S": "00u1"},
        "event_uuid": {"S": "e1"},
        "event_type": {"S": "user.lifecycle.deactivate"},
        "published": {"S": "2026-01-01T10:00:00.000Z"},
        "published_ms": {"N": "1767261600000"},
        "rank": {"N": "1"},
        "version": {"N": "3"},
        "updated_at": {"S": "2026-01-01T10:00:01Z"},
    }
    assert desired_state(item) == DesiredState(
        "00u1", "e1", "user.lifecycle.deactivate", "2026-01-01T10:00:00.000Z", 3, 0, 0
    )
    applied = desired_state({**item, "applied_version": {"N": "3"}, "revoked_version": {"N": "2"}})
    assert (applied.applied, applied.applied_version, applied.revoked_version) == (True, 3, 2)


def test_the_ledger_raises_what_is_not_a_condition_failure(dynamodb):
    ledger = Ledger("no-such-table", dynamodb)
    with pytest.raises(ClientError) as raised:
        ledger.record("00u1", "e1", "user.lifecycle.deactivate", "2026-01-01T10:00:00.000Z")
    assert aws.error_code(raised.value) == "ResourceNotFoundException"
    state = DesiredState("00u1", "e1", "user.lifecycle.deactivate", "2026-01-01T10:00:00.000Z", 1, 0)
    with pytest.raises(ClientError):
        ledger.commit(state)  # not "superseded": the caller must not apply again forever


# -- provisioning state table ------------------------------------------------------------------


def test_state_table_round_trip(dynamodb):
    make_table(dynamodb, "state", sort_key=True)
    table = StateTable("state", dynamodb)
    mapping = RoleGroupMapping("rol_0123456789abcdef", "00g1emaKYZTWRYYRRTSK")
    table.record(
        mapping,
        "run-1",
        [
            {"user_id": "auth0|a", "outcome": "provisioned", "okta_user_id": "00ua"},
            {"user_id": "auth0|b", "outcome": "failed", "okta_user_id": "", "reason": "x" * 1500},
        ],
    )
    found = table.outcomes(mapping, ["auth0|a", "auth0|b", "auth0|missing", "auth0|a"])
    assert found == {
        "auth0|a": {"outcome": "provisioned", "okta_user_id": "00ua", "run_id": "run-1"},
        "auth0|b": {"outcome": "failed", "reason": "x" * 1000, "run_id": "run-1"},  # no empty okta_user_id, reason cut
    }
    assert sorted(table.members(mapping), key=lambda m: m["user_id"]) == [
        {"user_id": "auth0|a", "outcome": "provisioned", "okta_user_id": "00ua", "run_id": "run-1"},
        {"user_id": "auth0|b", "outcome": "failed", "run_id": "run-1"},
    ]
    raw = dynamodb.get_item(TableName="state", Key=marshal({"pk": mapping.key, "sk": "member#auth0|a"}))["Item"]
    assert unmarshal(raw)["run_id"] == "run-1" and raw["updated_at"]["S"].endswith("Z")
    table.put_summary("run-1", "list", {"members": 2})
    table.put_summary("run-1", "batch#000001", {"provisioned": 1})
    assert table.summaries("run-1") == {"list": {"members": 2}, "batch#000001": {"provisioned": 1}}
    summary = dynamodb.get_item(TableName="state", Key=marshal({"pk": "run#run-1", "sk": "list"}))["Item"]
    assert json.loads(summary["data"]["S"]) == {"members": 2} and "N" in summary["ttl"]


# -- token cache table -------------------------------------------------------------------------


def test_token_table_round_trip_and_conditional_delete(dynamodb):
    make_table(dynamodb, "tokens")
    table = TokenTable("tokens", dynamodb)
    assert table.read("auth0#k") is None
    sealed = SealedToken(b"\x01sealed", "DPoP", 1700003600.5, 1700000000.125, "read:users")
    table.write("auth0#k", sealed)
    assert table.read("auth0#k") == sealed
    item = dynamodb.get_item(TableName="tokens", Key=marshal({"pk": "token#auth0#k"}))["Item"]
    assert item["ttl"] == {"N": str(1700003600 + 60)}
    assert not table.delete("auth0#k", minted_at=1700000000.0)  # another token: kept
    assert table.read("auth0#k") == sealed
    assert table.delete("auth0#k", minted_at=1700000000.125)
    assert table.read("auth0#k") is None


def test_token_table_keeps_an_empty_scope_as_a_dash(dynamodb):
    make_table(dynamodb, "tokens")
    table = TokenTable("tokens", dynamodb)
    table.write("k", SealedToken(b"c", "Bearer", 2.0, 1.0))
    assert table.read("k").scope == "-"  # as the cache always stored it


def test_token_table_lease(dynamodb):
    make_table(dynamodb, "tokens")
    table = TokenTable("tokens", dynamodb)
    assert table.take_lease("k", "a", now=1000.0, seconds=10)
    assert not table.take_lease("k", "b", now=1005.0, seconds=10)  # a's lease still runs
    assert not table.release_lease("k", "b")  # not b's to give back
    assert table.take_lease("k", "b", now=1010.5, seconds=10)  # a's lease ran out
    assert not table.release_lease("k", "a")
    assert table.release_lease("k", "b")
    assert table.take_lease("k", "c", now=1011.0, seconds=10)
    lease = unmarshal(dynamodb.get_item(TableName="tokens", Key=marshal({"pk": "lease#k"}))["Item"])
    assert lease == {"pk": "lease#k", "holder": "c", "lease_until": 1021, "ttl": 1011 + 3600}


def test_token_table_raises_other_errors(dynamodb):
    table = TokenTable("no-such-table", dynamodb)
    for call in (lambda: table.take_lease("k", "a", now=1.0, seconds=10), lambda: table.delete("k", minted_at=1.0)):
        with pytest.raises(ClientError):
            call()


# -- DPoP proof replay -------------------------------------------------------------------------


def test_a_proof_is_single_use_across_containers(dynamodb):
    make_table(dynamodb, "replay")
    assert ProofReplayCache("replay", dynamodb).first_use("jti-1", expires_at=4_000_000_000)
    assert not ProofReplayCache("replay", dynamodb).first_use("jti-1", expires_at=4_000_000_000)
    assert ProofReplayCache("replay", dynamodb).first_use("jti-2", expires_at=4_000_000_000)
    items = [unmarshal(i) for i in dynamodb.scan(TableName="replay")["Items"]]
    assert len(items) == 2 and all(i["ttl"] == 4_000_000_060 for i in items)
    assert all(i["pk"].startswith("jti#") and "jti-" not in i["pk"] for i in items)  # hashed


def test_proof_replay_raises_what_is_not_a_replay():
    class Throttled:
        def put_item(self, **kwargs):
            raise client_error("ProvisionedThroughputExceededException")

    with pytest.raises(ClientError):
        ProofReplayCache("replay", Throttled()).first_use("jti-1", expires_at=4_000_000_000)


# -- Step Functions executions -----------------------------------------------------------------


@pytest.fixture
def stepfunctions():
    with mock_aws():
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = client.create_state_machine(
            name="Flow",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/flow",
        )["stateMachineArn"]
        yield client, arn


def test_executions_start_dedupe_and_describe(stepfunctions):
    client, arn = stepfunctions
    assert executions.start(arn, "evt-1", {"a": 1}, client=client) == executions.Started("evt-1", "started")
    assert executions.start(arn, "evt-1", {"a": 2}, client=client) == executions.Started("evt-1", "duplicate")
    # The same name and input while the first still runs: Step Functions answers as it did the
    # first time (idempotent), so it reads "started", but nothing new starts either.
    assert executions.start(arn, "evt-1", {"a": 1}, client=client).status == "started"
    assert len(client.list_executions(stateMachineArn=arn)["executions"]) == 1
    execution_arn = arn.replace(":stateMachine:", ":execution:") + ":evt-1"
    described = executions.describe(execution_arn, client=client)
    assert described is not None and json.loads(described["input"]) == {"a": 1}
    assert executions.describe(execution_arn + "-missing", client=client) is None
    missing = executions.start(arn + "-missing", "evt-2", {}, client=client)
    assert (missing.status, missing.error) == ("failed", "StateMachineDoesNotExist")


def test_executions_start_names_a_failure_without_an_aws_code():
    class Down:
        def start_execution(self, **kwargs):
            raise ConnectionError("no route")

    started = executions.start_many("arn", [("a", {}), ("b", {})], budget_seconds=5, client=Down())
    assert sorted(started, key=lambda s: s.name) == [
        executions.Started("a", "failed", "ConnectionError"),
        executions.Started("b", "failed", "ConnectionError"),
    ]
