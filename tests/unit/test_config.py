"""Configuration: the connection secrets (validated, errors name the field and never the value)
and the environment (every variable of every function in one ``Settings``, read once per
container, each malformed value refused with an error naming its variable)."""

import dataclasses
import re
from pathlib import Path

import pytest

from okta_auth0_sync import settings
from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import ConfigurationError
from okta_auth0_sync.domain.events import DEFAULT_EVENT_TYPES
from okta_auth0_sync.domain.policies import DEFAULT_PROFILE_MAPPING, ProvisioningPolicy, RevocationPolicy, SyncPolicy
from okta_auth0_sync.settings import Auth0Connection, OktaConnection, Settings
from okta_auth0_sync_testbed.template import Template

ROOT = Path(__file__).resolve().parents[2]

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


# ---------------------------------------------------------------------------------- environment

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:okta-auth0-sync-deactivation"
# Read by Powertools and boto3 themselves, not by the library.
NOT_OURS = ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL", "AWS_ENDPOINT_URL")


def template_variables() -> dict[str, set[str]]:
    """Every environment variable the template sets, and the functions it sets it for."""
    template = Template.load(
        parameters={
            "OktaDomain": "o.example",
            "Auth0Domain": "a.example",
            # optional ingresses on, so that their functions (and variables) exist
            "Auth0LogEventSource": "aws.partner/auth0.com/acme-1/auth0.logs",
            "Auth0LogPolling": "true",
        }
    )
    found: dict[str, set[str]] = {}
    for name in template.of_type("AWS::Serverless::Function"):
        for variable in template.function(name).get("Environment", {}).get("Variables", {}):
            found.setdefault(variable, set()).add(name)
    return found


def test_every_variable_of_every_function_is_a_setting():
    variables = set(Settings.variables())
    in_template = set(template_variables()) - set(NOT_OURS)
    assert in_template <= variables, f"read outside Settings: {sorted(in_template - variables)}"
    # and nothing is read that neither the template sets nor the docs offer to set
    optional = {"HTTP_CONNECT_TIMEOUT_SECONDS", "HTTP_READ_TIMEOUT_SECONDS", "API_JWKS_URI"}
    assert variables - in_template == optional


def test_every_variable_is_documented():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    missing = [name for name in Settings.variables() if f"`{name}`" not in documented]
    assert not missing


def test_the_library_reads_the_environment_only_in_settings():
    """One place: no other library module or handler touches os.environ or getenv."""
    readers = [
        str(path.relative_to(ROOT))
        for folder in (ROOT / "layers" / "identity" / "okta_auth0_sync", ROOT / "functions")
        for path in folder.rglob("*.py")
        if path.name != "settings.py" and re.search(r"os\.environ|getenv\(", path.read_text())
    ]
    assert not readers


def test_defaults_when_nothing_is_set():
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.secret_max_age, s.token_refresh_margin, s.http_connect_timeout, s.http_read_timeout) == (
        300,
        300,
        3.05,
        10.0,
    )
    assert s.xray_sdk_tracing is False and s.handled_event_types == DEFAULT_EVENT_TYPES
    assert s.sync_policy == SyncPolicy() and s.provisioning_policy == ProvisioningPolicy()
    assert s.provisioning_concurrency == 4
    assert s.ledger_table is None and s.proof_replay_table is None


def test_an_empty_variable_reads_as_unset():
    """CloudFormation writes an empty parameter as "" (ApiIssuer, PUBLIC_BASE_URL, ...)."""
    s = Settings.from_env({"PUBLIC_BASE_URL": "", "SECRET_MAX_AGE_SECONDS": "", "METADATA_TARGET": ""})
    assert (s.public_base_url, s.secret_max_age, s.sync_policy.target) == (None, 300, "app_metadata")


def test_what_the_template_gives_each_function_is_accepted():
    template = Template.load(parameters={"OktaDomain": "o.example", "Auth0Domain": "a.example"})
    for name in template.of_type("AWS::Serverless::Function"):
        env = template.resolve(template.function(name).get("Environment", {}).get("Variables", {}))
        Settings.from_env({k: str(v) for k, v in env.items() if v is not None})


