"""The Okta sandbox tenant (see :mod:`sandbox.okta.tenant`)."""

from okta_auth0_sync_sandbox.okta.tenant import OktaTenant

__all__ = ["OktaTenant"]
