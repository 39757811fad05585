"""Ending a deactivated person's existing access in Auth0: sessions and refresh tokens.

``blocked: true`` stops new logins and refresh exchanges, but the docs do not promise that it
ends live sessions or deletes stored refresh tokens (an unblock would bring them back). So after
the block, for each account:

- **Enterprise tenants:** ``DELETE /api/v2/users/{id}/sessions`` and
  ``DELETE /api/v2/users/{id}/refresh-tokens`` (202, asynchronous).
- **Every plan:** refresh tokens through the device-credentials endpoints (both the
  ``refresh_token`` and the ``rotating_refresh_token`` types), deleted one by one (204). Sessions
  have no all-plan endpoint: the block and the Action stop them at their next ``/authorize``.

Which family a tenant has is found out once per container from the first answer: a 403 that is
not about a scope, or a 404 that is not about the user, means the plan lacks the endpoint
(reported as ``unsupported_plan``, never a failure). A 403 about a scope is a misconfiguration:
it is raised, and the execution fails naming the scope to grant.
"""

from __future__ import annotations

from collections.abc import Callable

from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import NotFound, PermissionDenied
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.domain.policies import RevocationPolicy

REVOKED, UNSUPPORTED, OFF = "revoked", "unsupported_plan", "off"

# Per container: does this tenant have the Enterprise session/refresh-token endpoints?
_enterprise_endpoints: dict[str, bool] = {}


@container.on_new_container
def _forget_plan() -> None:
    _enterprise_endpoints.clear()


def _plan_lacks_endpoint(exc: PermissionDenied) -> bool:
    return exc.missing_scope is None and (exc.code or "") != "insufficient_scope"


def _user_missing(exc: NotFound) -> bool:
    """Auth0's 404 for an unknown user (``inexistent_user``, "User not found"), as opposed to a
    route the tenant does not serve."""
    return exc.code == "inexistent_user" or "user not found" in str(exc).lower()


class AccessRevoker:
    """Revoke one account's sessions and refresh tokens, as far as the tenant's plan allows."""

    def __init__(self, auth0: Auth0Client, policy: RevocationPolicy, tenant_key: str = "auth0") -> None:
        self.auth0 = auth0
        self.policy = policy
        self.tenant_key = tenant_key

    def revoke(self, user_id: str) -> dict[str, str]:
        """``{"sessions": ..., "refresh_tokens": ...}``, each ``revoked``, ``unsupported_plan`` or
        ``off``. Raises :class:`PermissionDenied` when a scope is missing."""
        sessions = self._sessions(user_id) if self.policy.sessions else OFF
        tokens = self._refresh_tokens(user_id) if self.policy.refresh_tokens else OFF
        return {"sessions": sessions, "refresh_tokens": tokens}

    def _sessions(self, user_id: str) -> str:
        if _enterprise_endpoints.get(self.tenant_key) is False:
            return UNSUPPORTED
        return REVOKED if self._enterprise(self.auth0.delete_user_sessions, user_id) else UNSUPPORTED

    def _refresh_tokens(self, user_id: str) -> str:
        if _enterprise_endpoints.get(self.tenant_key) is not False and self._enterprise(
            self.auth0.delete_user_refresh_tokens, user_id
        ):
            return REVOKED
        for credential_id in self.auth0.refresh_token_credential_ids(user_id):
            self.auth0.delete_device_credential(credential_id)
        return REVOKED

    def _enterprise(self, call: Callable[[str], None], user_id: str) -> bool:
        """Call an Enterprise endpoint; False (and remembered) when the plan lacks it: a 403 that is
        not about a scope, or a 404 that is not about the user (the account was just read or
        written, so a 404 for the route itself means the tenant does not have it)."""
        try:
            call(user_id)
        except PermissionDenied as exc:
            if not _plan_lacks_endpoint(exc):
                raise
            _enterprise_endpoints[self.tenant_key] = False
            return False
        except NotFound as exc:
            if _user_missing(exc):
                raise
            _enterprise_endpoints[self.tenant_key] = False
            return False
        _enterprise_endpoints[self.tenant_key] = True
        return True