def test_the_policies_are_built_from_their_variables():
    s = Settings.from_env(
        {
            "METADATA_TARGET": "user_metadata",
            "METADATA_KEY": "okta",
            "BLOCK_DEACTIVATED_USERS": "false",
            "CLEAR_LEGACY_FLAG": "false",
            "REVOKE_SESSIONS": "true",
            "REVOKE_REFRESH_TOKENS": "false",
            "ACTIVATE_ON_CREATE": "false",
            "FEDERATED_USERS": "true",
            "MASTERED_ATTRIBUTE": "synced_from_auth0",
            "PROFILE_MAPPING": '{"login": ["username"]}',
            "SKIP_BLOCKED_AUTH0_USERS": "false",
            "PROVISIONING_BATCH_SIZE": "25",
            "PROVISIONING_CONCURRENCY": "6",
            "DEPROVISION_MAX_PERCENT": "5",
            "DEPROVISION_EVENT_WINDOW_MINUTES": "15",
        }
    )
    assert (s.deprovision_policy.max_percent, s.deprovision_policy.event_window_seconds) == (5.0, 900)
    assert Settings.from_env({}).deprovision_policy.event_window_seconds == 3600
    assert s.sync_policy == SyncPolicy(
        target="user_metadata",
        key="okta",
        block_users=False,
        clear_legacy_flag=False,
        revoke=RevocationPolicy(sessions=True, refresh_tokens=False),
    )
    assert s.provisioning_policy == ProvisioningPolicy(
        activate=False,
        federated=True,
        mastered_attribute="synced_from_auth0",
        profile_mapping={**DEFAULT_PROFILE_MAPPING, "login": ["username"]},
        skip_blocked=False,
        batch_size=25,
    )
    assert s.provisioning_concurrency == 6


@pytest.mark.parametrize(("value", "expected"), [(None, "auth0_mastered"), ("", None), ("  ", None)])
def test_mastered_attribute_unset_is_the_default_and_empty_is_none(value, expected):
    env = {} if value is None else {"MASTERED_ATTRIBUTE": value}
    assert Settings.from_env(env).provisioning_policy.mastered_attribute == expected


@pytest.mark.parametrize(
    ("spelling", "value"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("false", False), ("False", False), ("0", False)],
)
@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("XRAY_SDK_TRACING", lambda s: s.xray_sdk_tracing),
        ("BLOCK_DEACTIVATED_USERS", lambda s: s.sync_policy.block_users),
        ("REVOKE_SESSIONS", lambda s: s.sync_policy.revoke.sessions),
        ("FEDERATED_USERS", lambda s: s.provisioning_policy.federated),
        ("SKIP_BLOCKED_AUTH0_USERS", lambda s: s.provisioning_policy.skip_blocked),
    ],
)
def test_one_boolean_parser_for_every_flag(name, read, spelling, value):
    assert read(Settings.from_env({name: spelling})) is value


# Every variable whose value is checked, with a value it refuses.
MALFORMED = [
    ("VERIFIED_EMAIL_CONNECTIONS", "acme saml"),
    ("SECRET_MAX_AGE_SECONDS", "soon"),
    ("SECRET_MAX_AGE_SECONDS", "-1"),
    ("TOKEN_REFRESH_MARGIN_SECONDS", "5m"),
    ("HTTP_CONNECT_TIMEOUT_SECONDS", "fast"),
    ("HTTP_READ_TIMEOUT_SECONDS", "-0.5"),
    ("XRAY_SDK_TRACING", "on"),
    ("HANDLED_EVENT_TYPES", "user.lifecycle.deactivate,user.session.start"),
    ("HANDLED_EVENT_TYPES", " , "),
    ("DEACTIVATION_STATE_MACHINE_ARN", "DeactivationSync"),
    ("PROVISIONING_STATE_MACHINE_ARN", "arn:aws:lambda:us-east-1:123456789012:function:Provisioning"),
    ("RECONCILIATION_STATE_MACHINE_ARN", "reconciliation"),
    ("METADATA_TARGET", "profile"),
    ("METADATA_KEY", "okta.sync"),
    ("METADATA_KEY", "$set"),
    ("BLOCK_DEACTIVATED_USERS", "nope"),
    ("CLEAR_LEGACY_FLAG", "2"),
    ("REVOKE_SESSIONS", "always"),
    ("REVOKE_REFRESH_TOKENS", "off"),
    ("PROVISIONING_CONCURRENCY", "0"),
    ("PROVISIONING_CONCURRENCY", "four"),
    ("PROVISIONING_BATCH_SIZE", "501"),
    ("DEPROVISIONING", "sometimes"),
    ("DEPROVISION_LIFECYCLE", "delete"),
    ("DEPROVISION_ADOPTED_USERS", "yes please"),
    ("DEPROVISION_MAX_PERCENT", "101"),
    ("DEPROVISION_EVENT_WINDOW_MINUTES", "0"),
    ("DEPROVISION_EVENT_WINDOW_MINUTES", "1h"),
    ("DEPROVISION_EVENT_WINDOW_MINUTES", "1441"),
    ("ACTIVATE_ON_CREATE", "maybe"),
    ("FEDERATED_USERS", "t"),
    ("SKIP_BLOCKED_AUTH0_USERS", "y"),
    ("MASTERED_ATTRIBUTE", "auth0 mastered"),
    ("PROFILE_MAPPING", "{bad"),
    ("PROFILE_MAPPING", '{"login": "email"}'),
    ("SYSTEM_LOG_BACKFILL_HOURS", "2161"),
    ("SYSTEM_LOG_PAGE_SIZE", "1001"),
    ("SYSTEM_LOG_MAX_PAGES", "0"),
    ("AUTH0_LIFECYCLE_STATE_MACHINE_ARN", "Auth0Lifecycle"),
    ("PROVISIONING_MAPPINGS", "{bad"),
    ("PROVISIONING_MAPPINGS", '[{"role_id": "rol_a"}]'),
    ("PROVISIONING_MAPPINGS", '{"role_id": "rol_a", "group_id": "00ga"}'),
    ("REVERSE_SYNC_ON_BLOCK", "deactivate"),
    ("REVERSE_SYNC_ON_DELETE", "delete"),
    ("REVERSE_SYNC_ADOPTED_USERS", "sometimes"),
    ("AUTH0_LOG_POLL_PAGES", "0"),
    ("RATE_LIMIT_SHARERS", "0"),
    ("RATE_LIMIT_SHARERS", "three"),
]
# Free text: any value is taken as it is (a name, an id, a URL the resource server checks).
FREE_TEXT = {
    "AUTH0_SECRET_ID",
    "OKTA_SECRET_ID",
    "TOKEN_CACHE_TABLE",
    "EVENT_HOOK_SECRET_ID",
    "LEDGER_TABLE",
    "STATE_TABLE",
    "PROVISIONING_BUCKET",
    "API_ISSUER",
    "API_AUDIENCE",
    "API_JWKS_URI",
    "PUBLIC_BASE_URL",
    "PROOF_REPLAY_TABLE",
    "CHECKPOINT_TABLE",
}


