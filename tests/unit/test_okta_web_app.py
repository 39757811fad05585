"""The authorization_code connection mode's parts on their own: the secret's strict shape, the
minter's refusals before any Okta call, and the cache's exclusive path (never without the lease)."""

import threading

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync.base.errors import ConfigurationError, ConsentRequired, UpstreamUnavailable
from okta_auth0_sync.clients.tokens.cache import TokenCache
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.clients.tokens.okta_web import OktaWebApp
from okta_auth0_sync.settings import OktaConnection
from okta_auth0_sync.store.token_table import TokenTable
from okta_auth0_sync_testbed.fidelity import atomic_dynamodb_items

BASE = {
    "mode": "authorization_code",
    "domain": "acme.okta.com",
    "client_id": "0oaWEB",
    "client_secret": "s3cr3t-value",
    "scopes": ["okta.users.read", "offline_access"],
}


def test_the_web_app_secret_parses_and_hides_its_secrets():
    c = OktaConnection.from_secret({**BASE, "refresh_token": "rt-VALUE"}, "sid")
    assert c.mode == "authorization_code" and c.scopes == ("okta.users.read",)
    assert c.redirect_uri == "http://127.0.0.1:8765/callback"
    assert "rt-VALUE" not in repr(c) and "s3cr3t" not in repr(c)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mode": "password"}, "'mode'"),
        ({"private_key": "-----BEGIN PRIVATE KEY-----"}, "not both"),
        ({"client_secret": None}, "client_secret"),
        ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1/callback"}, "redirect_uri"),  # no port
        ({"refresh_token": 42}, "refresh_token"),
        ({"refresh_token_revoked": 1}, "refresh_token_revoked"),
        ({"dpop_private_key": "not-a-jwk"}, "dpop_private_key"),
        ({"api_token": "00x"}, "api_token"),
        ({"scopes": []}, "scopes"),
    ],
)
def test_a_malformed_web_app_secret_names_the_field_never_the_value(change, field):
    with pytest.raises(ConfigurationError) as error:
        OktaConnection.from_secret({**BASE, **change}, "sid")
    assert field in str(error.value) and "s3cr3t" not in str(error.value)


class Vault:
    where = "secret sid"

    def __init__(self, document):
        self.document = dict(document)
        self.writes = 0

    def read(self):
        return dict(self.document)

    def write(self, data):
        self.writes += 1
        self.document = dict(data)


class NoHttp:
    def request(self, *args, **kwargs):
        raise AssertionError("no Okta call expected")


@pytest.mark.parametrize(
    ("extra", "words"),
    [({}, "no refresh token"), ({"refresh_token": "rt", "refresh_token_revoked": "2026-01-01T00:00:00Z"}, "refused")],
)
def test_without_a_usable_refresh_token_okta_is_not_called(extra, words):
    connection = OktaConnection.from_secret(BASE, "sid")
    minter = OktaWebApp(connection, NoHttp(), Vault({**BASE, **extra}))
    with pytest.raises(ConsentRequired) as error:
        minter.mint()
    assert words in str(error.value) and "consent" in str(error.value)
    assert ConsentRequired.retryable is False and ConsentRequired.metric == "OktaConsentRequired"


def test_the_cache_key_material_ignores_the_rotating_refresh_token():
    one = OktaWebApp(OktaConnection.from_secret({**BASE, "refresh_token": "a"}, "sid"), NoHttp(), Vault(BASE))
    two = OktaWebApp(OktaConnection.from_secret({**BASE, "refresh_token": "b"}, "sid"), NoHttp(), Vault(BASE))
    assert one.secret_material() == two.secret_material() and b"s3cr3t-value" in one.secret_material()


class ExclusiveMinter:
    cache_key = "okta#acme.okta.com#0oaWEB"
    exclusive = True
    lease_seconds = 20

    def __init__(self):
        self.minted = 0
        self.inside = 0
        self.most_inside = 0
        self.lock = threading.Lock()

    def secret_material(self):
        return b"material"

    def mint(self):
        raise AssertionError("an exclusive minter is never minted without the lease")

    def mint_fenced(self, lease):
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        threading.Event().wait(0.05)
        assert lease.confirm()
        with self.lock:
            self.inside -= 1
            self.minted += 1
        return AccessToken(value=f"at-{self.minted}", token_type="Bearer", expires_at=10**10, minted_at=self.minted)


@pytest.fixture
def dynamodb():
    with mock_aws(), atomic_dynamodb_items():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield client


def test_eight_cold_containers_refresh_once_and_the_others_wait_for_it(dynamodb):
    minter = ExclusiveMinter()
    tokens = []

    def container():
        tokens.append(
            TokenCache("t", dynamodb=dynamodb, sleep=lambda s: threading.Event().wait(s / 10)).get_or_mint(minter)
        )

    threads = [threading.Thread(target=container) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert minter.minted == 1 and minter.most_inside == 1
    assert {t.value for t in tokens} == {"at-1"}


def test_a_holder_that_never_publishes_is_waited_for_then_a_retryable_error(dynamodb, monkeypatch):
    import okta_auth0_sync.clients.tokens.cache as cache

    monkeypatch.setattr(cache, "EXCLUSIVE_WAIT_SECONDS", 0.5)
    TokenTable("t", dynamodb).take_lease(ExclusiveMinter.cache_key, "someone-else", now=10**10, seconds=60)
    with pytest.raises(UpstreamUnavailable):
        TokenCache("t", dynamodb=dynamodb, sleep=lambda s: None).get_or_mint(ExclusiveMinter())


def test_a_lease_taken_over_is_lost_for_its_first_holder(dynamodb):
    table = TokenTable("t", dynamodb)
    assert table.take_lease("k", "first", now=100.0, seconds=20)
    assert table.take_lease("k", "second", now=121.0, seconds=20)  # the first one's ran out
    assert not table.confirm_lease("k", "first", now=122.0, seconds=20)
    assert table.confirm_lease("k", "second", now=122.0, seconds=20)
