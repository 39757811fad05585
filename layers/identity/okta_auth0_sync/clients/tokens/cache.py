"""The shared token cache: one token per connection for every warm container.

Two tiers:

1. process memory (the container's own copy);
2. a DynamoDB item per connection, shared by all containers and functions
   (:mod:`okta_auth0_sync.store.token_table` reads and writes it).

N concurrent functions therefore mint about one token per token lifetime, not N: a container
that finds no fresh token takes a short lease (a conditional put) before minting; the others use
the still-valid old token or wait briefly for the leaseholder's new one, and mint themselves only
if the leaseholder seems gone (availability over strictness).

A minter that says ``exclusive = True`` (the Okta refresh-token grant, whose rotated refresh token
must never be used by two containers) is never run without the lease: the others use the
still-valid old token, or wait for the holder's new one (and take the lease themselves once it
is free), and after :data:`EXCLUSIVE_WAIT_SECONDS` fail with a retryable error rather than mint.
It mints through ``mint_fenced(lease)``, and may ask ``lease.confirm()`` (am I still the holder?)
before it stores anything.

The token never leaves the library in clear: the DynamoDB item holds it encrypted with AES-GCM
under a key derived (HKDF) from the connection's own secret, so reading the table alone yields
nothing, and rotating the secret invalidates the cached token. Nothing here logs a token; the
mint handler returns only a reference and the expiry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from okta_auth0_sync.base import container, counters
from okta_auth0_sync.base.errors import UpstreamUnavailable
from okta_auth0_sync.base.logs import logger as log
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.store.token_table import SealedToken, TokenTable

LEASE_SECONDS = 10
PEER_WAIT_SECONDS = 3.0
EXCLUSIVE_WAIT_SECONDS = 25.0  # an exclusive minter's lease holder may be slow; wait, never mint twice


class Minter(Protocol):
    @property
    def cache_key(self) -> str: ...

    def mint(self) -> AccessToken: ...

    def secret_material(self) -> bytes: ...


class _Lease:
    """The lease a holder minted under, for an exclusive minter's ``confirm()``."""

    def __init__(self, table: TokenTable, key: str, holder: str, clock: Callable[[], float], seconds: float) -> None:
        self._table, self._key, self._holder, self._clock, self._seconds = table, key, holder, clock, seconds

    def confirm(self) -> bool:
        return self._table.confirm_lease(self._key, self._holder, now=self._clock(), seconds=self._seconds)


class _Sealer:
    """AES-GCM under a key derived from the connection secret; associated data = cache key."""

    def __init__(self, material: bytes, cache_key: str) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"okta-auth0-sync/token-cache/v1", info=cache_key.encode()
        ).derive(material)
        self._aead = AESGCM(key)
        self._aad = cache_key.encode()

    def seal(self, payload: dict[str, Any]) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, json.dumps(payload).encode(), self._aad)

    def open(self, blob: bytes) -> dict[str, Any] | None:
        from cryptography.exceptions import InvalidTag

        try:
            payload: dict[str, Any] = json.loads(self._aead.decrypt(blob[:12], blob[12:], self._aad))
        except (InvalidTag, ValueError):
            return None  # another secret (rotated) or a damaged item: a miss
        return payload


