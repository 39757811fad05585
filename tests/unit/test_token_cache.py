"""The shared token cache: one mint per token lifetime across containers, encrypted at rest."""

import threading

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync.base import counters
from okta_auth0_sync.clients.tokens.cache import TokenCache, TokenSource
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync_testbed.fidelity import atomic_dynamodb_items

TABLE = "token-cache"


class Clock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.now += s


class FakeMinter:
    cache_key = "auth0#acme.auth0.com#cid"

    def __init__(self, clock, lifetime=86400, secret=b"client-secret"):
        self.clock = clock
        self.lifetime = lifetime
        self.secret = secret
        self.minted = 0
        self.gate = None

    def secret_material(self):
        return self.secret

    def mint(self):
        if self.gate:
            self.gate.wait(5)
        self.minted += 1
        now = self.clock()
        return AccessToken(
            value=f"tok-{self.minted}-SECRETVALUE",
            token_type="Bearer",
            expires_at=now + self.lifetime,
            minted_at=now + self.minted / 1000,
        )


@pytest.fixture
def dynamodb():
    # DynamoDB applies each conditional write atomically; moto does not under threads (the lease
    # test below was flaky for that reason alone), so the test bed's seam makes it.
    with mock_aws(), atomic_dynamodb_items():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield client


def container(dynamodb, clock):
    """A new execution environment: its own memory tier, the shared table."""
    return TokenCache(TABLE, dynamodb=dynamodb, clock=clock, sleep=clock.sleep)


def test_many_containers_share_one_token(dynamodb):
    clock = Clock()
    minter = FakeMinter(clock)
    counters.tokens_minted.reset()
    tokens = {container(dynamodb, clock).get_or_mint(minter).value for _ in range(10)}
    assert tokens == {"tok-1-SECRETVALUE"}
    assert minter.minted == 1
    assert counters.tokens_minted.total("auth0") == 1


def test_the_table_never_holds_the_token_in_clear(dynamodb):
    clock = Clock()
    container(dynamodb, clock).get_or_mint(FakeMinter(clock))
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert len(items) == 1
    assert "SECRETVALUE" not in repr(items)
    assert items[0]["pk"]["S"] == "token#auth0#acme.auth0.com#cid"
    assert int(items[0]["ttl"]["N"]) > clock()


def test_refreshed_ahead_of_expiry(dynamodb):
    clock = Clock()
    minter = FakeMinter(clock, lifetime=3600)
    cache = container(dynamodb, clock)
    first = cache.get_or_mint(minter)
    clock.now += 3600 - 301  # still valid, outside the 300 s refresh margin
    assert cache.get_or_mint(minter) is first
    clock.now += 2  # inside the margin: refresh before it expires
    assert cache.get_or_mint(minter).value == "tok-2-SECRETVALUE"
    assert container(dynamodb, clock).get_or_mint(minter).value == "tok-2-SECRETVALUE"
    assert minter.minted == 2


def test_a_rotated_secret_cannot_read_the_old_entry(dynamodb):
    clock = Clock()
    container(dynamodb, clock).get_or_mint(FakeMinter(clock))
    rotated = FakeMinter(clock, secret=b"new-client-secret")
    assert container(dynamodb, clock).get_or_mint(rotated).value == "tok-1-SECRETVALUE"
    assert rotated.minted == 1  # the old ciphertext did not decrypt: minted with the new secret


def test_invalidate_after_401_forces_one_new_mint_everywhere(dynamodb):
    clock = Clock()
    minter = FakeMinter(clock)
    source = TokenSource(minter, container(dynamodb, clock))
    assert source.current().value == "tok-1-SECRETVALUE"
    source.invalidate()
    other = container(dynamodb, clock)
    assert other.get_or_mint(minter).value == "tok-2-SECRETVALUE"
    assert source.current().value == "tok-2-SECRETVALUE"
    assert minter.minted == 2


def test_concurrent_cold_containers_mint_once(dynamodb):
    """Eight containers start at once with an empty cache: one takes the lease and mints, the
    others wait for its token instead of minting their own."""
    clock = Clock()
    minter = FakeMinter(clock)
    minter.gate = threading.Event()
    results, threads = [], []
    real_sleep = __import__("time").sleep

    def run():
        cache = TokenCache(
            TABLE, dynamodb=boto3.client("dynamodb", region_name="us-east-1"), clock=clock, sleep=real_sleep
        )
        results.append(cache.get_or_mint(minter).value)

    for _ in range(8):
        threads.append(threading.Thread(target=run))
        threads[-1].start()
    real_sleep(0.2)
    minter.gate.set()
    for t in threads:
        t.join(10)
    assert results == ["tok-1-SECRETVALUE"] * 8
    assert minter.minted == 1


def test_without_a_table_the_cache_is_per_process():
    clock = Clock()
    minter = FakeMinter(clock)
    cache = TokenCache(None, clock=clock)
    assert cache.get_or_mint(minter).value == cache.get_or_mint(minter).value
    assert minter.minted == 1


def test_token_repr_hides_the_value():
    token = AccessToken(value="SECRETVALUE", token_type="Bearer", expires_at=1.0)
    assert "SECRETVALUE" not in repr(token)
