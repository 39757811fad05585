"""Provisioning's pure parts: profile mapping with fallbacks, options, run names, Auth0 paging."""

import pytest
import responses

from okta_auth0_sync.base.errors import ConfigurationError, InvalidInput
from okta_auth0_sync.clients.auth0 import Auth0Client, auth0_error, lucene_quote
from okta_auth0_sync.clients.http import HttpClient
from okta_auth0_sync.domain.policies import ProvisioningPolicy
from okta_auth0_sync.domain.profiles import okta_profile
from okta_auth0_sync.domain.provisioning import RoleGroupMapping, RunOptions
from okta_auth0_sync.services.provisioning.runs import execution_name
from okta_auth0_sync.settings import Settings

POLICY = ProvisioningPolicy()


@pytest.mark.parametrize(
    ("user", "first", "last"),
    [
        (
            {"email": "a@x.io", "user_metadata": {"firstName": "Ada", "lastName": "Lovelace"}, "given_name": "A"},
            "Ada",
            "Lovelace",
        ),
        ({"email": "a@x.io", "given_name": "Grace", "family_name": "Hopper"}, "Grace", "Hopper"),
        ({"email": "a@x.io", "name": "Lee  Chen Wu"}, "Lee", "Chen Wu"),
        ({"email": "a@x.io", "user_metadata": {"first_name": "Mia"}, "family_name": "Wong"}, "Mia", "Wong"),
    ],
)
def test_names_come_from_metadata_then_sensible_fallbacks(user, first, last):
    profile, problem = okta_profile(user, POLICY)
    assert problem is None
    assert (profile["firstName"], profile["lastName"]) == (first, last)
    assert profile["login"] == profile["email"] == "a@x.io"
    assert profile["auth0_mastered"] == "true"


@pytest.mark.parametrize(
    "user",
    [
        {"email": "a@x.io", "name": "a@x.io"},  # Auth0 database users get their e-mail as name
        {"email": "a@x.io", "name": "Cher"},
        {"email": "a@x.io", "user_metadata": {"firstName": "  "}},
    ],
)
def test_no_usable_name_is_a_reported_failure(user):
    profile, problem = okta_profile(user, POLICY)
    assert profile is None and "firstName" in problem


def test_invalid_email_is_reported():
    assert (
        okta_profile({"email": "not-an-email", "given_name": "A", "family_name": "B"}, POLICY)[1]
        == "email is not a valid address"
    )


def test_policy_from_env():
    policy = Settings.from_env(
        {
            "ACTIVATE_ON_CREATE": "false",
            "FEDERATED_USERS": "false",
            "MASTERED_ATTRIBUTE": "",
            "PROFILE_MAPPING": '{"login": ["username"]}',
        }
    ).provisioning_policy
    assert (policy.activate, policy.federated, policy.mastered_attribute) == (False, False, None)
    assert policy.profile_mapping["login"] == ["username"]
    assert policy.profile_mapping["firstName"][0] == "user_metadata.firstName"
    with pytest.raises(ConfigurationError, match="PROFILE_MAPPING"):
        Settings.from_env({"PROFILE_MAPPING": "{bad"})
    with pytest.raises(ConfigurationError, match="FEDERATED_USERS"):
        Settings.from_env({"FEDERATED_USERS": "maybe"})


def test_run_options_validation():
    options = RunOptions.from_payload({"role_id": "rol_abc", "group_id": "00gxyz", "run_id": "r-1", "dry_run": True})
    assert options.dry_run and not options.recheck
    assert options.mapping.key == "map#rol_abc#00gxyz"
    for bad in (
        {"role_id": "abc", "group_id": "00g1", "run_id": "r"},
        {"role_id": "rol_a", "group_id": "x", "run_id": "r"},
        {"role_id": "rol_a", "group_id": "00g1", "run_id": "r", "dry_run": "yes"},
        {"role_id": "rol_a", "group_id": "00g1", "run_id": "r", "recheck": 1},
        {"role_id": "rol_a", "group_id": "00g1", "run_id": "a run"},
        {"role_id": "rol_a", "group_id": "00g1"},
    ):
        with pytest.raises(InvalidInput):
            RunOptions.from_payload(bad)


