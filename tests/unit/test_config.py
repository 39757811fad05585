"""Connection secrets: validated, with errors that name the field and never the value."""

import pytest

from okta_auth0_sync.base.errors import ConfigurationError
from okta_auth0_sync.settings import Auth0Connection, OktaConnection, Settings

PEM = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"


def test_auth0_defaults_audience_and_base_url():
    c = Auth0Connection.from_secret({"domain": "acme.eu.auth0.com", "client_id": "cid", "client_secret": "s3cr3t"})
    assert c.audience == "https://acme.eu.auth0.com/api/v2/"  # canonical domain, trailing slash
    assert c.base_url == "https://acme.eu.auth0.com"
    assert "s3cr3t" not in repr(c)


def test_base_url_points_the_same_code_at_a_sandbox():
    c = Auth0Connection.from_secret(
        {
            "domain": "https://acme.auth0.com/",
            "client_id": "cid",
            "client_secret": "s",
            "base_url": "http://127.0.0.1:8081/",
        }
    )
    assert c.domain == "acme.auth0.com"
    assert c.base_url == "http://127.0.0.1:8081"
    assert c.audience == "https://acme.auth0.com/api/v2/"


@pytest.mark.parametrize(
    ("secret", "field"),
    [
        ({"client_id": "c", "client_secret": "s"}, "domain"),
        ({"domain": "a.auth0.com", "client_secret": "s"}, "client_id"),
        ({"domain": "a.auth0.com", "client_id": "c", "client_secret": ""}, "client_secret"),
    ],
)
def test_auth0_missing_fields_are_named(secret, field):
    with pytest.raises(ConfigurationError, match=f"'{field}'"):
        Auth0Connection.from_secret(secret, "arn:secret:auth0")


def test_okta_private_key_jwt_secret():
    c = OktaConnection.from_secret(
        {
            "domain": "acme.okta.com",
            "client_id": "0oa1",
            "private_key": PEM,
            "key_id": "kid-1",
            "scopes": "okta.users.read okta.users.manage",
        }
    )
    assert c.mode == "private_key_jwt"
    assert c.scopes == ("okta.users.read", "okta.users.manage")
    assert c.token_url == "https://acme.okta.com/oauth2/v1/token"
    assert c.keys[0].key_id == "kid-1"
    assert "MIIB" not in repr(c)


def test_okta_rotation_keys_in_order():
    c = OktaConnection.from_secret(
        {
            "domain": "acme.okta.com",
            "client_id": "0oa1",
            "scopes": ["okta.users.read"],
            "keys": [{"private_key": PEM, "key_id": "new", "alg": "RS384"}, {"private_key": PEM, "key_id": "old"}],
        }
    )
    assert [k.key_id for k in c.keys] == ["new", "old"]
    assert c.keys[0].alg == "RS384"


def test_okta_api_token_secret():
    c = OktaConnection.from_secret({"domain": "acme.okta.com", "api_token": "00abcSSWS"})
    assert c.mode == "ssws"
    assert "00abcSSWS" not in repr(c)


@pytest.mark.parametrize(
    ("secret", "needle"),
    [
        ({"domain": "acme.okta.com", "client_id": "0oa1", "private_key": "", "scopes": ["x"]}, "private_key"),
        ({"domain": "acme.okta.com", "client_id": "0oa1", "private_key": PEM, "scopes": []}, "scopes"),
        ({"domain": "acme.okta.com", "client_id": "0oa1", "private_key": PEM, "scopes": ["x"], "alg": "HS256"}, "alg"),
        ({"domain": "acme.okta.com", "client_id": "0oa1", "private_key": PEM, "scopes": ["x"], "dpop": "yes"}, "dpop"),
        ({"domain": "acme okta com", "api_token": "t"}, "domain"),
    ],
)
def test_okta_bad_secrets(secret, needle):
    with pytest.raises(ConfigurationError, match=needle) as raised:
        OktaConnection.from_secret(secret, "okta-secret")
    assert "MIIB" not in str(raised.value)


def test_settings_from_env():
    s = Settings.from_env({"AUTH0_SECRET_ID": "arn:a", "TOKEN_CACHE_TABLE": "t", "SECRET_MAX_AGE_SECONDS": "60"})
    assert (s.auth0_secret_id, s.okta_secret_id, s.token_cache_table, s.secret_max_age) == ("arn:a", None, "t", 60)
    with pytest.raises(ConfigurationError, match="SECRET_MAX_AGE_SECONDS"):
        Settings.from_env({"SECRET_MAX_AGE_SECONDS": "soon"})
