"""The per-user lifecycle ledger on DynamoDB (moto evaluates the real condition expressions)."""

import random
import threading

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync.domain.lifecycle import published_ms
from okta_auth0_sync.store.ledger import Ledger
from okta_auth0_sync_testbed.fidelity import atomic_dynamodb_items

USER = "00uLedger"
T1, T2 = "2026-01-01T10:00:00.000Z", "2026-01-01T10:00:01.000Z"


@pytest.fixture
def ledger():
    with mock_aws(), atomic_dynamodb_items():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="ledger",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield Ledger("ledger", client)


def test_the_desired_state_only_moves_forward(ledger):
    first = ledger.record(USER, "e2", "user.lifecycle.deactivate", T2)
    assert (first.outcome, first.state.version, first.state.applied) == ("newest", 1, False)
    assert ledger.record(USER, "e2", "user.lifecycle.deactivate", T2).outcome == "duplicate"
    older = ledger.record(USER, "e1", "user.lifecycle.reactivate", T1)
    assert older.outcome == "superseded" and older.state.event_uuid == "e2"
    assert ledger.get(USER).version == 1


def test_at_the_same_instant_deactivation_wins(ledger):
    ledger.record(USER, "r", "user.lifecycle.reactivate", T1)
    assert ledger.record(USER, "d", "user.lifecycle.deactivate", T1).outcome == "newest"
    assert ledger.record(USER, "r2", "user.lifecycle.reactivate", T1).outcome == "superseded"
    assert ledger.record(USER, "d2", "user.lifecycle.suspend", T1).outcome == "superseded"  # same rank: first stays
    assert ledger.get(USER).event_uuid == "d"


def test_commit_holds_only_while_the_state_is_still_the_newest(ledger):
    state = ledger.record(USER, "e1", "user.lifecycle.deactivate", T1).state
    newer = ledger.record(USER, "e2", "user.lifecycle.reactivate", T2).state
    assert not ledger.commit(state, revoked=True)  # superseded while applying: apply again
    assert ledger.commit(newer)
    assert ledger.commit(newer)  # a second helper committing the same version is fine
    now = ledger.get(USER)
    assert now.applied and now.applied_version == 2 and now.revoked_version == 0
    assert not ledger.current(state) and ledger.current(newer)


def test_concurrent_records_keep_the_newest_event(ledger):
    rng = random.Random(8)
    events = [
        (
            f"e{i}",
            rng.choice(["user.lifecycle.deactivate", "user.lifecycle.reactivate"]),
            f"2026-01-01T10:00:0{rng.randint(0, 5)}.000Z",
        )
        for i in range(40)
    ]
    outcomes = []
    barrier = threading.Barrier(len(events))

    def record(event):
        barrier.wait()
        outcomes.append(ledger.record(USER, *event).outcome)

    threads = [threading.Thread(target=record, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    newest = max(published_ms(e[2]) * 2 + (e[1].endswith("deactivate")) for e in events)
    final = ledger.get(USER)
    assert published_ms(final.published) * 2 + final.deactivated == newest
    assert final.version == outcomes.count("newest")
