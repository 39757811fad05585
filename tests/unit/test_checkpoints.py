"""The checkpoint store (store/checkpoints.py) on moto's DynamoDB, which evaluates the real
conditions: a first advance, advances in sequence, two pollers from one read (exactly one
wins), a reset, and what it refuses."""

import threading

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from okta_auth0_sync.store.checkpoints import Checkpoint, CheckpointMoved, CheckpointStore
from okta_auth0_sync_testbed.fidelity import atomic_dynamodb_items

TABLE = "checkpoints"


@pytest.fixture
def store():
    with mock_aws(), atomic_dynamodb_items():  # each item operation atomic, as DynamoDB's are
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield CheckpointStore(TABLE, client=client)


def test_a_source_never_advanced_reads_as_version_0_without_a_cursor(store):
    assert store.read("okta-system-log") == Checkpoint("okta-system-log")


def test_advances_in_sequence_and_reads_back_cursor_version_and_note(store):
    first = store.advance(store.read("okta-system-log"), "https://acme.okta.com/api/v1/logs?after=1")
    assert (first.cursor, first.version) == ("https://acme.okta.com/api/v1/logs?after=1", 1)
    second = store.advance(first, "https://acme.okta.com/api/v1/logs?after=2", note={"read": 3, "started": 2})
    read = store.read("okta-system-log")
    assert read == second
    assert (read.cursor, read.version, dict(read.note)) == (
        "https://acme.okta.com/api/v1/logs?after=2",
        2,
        {"read": 3, "started": 2},
    )
    assert read.updated_at is not None
    # A later advance without a note drops the old one.
    assert store.advance(read, "c3").note == {} and store.read("okta-system-log").note == {}


def test_sources_are_independent(store):
    store.advance(store.read("okta-system-log"), "okta-cursor")
    store.advance(store.read("auth0-logs"), "900202510141800000000000000000000000000000000000000001")
    assert store.read("okta-system-log").cursor == "okta-cursor"
    assert store.read("auth0-logs").cursor.startswith("9002025")


def test_of_two_pollers_that_read_the_same_checkpoint_exactly_one_advances(store):
    seen = store.advance(store.read("s"), "c1")
    store.advance(seen, "c2")  # the first poller
    with pytest.raises(CheckpointMoved):
        store.advance(seen, "c2-other")  # the second, from the same read
    assert store.read("s").cursor == "c2"


def test_two_first_runs_cannot_both_create_the_checkpoint(store):
    never = store.read("s")
    store.advance(never, "a")
    with pytest.raises(CheckpointMoved):
        store.advance(never, "b")
    assert store.read("s").cursor == "a"


def test_concurrent_advances_from_one_read_one_wins(store):
    seen = store.advance(store.read("s"), "c0")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def poller(n):
        barrier.wait()
        try:
            store.advance(seen, f"c{n}")
            outcomes.append("advanced")
        except CheckpointMoved:
            outcomes.append("moved")

    threads = [threading.Thread(target=poller, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["advanced"] + ["moved"] * 7
    assert store.read("s").version == 2


def test_a_reset_forgets_the_cursor_and_stops_a_poller_that_read_before_it(store):
    before = store.advance(store.read("s"), "c1")
    reset = store.reset("s")
    assert reset.cursor is None and reset.version == 2
    assert store.read("s") == Checkpoint("s", None, 2, reset.updated_at)
    with pytest.raises(CheckpointMoved):
        store.advance(before, "stale")
    assert store.advance(store.read("s"), "fresh").version == 3
    assert store.reset("never-run").version == 1


@pytest.mark.parametrize("cursor", ["", None, "x" * 8193, 42])
def test_refuses_a_cursor_that_is_not_a_short_string(store, cursor):
    with pytest.raises(ValueError):
        store.advance(store.read("s"), cursor)


@pytest.mark.parametrize("source", ["", "has space", "x" * 200, None, "-leading-dash", "tab\t"])
def test_refuses_a_malformed_source(store, source):
    with pytest.raises(ValueError):
        store.read(source)


def test_refuses_an_oversized_note(store):
    with pytest.raises(ValueError):
        store.advance(store.read("s"), "c", note={"x": "y" * 5000})


def test_raises_what_is_not_a_condition_failure():
    class Broken:
        def update_item(self, **_):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    with pytest.raises(ClientError):
        CheckpointStore(TABLE, client=Broken()).advance(Checkpoint("s"), "c")
