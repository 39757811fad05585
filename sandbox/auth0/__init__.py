"""The Auth0 sandbox tenant (see :mod:`sandbox.auth0.tenant`)."""

from sandbox.auth0.tenant import Auth0Tenant

__all__ = ["Auth0Tenant"]