@pytest.mark.parametrize(("name", "value"), MALFORMED)
def test_a_malformed_variable_is_refused_naming_it(name, value):
    with pytest.raises(ConfigurationError, match=f"environment variable {name}\\b"):
        Settings.from_env({name: value})


def test_every_checked_variable_has_a_malformed_case():
    assert {name for name, _ in MALFORMED} == set(Settings.variables()) - FREE_TEXT


@pytest.mark.parametrize(
    ("attribute", "name"),
    [
        ("ledger_table", "LEDGER_TABLE"),
        ("state_table", "STATE_TABLE"),
        ("provisioning_bucket", "PROVISIONING_BUCKET"),
        ("deactivation_state_machine_arn", "DEACTIVATION_STATE_MACHINE_ARN"),
        ("provisioning_state_machine_arn", "PROVISIONING_STATE_MACHINE_ARN"),
        ("reconciliation_state_machine_arn", "RECONCILIATION_STATE_MACHINE_ARN"),
        ("event_hook_secret_id", "EVENT_HOOK_SECRET_ID"),
    ],
)
def test_a_variable_a_function_needs_is_named_when_missing(attribute, name):
    with pytest.raises(ConfigurationError, match=f"^environment variable {name} is not set$"):
        Settings.from_env({}).require(attribute)
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: ""}).require(attribute)
    value = ARN if attribute.endswith("_arn") else "the-value"
    assert Settings.from_env({name: value}).require(attribute) == value


def test_state_machine_arns_in_any_partition_and_region():
    for arn in (ARN, "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:Sync"):
        assert Settings.from_env({"DEACTIVATION_STATE_MACHINE_ARN": arn}).deactivation_state_machine_arn == arn


def test_the_error_quotes_a_bounded_part_of_the_value():
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env({"PROVISIONING_BATCH_SIZE": "9" * 200})
    assert len(str(raised.value)) < 160


def test_settings_are_read_once_per_container(monkeypatch):
    monkeypatch.setenv("LEDGER_TABLE", "ledger-1")
    container.new_container()
    first = settings.current()
    monkeypatch.setenv("LEDGER_TABLE", "ledger-2")
    assert settings.current() is first and first.ledger_table == "ledger-1"  # a warm container keeps them
    container.new_container()  # a cold start (the test bed's simulated one) reads the environment again
    assert settings.current().ledger_table == "ledger-2"
    container.new_container()


def test_a_malformed_environment_fails_when_read_not_when_imported(monkeypatch):
    monkeypatch.setenv("PROVISIONING_BATCH_SIZE", "lots")
    container.new_container()
    with pytest.raises(ConfigurationError, match="PROVISIONING_BATCH_SIZE"):
        settings.current()
    monkeypatch.setenv("PROVISIONING_BATCH_SIZE", "10")
    assert settings.current().provisioning_policy.batch_size == 10  # a failed read is not cached
    container.new_container()


def test_settings_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().ledger_table = "other"  # type: ignore[misc]
