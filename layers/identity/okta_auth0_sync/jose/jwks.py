"""The issuer's signing keys (its JWKS) as a resource server keeps them: cached, refreshed once
they are :data:`JWKS_MAX_AGE` old or when a token names an unknown ``kid``, and kept serving
through an outage of the issuer.

- Fetch attempts, successful or not, are at most one per :data:`JWKS_MIN_REFETCH` seconds: a flood
  of made-up ``kid`` values, or an issuer that is down, never turns into a fetch per request.
- Stale-if-error: when a refresh fails, the keys last fetched keep serving until they are
  :data:`JWKS_STALE_IF_ERROR` old (the issuer's keys rotate rarely and with overlap); the failure
  is logged. With no keys that recent, :class:`JwksUnavailable` is raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from okta_auth0_sync.base.errors import SyncError, UpstreamUnavailable
from okta_auth0_sync.base.logs import logger as log

JWKS_MAX_AGE = 3600  # seconds before cached keys are refreshed
JWKS_MIN_REFETCH = 60  # seconds between two fetch attempts, whatever their reason or outcome
JWKS_STALE_IF_ERROR = 24 * 3600  # how old cached keys may get while refreshes fail


class JwksUnavailable(UpstreamUnavailable):
    """The issuer's JWKS cannot be fetched and no cached keys are recent enough to use."""


@dataclass
class _Jwks:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched_at: float | None = None  # the last successful fetch
    attempted_at: float | None = None  # the last fetch attempt, successful or not


class JwksCache:
    """The keys at ``jwks_uri``, by ``kid``. ``fetch`` returns the JWKS document (and raises when
    it cannot); ``clock`` is the time in seconds."""

    def __init__(self, jwks_uri: str, fetch: Callable[[str], dict[str, Any]], clock: Callable[[], float] = time.time):
        self.jwks_uri = jwks_uri
        self._fetch = fetch
        self._clock = clock
        self._state = _Jwks()
        self._lock = threading.Lock()

    def key(self, kid: str) -> dict[str, Any] | None:
        """The key ``kid`` names, or None when the issuer does not have it."""
        now = self._clock()
        with self._lock:
            if self._age(now) > JWKS_MAX_AGE and self._may_fetch(now):
                self._refresh(now)
            jwk = self._usable_keys(now).get(kid)
            if jwk is None and self._may_fetch(now):
                self._refresh(now)
                jwk = self._usable_keys(now).get(kid)
            return jwk

    def _age(self, now: float) -> float:
        return float("inf") if self._state.fetched_at is None else now - self._state.fetched_at

    def _may_fetch(self, now: float) -> bool:
        return self._state.attempted_at is None or now - self._state.attempted_at >= JWKS_MIN_REFETCH

    def _usable_keys(self, now: float) -> dict[str, dict[str, Any]]:
        if self._age(now) > JWKS_STALE_IF_ERROR:
            raise JwksUnavailable(f"the signing keys at {self.jwks_uri} cannot be fetched", tenant="okta")
        return self._state.keys

    def _refresh(self, now: float) -> None:
        self._state.attempted_at = now
        try:
            document = self._fetch(self.jwks_uri)
            keys = document.get("keys", []) if isinstance(document, dict) else None
            if not isinstance(keys, list):
                raise ValueError("the JWKS document has no keys list")
        except Exception as exc:  # any failure: keep what we have (see _usable_keys)
            age = self._age(now)
            log.warning(
                "JWKS refresh failed; serving the cached keys while they are recent enough",
                extra={
                    "jwks_uri": self.jwks_uri,
                    "error": type(exc).__name__,
                    # a SyncError's message is written to be logged; any other may quote a response
                    "detail": str(exc) if isinstance(exc, SyncError) else None,
                    "cached_keys_age": None if age == float("inf") else round(age),
                    "stale_if_error": JWKS_STALE_IF_ERROR,
                },
            )
            return
        self._state.keys = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
        self._state.fetched_at = now