class TokenCache:
    def __init__(
        self,
        table_name: str | None = None,
        *,
        refresh_margin: float = 300.0,
        dynamodb: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self.refresh_margin = refresh_margin
        self._table = TokenTable(table_name, dynamodb) if table_name else None  # dynamodb: its client
        self._clock = clock
        self._sleep = sleep
        self._memory: dict[str, AccessToken] = {}
        self._sealers: dict[tuple[str, str], _Sealer] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- public ------------------------------------------------------------------------------
    def get_or_mint(self, minter: Minter) -> AccessToken:
        key = minter.cache_key
        token = self._memory.get(key)
        if token and token.fresh(self._clock(), self.refresh_margin):
            return token
        with self._key_lock(key):  # one minter per container at a time
            token = self._memory.get(key)
            if token and token.fresh(self._clock(), self.refresh_margin):
                return token
            return self._refresh(minter, stale=token)

    def invalidate(self, minter: Minter, token: AccessToken) -> None:
        """A token was rejected (401): forget it here and in the shared tier, unless it was
        already replaced by a newer one."""
        key = minter.cache_key
        if self._memory.get(key) == token:
            del self._memory[key]
        if self._table is None:
            return
        try:
            self._table.delete(key, minted_at=token.minted_at)  # False: already replaced
        except Exception as exc:
            log.warning("token cache: could not invalidate shared entry", extra={"error": type(exc).__name__})

    # -- tiers --------------------------------------------------------------------------------
    def _refresh(self, minter: Minter, stale: AccessToken | None) -> AccessToken:
        if getattr(minter, "exclusive", False) and self._table is not None:
            return self._refresh_exclusive(minter, stale, self._table)
        key = minter.cache_key
        shared = self._read(minter)
        if shared and shared.fresh(self._clock(), self.refresh_margin):
            self._memory[key] = shared
            return shared
        table = self._table
        if table is None:
            return self._mint(minter)
        holder = str(uuid.uuid4())
        if self._take_lease(table, key, holder):
            try:
                shared = self._read(minter)  # a peer may have finished just before our lease
                if shared and shared.fresh(self._clock(), self.refresh_margin):
                    self._memory[key] = shared
                    return shared
                token = self._mint(minter)
                self._write(table, minter, token)
                return token
            finally:
                with contextlib.suppress(Exception):  # the lease expires by itself
                    table.release_lease(key, holder)
        # A peer is minting. A still-valid token is good enough meanwhile.
        fallback = max(
            (t for t in (stale, shared) if t and t.usable(self._clock())), key=lambda t: t.expires_at, default=None
        )
        if fallback:
            return fallback
        waited, pause = 0.0, 0.05
        while waited < PEER_WAIT_SECONDS:
            self._sleep(pause)
            waited += pause
            pause = min(pause * 1.6, 0.5)
            shared = self._read(minter)
            if shared and shared.fresh(self._clock(), self.refresh_margin):
                self._memory[key] = shared
                return shared
        log.warning("token cache: lease holder did not publish a token; minting here")
        token = self._mint(minter)
        self._write(table, minter, token)
        return token

    def _refresh_exclusive(self, minter: Minter, stale: AccessToken | None, table: TokenTable) -> AccessToken:
        """Mint only under the lease; otherwise a valid old token, or the holder's new one."""
        key = minter.cache_key
        seconds = float(getattr(minter, "lease_seconds", LEASE_SECONDS))
        remaining = container.remaining_seconds()
        budget = EXCLUSIVE_WAIT_SECONDS if remaining is None else max(0.0, min(EXCLUSIVE_WAIT_SECONDS, remaining - 3))
        waited, pause = 0.0, 0.05
        while True:
            shared = self._read(minter)
            if shared and shared.fresh(self._clock(), self.refresh_margin):
                self._memory[key] = shared
                return shared
            holder = str(uuid.uuid4())
            if self._take_lease(table, key, holder, seconds):
                try:
                    shared = self._read(minter)  # published between our read and our lease
                    if shared and shared.fresh(self._clock(), self.refresh_margin):
                        self._memory[key] = shared
                        return shared
                    token = self._mint(minter, _Lease(table, key, holder, self._clock, seconds))
                    self._write(table, minter, token)
                    return token
                finally:
                    with contextlib.suppress(Exception):
                        table.release_lease(key, holder)
            fallback = max(
                (t for t in (stale, shared) if t and t.usable(self._clock())), key=lambda t: t.expires_at, default=None
            )
            if fallback:
                return fallback
            if waited >= budget:
                raise UpstreamUnavailable(
                    f"another container holds the token lease of {key.split('#', 1)[0]} and published no token "
                    f"within {waited:.0f} s; retry",
                    tenant=key.split("#", 1)[0],
                )
            self._sleep(pause)
            waited += pause
            pause = min(pause * 1.6, 0.5)

    def _mint(self, minter: Minter, lease: _Lease | None = None) -> AccessToken:
        token = minter.mint_fenced(lease) if lease is not None else minter.mint()  # type: ignore[attr-defined]
        counters.tokens_minted.record(minter.cache_key)
        self._memory[minter.cache_key] = token
        log.info(
            "token minted", extra={"connection": minter.cache_key.split("#", 1)[0], "expires_at": token.expires_iso()}
        )
        return token

    def _read(self, minter: Minter) -> AccessToken | None:
        if self._table is None:
            return None
        try:
            sealed = self._table.read(minter.cache_key)
        except Exception as exc:
            log.warning("token cache: read failed", extra={"error": type(exc).__name__})
            return None
        if not sealed:
            return None
        payload = self._sealer(minter).open(sealed.ciphertext)
        if not payload:
            return None
        return AccessToken(
            value=payload["access_token"],
            token_type=sealed.token_type,
            expires_at=sealed.expires_at,
            scope=sealed.scope,
            minted_at=sealed.minted_at,
            dpop_jwk=payload.get("dpop_jwk"),
        )

    def _write(self, table: TokenTable, minter: Minter, token: AccessToken) -> None:
        blob = self._sealer(minter).seal({"access_token": token.value, "dpop_jwk": token.dpop_jwk})
        sealed = SealedToken(blob, token.token_type, token.expires_at, token.minted_at, token.scope)
        try:
            table.write(minter.cache_key, sealed)
        except Exception as exc:
            log.warning("token cache: write failed", extra={"error": type(exc).__name__})

    def _take_lease(self, table: TokenTable, key: str, holder: str, seconds: float | None = None) -> bool:
        """``seconds`` given (an exclusive minter): a lease that cannot be taken is an error, never
        a mint without it."""
        try:
            return table.take_lease(key, holder, now=self._clock(), seconds=seconds or LEASE_SECONDS)
        except Exception as exc:
            if seconds is not None:
                raise UpstreamUnavailable(
                    f"the token lease cannot be taken ({type(exc).__name__}); retry", tenant=key.split("#", 1)[0]
                ) from None
            log.warning("token cache: lease failed; minting without it", extra={"error": type(exc).__name__})
            return True

    # -- plumbing -----------------------------------------------------------------------------
    def _sealer(self, minter: Minter) -> _Sealer:
        material = minter.secret_material()
        fingerprint = hashlib.sha256(material).hexdigest()
        sealer = self._sealers.get((minter.cache_key, fingerprint))
        if sealer is None:
            sealer = self._sealers[(minter.cache_key, fingerprint)] = _Sealer(material, minter.cache_key)
        return sealer

    def _key_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class TokenSource:
    """The current token of one connection, through the cache."""

    def __init__(self, minter: Minter, cache: TokenCache) -> None:
        self.minter = minter
        self.cache = cache
        self._last: AccessToken | None = None

    def current(self) -> AccessToken:
        self._last = self.cache.get_or_mint(self.minter)
        return self._last

    def invalidate(self) -> None:
        if self._last is not None:
            self.cache.invalidate(self.minter, self._last)
            self._last = None
