"""Okta refresh-token rotation across containers, simulated: many refreshes by concurrent
containers over (time-scaled) days, against the sandbox Okta's rotation, grace period and reuse
detection, with the real library (token cache + lease in moto DynamoDB, the refresh token in moto
Secrets Manager, the web-app minter over HTTP).

Each *round* moves a clock shared by the sandbox and every container past the cached access
token's refresh point (seeded at random: sometimes the old token is still usable, so the others
keep using it; sometimes it has expired, so they must wait for the new one), then every container
asks for a token at once. Exactly one refreshes. A seeded fraction of the refreshes *crash* the
holder between Okta's answer and the write of the new refresh token (no write, no lease release,
as when a Lambda dies): the next holder must get in with the old token inside Okta's grace period.

``run(...)`` returns the figures; the test asserts them (``tests/integration/
test_okta_refresh_rotation.py``) and ``python -m bench refresh_rotation`` prints them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from okta_auth0_sync.base import counters
from okta_auth0_sync.base.errors import SyncError
from okta_auth0_sync.clients.http import HttpClient
from okta_auth0_sync.clients.okta import okta_error
from okta_auth0_sync.clients.tokens.cache import TokenCache
from okta_auth0_sync.clients.tokens.okta_web import REFRESH_LEASE_SECONDS, OktaWebApp
from okta_auth0_sync.settings import OktaConnection
from okta_auth0_sync.store.refresh_tokens import SecretsManagerVault
from okta_auth0_sync.store.token_table import TokenTable

TABLE = "token-cache"
SECRET = "okta-connection"
REDIRECT = "http://127.0.0.1:8765/callback"
SCOPES = ["okta.users.read", "okta.users.manage", "okta.groups.read", "okta.groups.manage"]
ADMIN = "00uPlZmrJO86f9L7M1Oe"  # the fixture's super admin


class ContainerDied(BaseException):  # not an error anyone handles: the process is gone
    """Raised where a container is killed: nothing after it runs (no write, no lease release)."""


@dataclass
class Figures:
    refreshes: int = 0
    rounds: int = 0
    containers: int = 0
    token_requests: int = 0
    invalid_grant: int = 0
    crashes: int = 0
    used_old_token: int = 0
    errors: list[str] = field(default_factory=list)
    valid_refresh_tokens_at_end: int = -1
    secret_holds_the_valid_one: bool = False
    simulated_days: float = 0.0
    seconds: float = 0.0


def consent(sb: Any, client_id: str, client_secret: str) -> str:
    """The consent an admin gives once (sandbox sign-in, /authorize, code exchange): the first
    refresh token."""
    sb.okta.sign_in(ADMIN)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": " ".join([*SCOPES, "offline_access"]),
            "redirect_uri": REDIRECT,
            "state": "soak",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    location = requests.get(
        f"{sb.okta.base_url}/oauth2/v1/authorize?{query}", allow_redirects=False, timeout=10
    ).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    body = requests.post(
        f"{sb.okta.base_url}/oauth2/v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
        auth=(client_id, client_secret),
        timeout=10,
    ).json()
    return str(body["refresh_token"])


class _CrashingTable(TokenTable):
    """The container's view of the shared table: after its death it releases nothing."""

    died = False

    def release_lease(self, cache_key: str, holder: str) -> bool:
        if self.died:
            self.died = False
            return False
        return super().release_lease(cache_key, holder)


class _CrashingVault(SecretsManagerVault):
    def __init__(self, secret_id: str, client: Any, table: _CrashingTable, crash: Any) -> None:
        super().__init__(secret_id, client)
        self._table, self._crash = table, crash

    def write(self, data: dict[str, Any]) -> None:
        if self._crash():
            self._table.died = True
            raise ContainerDied
        super().write(data)


class Container:
    """One execution environment: its own memory tier, minter and HTTP session; the shared table
    and secret."""

    def __init__(self, sb: Any, connection: OktaConnection, aws: tuple[Any, Any], clock: Any, crash: Any) -> None:
        dynamodb, secretsmanager = aws
        # waiting for a peer takes real time (a fifth: moto is slower than DynamoDB); the clock moves
        # only between rounds and when a holder dies
        self.cache = TokenCache(TABLE, dynamodb=dynamodb, clock=clock, sleep=lambda s: time.sleep(s / 5))
        table = _CrashingTable(TABLE, dynamodb)
        self.cache._table = table  # the same table, seen through this container's fate
        vault = _CrashingVault(SECRET, secretsmanager, table, crash)
        http = HttpClient(connection.base_url, "okta", error_mapper=okta_error)
        self.minter = OktaWebApp(connection, http, vault, clock=clock)

    def token(self) -> Any:
        return self.cache.get_or_mint(self.minter)


