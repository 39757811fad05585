"""Shared helpers of the sandbox conformance suite: fixture ids, assertion and DPoP proof
builders, and a tiny event-hook receiver."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from okta_auth0_sync.jose.keys import load_private_key
from okta_auth0_sync_sandbox.jose import access_token_hash, public_jwk

# -- ids from sandbox/fixtures/default.json ---------------------------------------------------
OKTA = SimpleNamespace(
    admin="00uPlZmrJO86f9L7M1Oe",
    ada="00uZPx7YubxGT9rKLiKE",
    grace="00uieg27N0mAaWp92N5J",
    alan="00uqJAREw79CC9u20SU4",
    katherine="00u618UzPIuPE4LppoR8",
    priya="00ue4eScyR1FYOcoldsi",
    margaret="00urKVxipUP0ZKNxZ7SQ",
    edsger="00uYPKBrP1173YMjH7Rc",
    everyone="00gXMyFK3syTRIpUYpad",
    partners="00gU18bXbD9XEKxR56aB",
    engineering="00gsKoA3Q3HOtaVxCrDq",
    app="0oaOKNNcFC2APG9zdPRV",
    dpop_app="0oaYoXWx2ogsxqG1E9Ef",
    readonly_app="0oalbMwW7Tcc6xBzcL0S",
    auth_server="aus7gqIzvk6Dnq4hJmNN",
    as_provisioner="0oabYUhipmwHHBbfbCZx",
    as_reader="0oaHYRwMpRmODADM8Ykh",
    as_dpop="0oagKggGd4S4wY4bdobX",
    scopes=["okta.users.read", "okta.users.manage", "okta.groups.read", "okta.groups.manage", "okta.logs.read"],
)
AUTH0 = SimpleNamespace(
    ada="auth0|5df05339f1861a9587ec7a5a",
    ada_okta="okta|okta-workforce|00uZPx7YubxGT9rKLiKE",
    grace="auth0|c7d4c9e39de14f953e9cd582",
    priya="auth0|c9aa6c7760952e8fc5892901",
    sam="auth0|33119ab0b2cba2fac809594b",
    mia="auth0|d000935ded2e1555796ce85c",
    anon="auth0|738f1220a6054c911a07d971",
    blocked="auth0|c1b4eb343a68d472c204ce6b",
    noah="google-oauth2|144388474300177161134",
    lee="samlp|acme-saml|lee.chen@partner.example",
    partner_role="rol_rRVnAbarjZsuC2Xn",
    admin_role="rol_JLU9bRONfMBQAgNI",
    client="luUzrF3YzNGBlxHPqRetDe5OQ4hCgbPj",
    readonly_client="1LNojA4rDEqKRRUKxXz6jRd7lj8gZjU1",
    jwt_client="mHKxJKxilaMvP8lTOQgDK5P3xdWCwlQD",
    api_client="0DTLRfW3qVPU5NJlXB6JcW5PisDkGHx5",
    limited_client="dGYjumzbPYWdzmIi4JTKup2RmE8cbVK2",  # update scopes, no session/refresh/device scopes
    spa="LztDVY9R212AykDbFmfI0uh5j3jHT1Bk",  # public client (token_endpoint_auth_method none)
    api="https://api.okta-auth0-sync.test/",
)
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def okta_assertion(
    key_pem: str,
    client_id: str,
    aud: str,
    *,
    kid: str | None = None,
    alg: str = "RS256",
    now: float | None = None,
    **claims: Any,
) -> str:
    now = time.time() if now is None else now
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": int(now),
        "exp": int(now) + 300,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    headers = {"kid": kid} if kid else {}
    # The library's loader keeps each parsed key (parsing an RSA key checks it: milliseconds a call).
    key = load_private_key(key_pem) if alg.startswith(("RS", "PS")) else key_pem
    return jwt.encode(payload, key, alg, headers)


def token_form(assertion: str, scope: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
    }


class DPoPKey:
    """An EC P-256 DPoP key that makes proofs."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = {k: v for k, v in public_jwk(self.private).items() if k in ("kty", "crv", "x", "y")}

    def proof(
        self,
        htm: str,
        htu: str,
        *,
        nonce: str | None = None,
        token: str | None = None,
        iat: float | None = None,
        typ: str = "dpop+jwt",
        jwk: dict[str, Any] | None = None,
        jti: str | None = None,
        **claims: Any,
    ) -> str:
        payload: dict[str, Any] = {
            "htm": htm,
            "htu": htu,
            "iat": int(time.time() if iat is None else iat),
            "jti": jti or str(uuid.uuid4()),
        }
        if nonce:
            payload["nonce"] = nonce
        if token:
            payload["ath"] = access_token_hash(token)
        payload.update(claims)
        return jwt.encode(payload, self.private, algorithm="ES256", headers={"typ": typ, "jwk": jwk or self.jwk})


class HookReceiver:
    """A tiny endpoint that answers Okta's verification GET and records POSTs.

    ``responses`` is a queue of ``(status, delay_seconds)`` for the next POSTs
    (default ``(204, 0)``)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.requests: list[dict[str, Any]] = []
        self.responses: list[tuple[int, float]] = []
        self.verify_status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if body:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                receiver.requests.append({"method": "GET", "headers": dict(self.headers)})
                if self.headers.get("Authorization") != receiver.secret:
                    self._reply(401)
                    return
                challenge = self.headers.get("X-Okta-Verification-Challenge", "")
                self._reply(receiver.verify_status, json.dumps({"verification": challenge}).encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, delay = receiver.responses.pop(0) if receiver.responses else (204, 0.0)
                receiver.requests.append({"method": "POST", "headers": dict(self.headers), "body": json.loads(body)})
                if delay:
                    time.sleep(delay)
                with contextlib.suppress(OSError):  # the sandbox may have timed out already
                    self._reply(status)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/okta/events"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def auth0_api(sb: Any, path: str) -> str:
    """The sandbox Auth0's Management API URL for ``path`` (``/users``...)."""
    return f"{sb.auth0.base_url}/api/v2{path}"


def management_session(sb: Any, name: str, scopes: tuple[str, ...]) -> Any:
    """A Management API session of a new M2M application (an operator's, not the sync's) on the
    sandbox Auth0: ``base`` (the API's URL), ``client_id`` and ``secret`` set on it."""
    import requests

    client = sb.auth0.register_client(name=name, management_scopes=scopes)
    secret = sb.auth0.register_client_secret(client.client_id)
    token = requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
            "audience": sb.auth0.management_audience,
        },
        timeout=10,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.base = f"{sb.auth0.base_url}/api/v2"  # type: ignore[attr-defined]
    session.client_id = client.client_id  # type: ignore[attr-defined]
    session.secret = secret  # type: ignore[attr-defined]
    return session
