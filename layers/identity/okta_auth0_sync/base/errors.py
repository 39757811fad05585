"""Typed errors. Every message is written for the person who has to fix the problem and is safe
to log: no secret, token or assertion ever goes into an error.

Step Functions matches a Lambda error on the exception's class name, so these names are part of
the state machines' contract (``Retry`` on ``RateLimited``/``UpstreamUnavailable``, fail fast on
the others).
"""

from __future__ import annotations

import json
from typing import Any, TypedDict, Unpack


class SyncError(Exception):
    """Base class of every error raised by this library."""

    retryable = False
    metric: str | None = None  # a metric the handler publishes (count 1) when it fails with this error


class ConfigurationError(SyncError):
    """A secret or setting is missing or malformed. Retrying will not help; fix the configuration."""


class InvalidInput(SyncError):
    """The caller sent something this package cannot process (bad event, missing id)."""


class UpstreamDetails(TypedDict, total=False):
    """The keyword arguments every :class:`UpstreamError` takes (error mappers build them once)."""

    tenant: str
    status: int | None
    code: str | None
    request_id: str | None


class UpstreamError(SyncError):
    """An Okta or Auth0 call failed. Carries what an operator needs to correlate it."""

    def __init__(
        self,
        message: str,
        *,
        tenant: str = "",
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.tenant = tenant
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        details = [
            f"{k}={v}" for k, v in (("status", self.status), ("code", self.code), ("request_id", self.request_id)) if v
        ]
        base = super().__str__()
        return f"{base} ({', '.join(details)})" if details else base


class AuthenticationFailed(UpstreamError):
    """The token endpoint rejected our client credentials (invalid_client, access_denied...)."""


class TokenRejected(UpstreamError):
    """An API rejected the access token even after a fresh one was minted (E0000011, 401)."""


class PermissionDenied(UpstreamError):
    """403: the token lacks a scope or the app lacks an admin role. The message names what is missing."""

    def __init__(self, message: str, *, missing_scope: str | None = None, **kwargs: Unpack[UpstreamDetails]) -> None:
        super().__init__(message, **kwargs)
        self.missing_scope = missing_scope


class NotFound(UpstreamError):
    """The resource does not exist (Okta E0000007, Auth0 404)."""


class AlreadyExists(UpstreamError):
    """Okta E0000001 on a unique field (a user with this login already exists)."""


class RequestRejected(UpstreamError):
    """A 4xx that retrying cannot fix (validation errors and the like)."""


class UserStatusConflict(RequestRejected):
    """Okta E0000038 (a 403): the operation is not allowed in the user's current status. Not a
    permission problem: usually a concurrent call already moved the user (two executions
    deactivating one user at once), so the caller re-reads the status and decides."""


class ConsentRequired(UpstreamError):
    """The Okta authorization-code connection has no usable refresh token: never consented, or
    Okta refused it (``invalid_grant``: reuse detected and the family revoked, 90 days passed, an
    admin revoked it). Nothing retries this; an admin re-runs the consent command."""

    metric = "OktaConsentRequired"


class DpopRequired(UpstreamError):
    """Okta requires DPoP for this app (invalid_dpop_proof / dpop_proof_required)."""


class RateLimited(UpstreamError):
    """429 that outlasted the retries this invocation could afford. Safe to retry later."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Unpack[UpstreamDetails]) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamUnavailable(UpstreamError):
    """5xx, timeouts, dropped connections that outlasted the retries. Safe to retry later."""

    retryable = True


def cause_message(cause: str | None) -> str | None:
    """The ``errorMessage`` inside a Step Functions error cause (a Lambda error is reported as a
    JSON document), or the cause itself when it is not one."""
    if not cause:
        return None
    try:
        document = json.loads(cause)
    except (TypeError, ValueError):
        return cause
    return str(document.get("errorMessage", cause)) if isinstance(document, dict) else cause


def shown(value: Any, limit: int) -> str:
    """How an input's value is shown in an error or a log line: a string cut to ``limit``
    characters, anything else by its type's name (str() of a list or object nested a few hundred
    deep raises RecursionError, and the value could be large)."""
    return value[:limit] if isinstance(value, str) else type(value).__name__
