"""The issuer's JWKS as the resource server keeps it: refreshed hourly, refetched for an unknown
kid at most once a minute, and served stale (up to a day) while the issuer cannot be reached."""

import logging

import pytest

from okta_auth0_sync.base.errors import UpstreamUnavailable
from okta_auth0_sync.jose.jwks import (
    JWKS_MAX_AGE,
    JWKS_MIN_REFETCH,
    JWKS_STALE_IF_ERROR,
    JwksCache,
    JwksUnavailable,
)

URI = "https://acme.okta.com/oauth2/aus1/v1/keys"
KEY_1 = {"kid": "k1", "kty": "RSA", "n": "AQAB", "e": "AQAB"}
KEY_2 = {"kid": "k2", "kty": "RSA", "n": "AQAB", "e": "AQAB"}


class Issuer:
    """The JWKS endpoint: what it serves, whether it is down, and how often it was asked."""

    def __init__(self) -> None:
        self.keys = [KEY_1]
        self.down = False
        self.fetches = 0

    def __call__(self, uri: str) -> dict:
        assert uri == URI
        self.fetches += 1
        if self.down:
            raise UpstreamUnavailable("okta answered 503 Service Unavailable", tenant="okta", status=503)
        return {"keys": self.keys}


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer():
    return Issuer()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def jwks(issuer, clock):
    cache = JwksCache(URI, issuer, clock)
    assert cache.key("k1") == KEY_1
    assert issuer.fetches == 1
    return cache


def test_keys_are_cached_then_refreshed_once_they_are_an_hour_old(jwks, issuer, clock):
    clock.now += JWKS_MAX_AGE
    assert jwks.key("k1") == KEY_1
    assert issuer.fetches == 1
    issuer.keys = [KEY_2]
    clock.now += 1
    assert jwks.key("k2") == KEY_2
    assert jwks.key("k1") is None  # retired by the issuer
    assert issuer.fetches == 2


def test_an_unknown_kid_refetches_at_most_once_a_minute(jwks, issuer, clock):
    clock.now += JWKS_MIN_REFETCH
    for _ in range(5):
        assert jwks.key("made-up") is None
    assert issuer.fetches == 2
    clock.now += JWKS_MIN_REFETCH - 1
    assert jwks.key("made-up-too") is None
    assert issuer.fetches == 2
    clock.now += 1
    issuer.keys = [KEY_1, KEY_2]  # a rotation: the new kid is found through the refetch
    assert jwks.key("k2") == KEY_2
    assert issuer.fetches == 3


def test_an_outage_serves_the_stale_keys_and_retries_once_a_minute(jwks, issuer, clock, caplog):
    issuer.down = True
    clock.now += JWKS_MAX_AGE + 1
    with caplog.at_level(logging.WARNING, logger="okta_auth0_sync.jose.jwks"):
        for _ in range(10):
            assert jwks.key("k1") == KEY_1  # every request still served
    assert issuer.fetches == 2  # one attempt, not one per request
    [record] = caplog.records
    assert record.jwks_uri == URI and record.error == "UpstreamUnavailable"
    assert record.detail == "okta answered 503 Service Unavailable (status=503)"
    assert record.cached_keys_age == JWKS_MAX_AGE + 1
    clock.now += JWKS_MIN_REFETCH
    assert jwks.key("k1") == KEY_1
    assert jwks.key("unknown") is None  # the minute's attempt is spent: no second fetch
    assert issuer.fetches == 3
    issuer.down = False  # the issuer is back: the next attempt refreshes
    issuer.keys = [KEY_2]
    clock.now += JWKS_MIN_REFETCH
    assert jwks.key("k2") == KEY_2
    assert issuer.fetches == 4
    clock.now += JWKS_MAX_AGE
    assert jwks.key("k2") == KEY_2
    assert issuer.fetches == 4  # fresh again: an hour before the next refresh


def test_stale_keys_serve_for_a_day_at_most(jwks, issuer, clock):
    issuer.down = True
    clock.now += JWKS_STALE_IF_ERROR
    assert jwks.key("k1") == KEY_1
    clock.now += JWKS_MIN_REFETCH
    with pytest.raises(JwksUnavailable, match="cannot be fetched"):
        jwks.key("k1")
    attempts = issuer.fetches
    with pytest.raises(JwksUnavailable):
        jwks.key("k1")
    assert issuer.fetches == attempts  # still at most one attempt a minute


def test_without_any_keys_a_failed_fetch_is_unavailable_and_not_retried_at_once(issuer, clock):
    issuer.down = True
    jwks = JwksCache(URI, issuer, clock)
    for _ in range(3):
        with pytest.raises(JwksUnavailable) as raised:
            jwks.key("k1")
    assert issuer.fetches == 1
    assert isinstance(raised.value, UpstreamUnavailable)  # retryable, a 5xx to whoever asks
    issuer.down = False
    clock.now += JWKS_MIN_REFETCH
    assert jwks.key("k1") == KEY_1


def test_a_document_without_keys_is_a_failed_fetch(jwks, issuer, clock, caplog):
    clock.now += JWKS_MAX_AGE + 1
    issuer.keys = None  # {"keys": null}
    with caplog.at_level(logging.WARNING, logger="okta_auth0_sync.jose.jwks"):
        assert jwks.key("k1") == KEY_1
    assert caplog.records[0].error == "ValueError"


def test_a_failure_that_is_not_ours_is_logged_by_type_only(jwks, clock, caplog):
    def leaky(uri):
        raise RuntimeError("response body: {'client_secret': 'hunter2'}")

    stale = JwksCache(URI, leaky, clock)
    stale._state = jwks._state  # the keys as fetched an hour ago
    clock.now += JWKS_MAX_AGE + 1
    with caplog.at_level(logging.WARNING, logger="okta_auth0_sync.jose.jwks"):
        assert stale.key("k1") == KEY_1
    [record] = caplog.records
    assert record.error == "RuntimeError" and record.detail is None
    assert "hunter2" not in caplog.text
