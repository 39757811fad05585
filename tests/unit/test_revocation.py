"""Ending access: which Auth0 endpoints a tenant has is learnt from its answers, never guessed."""

import pytest

from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import NotFound, PermissionDenied, RequestRejected
from okta_auth0_sync.domain.identities import Auth0User
from okta_auth0_sync.domain.policies import RevocationPolicy
from okta_auth0_sync.services.lookup import auth0_users_for_email
from okta_auth0_sync.services.revocation import AccessRevoker


class FakeAuth0:
    """Answers like a tenant: ``enterprise`` as the answer of the Enterprise endpoints."""

    def __init__(self, enterprise=None, credentials=("dcr_1", "dcr_2")):
        self.enterprise, self.credentials, self.calls = enterprise, list(credentials), []

    def delete_user_sessions(self, user_id):
        self.calls.append(("sessions", user_id))
        if self.enterprise:
            raise self.enterprise

    def delete_user_refresh_tokens(self, user_id):
        self.calls.append(("refresh-tokens", user_id))
        if self.enterprise:
            raise self.enterprise

    def refresh_token_credential_ids(self, user_id):
        self.calls.append(("list", user_id))
        return self.credentials

    def delete_device_credential(self, credential_id):
        self.calls.append(("delete", credential_id))


@pytest.fixture(autouse=True)
def new_container():
    container.new_container()  # what the plan probe remembers lives per container
    yield
    container.new_container()


PLAN_LACKS_IT = [
    PermissionDenied("This feature is not enabled for this tenant.", code="feature_not_enabled"),
    NotFound("Auth0: Not Found", status=404),  # a tenant that does not serve the route at all
]


def test_enterprise_endpoints_revoke_everything_in_two_calls():
    auth0 = FakeAuth0()
    assert AccessRevoker(auth0, RevocationPolicy()).revoke("auth0|1") == {
        "sessions": "revoked",
        "refresh_tokens": "revoked",
    }
    assert auth0.calls == [("sessions", "auth0|1"), ("refresh-tokens", "auth0|1")]


@pytest.mark.parametrize("answer", PLAN_LACKS_IT)
def test_a_plan_without_them_falls_back_to_device_credentials_and_probes_once(answer):
    auth0 = FakeAuth0(enterprise=answer)
    revoker = AccessRevoker(auth0, RevocationPolicy())
    for user in ("auth0|1", "auth0|2"):
        assert revoker.revoke(user) == {"sessions": "unsupported_plan", "refresh_tokens": "revoked"}
    assert auth0.calls == [
        ("sessions", "auth0|1"),  # the one probe of this container
        ("list", "auth0|1"), ("delete", "dcr_1"), ("delete", "dcr_2"),
        ("list", "auth0|2"), ("delete", "dcr_1"), ("delete", "dcr_2"),
    ]  # fmt: skip


@pytest.mark.parametrize("answer", [
    PermissionDenied("Insufficient scope, expected any of: delete:sessions", missing_scope="delete:sessions",
                     code="insufficient_scope"),
    NotFound("Auth0: User not found", status=404, code="inexistent_user"),
])  # fmt: skip
def test_a_missing_scope_or_user_is_raised_not_mistaken_for_a_plan(answer):
    with pytest.raises(type(answer)):
        AccessRevoker(FakeAuth0(enterprise=answer), RevocationPolicy()).revoke("auth0|1")


def test_each_part_can_be_off():
    auth0 = FakeAuth0()
    assert AccessRevoker(auth0, RevocationPolicy(sessions=False, refresh_tokens=False)).revoke("auth0|1") == {
        "sessions": "off",
        "refresh_tokens": "off",
    }
    assert auth0.calls == []


class ExactOnly:
    """users-by-email answers; the search is refused (a tenant or proxy that does not allow it)."""

    def users_by_email(self, email, fields):
        return [Auth0User(user_id="auth0|db", email=email)] if email == email.lower() else []

    def user_ids_by_email_search(self, email):
        raise RequestRejected("Auth0 rejected the request (invalid_query_string)", status=400)


def test_a_refused_search_still_returns_the_exact_matches():
    assert [u.user_id for u in auth0_users_for_email(ExactOnly(), "Ada@Acme.example")] == ["auth0|db"]
