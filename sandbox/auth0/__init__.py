"""The Auth0 sandbox tenant (see :mod:`sandbox.auth0.tenant`)."""

from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant

__all__ = ["Auth0Tenant"]
