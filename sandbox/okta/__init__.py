"""The Okta sandbox tenant (see :mod:`sandbox.okta.tenant`)."""

from sandbox.okta.tenant import OktaTenant

__all__ = ["OktaTenant"]