def run(
    sb: Any,
    aws: tuple[Any, Any],
    clock: Any,
    *,
    refreshes: int = 1000,
    containers: int = 8,
    seed: int = 14,
    crash_rate: float = 0.02,
    crash_writes: tuple[int, ...] = (),
) -> Figures:
    """``aws`` = (DynamoDB client, Secrets Manager client), moto's, with the table and nothing
    else made; ``clock`` a FakeClock the sandbox also reads. A holder dies before its secret write
    with probability ``crash_rate``, and at the write attempts numbered in ``crash_writes`` (from 0)."""
    secretsmanager = aws[1]
    rng = random.Random(seed)
    started = time.perf_counter()
    app = sb.okta.register_web_app(name="okta-auth0-sync", scopes=SCOPES, redirect_uris=[REDIRECT])
    client_secret = sb.okta.register_client_secret(app.client_id)
    document = {
        "mode": "authorization_code",
        "domain": sb.okta.domain,
        "base_url": sb.okta.base_url,
        "client_id": app.client_id,
        "client_secret": client_secret,
        "scopes": SCOPES,
        "redirect_uri": REDIRECT,
        "refresh_token": consent(sb, app.client_id, client_secret),
    }
    secretsmanager.create_secret(Name=SECRET, SecretString=json.dumps(document))
    connection = OktaConnection.from_secret(document, SECRET)
    crash_lock = threading.Lock()
    figures = Figures(containers=containers)

    writes = iter(range(10**9))

    def crash() -> bool:
        with crash_lock:
            died = rng.random() < crash_rate or next(writes) in crash_writes
            figures.crashes += died
            return died

    fleet = [Container(sb, connection, aws, clock, crash) for _ in range(containers)]
    counters.api_calls.reset()
    begin = clock()
    family_start = _refreshes(sb, app.client_id)
    while _refreshes(sb, app.client_id) - family_start < refreshes and figures.rounds < 2 * refreshes + 10:
        figures.rounds += 1
        expired = rng.random() < 0.5
        clock.advance(3600 + rng.uniform(1, 600) if expired else 3600 - 300 + rng.uniform(1, 200))
        before = {id(c): c.cache._memory.get(connection.cache_key) for c in fleet}
        barrier = threading.Barrier(containers)
        results: dict[int, Any] = {}
        threads = [threading.Thread(target=_ask, args=(c, barrier, results, clock)) for c in fleet]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in fleet:
            outcome = results.get(id(c))
            if isinstance(outcome, Exception) or outcome is None:
                figures.errors.append(f"round {figures.rounds}: {type(outcome).__name__}: {outcome}")
            elif before[id(c)] is not None and outcome.minted_at == before[id(c)].minted_at:
                figures.used_old_token += 1
    figures.refreshes = _refreshes(sb, app.client_id) - family_start
    figures.token_requests = counters.api_calls.total("okta", route="/oauth2/v1/token")
    figures.invalid_grant = counters.api_calls.total("okta", route="/oauth2/v1/token", status=400)
    figures.simulated_days = (clock() - begin) / 86400
    clock.advance(app.refresh_leeway + 1)  # every grace period over
    figures.valid_refresh_tokens_at_end = sb.okta.grants.valid_refresh_tokens(app.client_id)
    stored = json.loads(secretsmanager.get_secret_value(SecretId=SECRET)["SecretString"])["refresh_token"]
    families = [f for f in sb.okta.grants.families.values() if f.client_id == app.client_id]
    figures.secret_holds_the_valid_one = any(
        f.current == hashlib.sha256(stored.encode()).hexdigest() and not f.revoked for f in families
    )
    figures.seconds = time.perf_counter() - started
    return figures


def _ask(container: Container, barrier: threading.Barrier, results: dict[int, Any], clock: Any) -> None:
    """One container's invocation, all at once with the others."""
    barrier.wait()
    for _ in range(5):  # a state machine's Retry on UpstreamUnavailable, or a new invocation
        try:
            results[id(container)] = container.token()
            return
        except ContainerDied:
            # Time passes before anyone notices (the dead holder's lease runs out); the next
            # invocation runs in a new container.
            clock.advance(REFRESH_LEASE_SECONDS + 1)
        except SyncError as exc:
            results[id(container)] = exc
            if not exc.retryable:
                return


def _refreshes(sb: Any, client_id: str) -> int:
    with sb.okta.grants.lock:
        return sum(f.refreshes for f in sb.okta.grants.families.values() if f.client_id == client_id)


def report(figures: Figures) -> str:
    return "\n".join(
        [
            f"Okta refresh-token rotation: {figures.refreshes:,} refreshes by {figures.containers} concurrent "
            f"containers in {figures.rounds:,} rounds over {figures.simulated_days:.1f} simulated days "
            f"({figures.seconds:.1f} s)",
            f"  token requests: {figures.token_requests:,} (invalid_grant: {figures.invalid_grant})",
            f"  holders killed between Okta's answer and the secret write: {figures.crashes} "
            "(each recovered by the next holder within the grace period)",
            f"  answers with the still-valid old token while a peer refreshed: {figures.used_old_token:,}",
            f"  errors seen by callers: {len(figures.errors)}",
            f"  valid refresh tokens at the end: {figures.valid_refresh_tokens_at_end} "
            f"(the secret holds it: {figures.secret_holds_the_valid_one})",
        ]
    )