def test_run_options_round_trip():
    """Every step of a run passes the ``run`` object on: what one step writes, the next reads."""
    options = RunOptions(RoleGroupMapping("rol_abc", "00gxyz"), "r-1", dry_run=True, recheck=True)
    assert options.to_payload() == {
        "role_id": "rol_abc",
        "group_id": "00gxyz",
        "run_id": "r-1",
        "dry_run": True,
        "recheck": True,
    }
    assert RunOptions.from_payload(options.to_payload()) == options


def test_run_names_are_deterministic_short_and_valid():
    mapping = RoleGroupMapping("rol_rRVnAbarjZsuC2Xn", "00gU18bXbD9XEKxR56aB")
    name = execution_name(mapping, "2026-11-23T09:00:00+10:00")
    assert name == "rol_rRVnAbarjZsuC2Xn-00gU18bXbD9XEKxR56aB-20261123T0900001000"
    assert execution_name(mapping, "2026-11-23T09:00:00+10:00") == name
    long = execution_name(RoleGroupMapping("rol_" + "a" * 60, "00g" + "b" * 40), "x")
    assert len(long) <= 80


def test_lucene_quoting_of_ids():
    assert lucene_quote('auth0|a"b\\c') == '"auth0|a\\"b\\\\c"'


@responses.activate
def test_role_members_follow_checkpoint_cursors_to_the_end():
    base = "https://acme.auth0.com/api/v2/roles/rol_x/users"
    responses.add(
        "GET",
        base,
        json={"users": [{"user_id": "u1"}, {"user_id": "u2"}], "next": "c1"},
        match=[responses.matchers.query_param_matcher({"take": "2"})],
    )
    responses.add(
        "GET",
        base,
        json={"users": [{"user_id": "u3"}], "next": "c2"},
        match=[responses.matchers.query_param_matcher({"take": "2", "from": "c1"})],
    )
    responses.add(
        "GET", base, json={"users": []}, match=[responses.matchers.query_param_matcher({"take": "2", "from": "c2"})]
    )
    client = Auth0Client(HttpClient("https://acme.auth0.com", "auth0", error_mapper=auth0_error))
    assert list(client.role_member_ids("rol_x", take=2)) == ["u1", "u2", "u3"]


@responses.activate
def test_profiles_in_batched_searches_with_fallback_for_unindexed_users():
    responses.add(
        "GET",
        "https://acme.auth0.com/api/v2/users",
        json={"users": [{"user_id": "auth0|1", "email": "a@x.io"}], "start": 0, "limit": 2, "length": 1, "total": 1},
    )
    responses.add("GET", "https://acme.auth0.com/api/v2/users/auth0%7C2", json={"user_id": "auth0|2"})
    client = Auth0Client(HttpClient("https://acme.auth0.com", "auth0", error_mapper=auth0_error))
    found = client.users_by_id(["auth0|1", "auth0|2"])
    assert sorted(found) == ["auth0|1", "auth0|2"]
    query = responses.calls[0].request.params["q"]
    assert query == 'user_id:("auth0|1" OR "auth0|2")'
    assert responses.calls[0].request.params["search_engine"] == "v3"


@pytest.mark.parametrize(
    ("user", "trusted"),
    [
        ({"email_verified": True, "identities": [{"connection": "Username-Password-Authentication"}]}, True),
        ({"email_verified": False, "identities": [{"connection": "Username-Password-Authentication"}]}, False),
        ({"identities": [{"connection": "Username-Password-Authentication"}]}, False),
        ({"email_verified": "true", "identities": []}, False),  # only the JSON true counts
        ({"email_verified": False, "identities": [{"connection": "acme-saml"}]}, True),  # declared connection
        ({"email_verified": False, "identities": "acme-saml"}, False),
    ],
)
def test_an_email_is_trusted_only_when_verified_or_from_a_declared_connection(user, trusted):
    policy = ProvisioningPolicy(verified_email_connections=frozenset({"acme-saml"}))
    assert policy.trusts_email_of(user) is trusted


def test_verified_email_connections_from_the_environment():
    env = {"VERIFIED_EMAIL_CONNECTIONS": "acme-saml, google-oauth2"}
    assert Settings.from_env(env).provisioning_policy.verified_email_connections == {"acme-saml", "google-oauth2"}
    assert Settings.from_env({}).provisioning_policy.verified_email_connections == frozenset()
    with pytest.raises(ConfigurationError, match="VERIFIED_EMAIL_CONNECTIONS"):
        Settings.from_env({"VERIFIED_EMAIL_CONNECTIONS": "acme saml"})
