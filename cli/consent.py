"""``okta-auth0-sync consent``: the one-time consent of an Okta admin for the authorization_code
connection mode.

It prints (and opens, unless ``--no-browser``) the org authorization server's ``/authorize`` URL
with PKCE (S256), a random ``state`` and the connection's loopback ``redirect_uri``, listens on
that address, checks the callback's ``state`` (constant time; a callback with another state is
refused and the wait goes on), exchanges the code (the app's client secret or private_key_jwt;
DPoP when the connection says so, with a key kept in the secret), and writes the refresh token
into the connection secret (Secrets Manager or a file). The token is never printed or logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

PAGE = "<html><head><title>okta-auth0-sync</title></head><body><p>{}</p></body></html>"


class ConsentFailed(Exception):
    """The consent did not complete (refused, timed out): the message says why."""


class CallbackListener:
    """A one-shot HTTP listener on the loopback redirect URI."""

    def __init__(self, redirect_uri: str, state: str) -> None:
        parts = urlsplit(redirect_uri)
        self.path = parts.path or "/"
        self.state = state
        self.result: dict[str, str] | None = None
        self.refused = 0
        self._done = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code
                return

            def do_GET(self) -> None:
                status, message = listener.handle(self.path)
                body = PAGE.format(message).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        host = parts.hostname or "127.0.0.1"
        try:
            self.server = ThreadingHTTPServer((host, parts.port or 80), Handler)
        except OSError as exc:
            raise ConsentFailed(f"cannot listen on {host}:{parts.port}: {exc.strerror or exc}") from None
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def handle(self, target: str) -> tuple[int, str]:
        parts = urlsplit(target)
        if parts.path != self.path:
            return 404, "Not found."
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        state = query.get("state", "")
        if self._done.is_set() or not hmac.compare_digest(state.encode(), self.state.encode()):
            self.refused += 1  # not the answer to our request (forged, stale or repeated)
            return 400, "This sign-in response does not match the consent in progress."
        if "error" in query:
            self.result = {"error": query["error"][:100], "error_description": query.get("error_description", "")[:300]}
            self._done.set()
            return 200, "Consent was not given. You may close this window."
        if not query.get("code"):
            return 400, "The response has no authorization code."
        self.result = {"code": query["code"]}
        self._done.set()
        return 200, "Consent received: okta-auth0-sync stores the refresh token. You may close this window."

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            if not self._done.wait(timeout):
                raise ConsentFailed(
                    f"no answer from Okta within {timeout:.0f} s (sign in and approve in the browser, "
                    "or give a longer --timeout)"
                )
            assert self.result is not None
            return self.result
        finally:
            self.server.shutdown()
            self.server.server_close()


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge), RFC 7636: 86 unreserved characters, base64url SHA-256."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(connection: Any, state: str, challenge: str) -> str:
    query = urlencode(
        {
            "client_id": connection.client_id,
            "response_type": "code",
            "scope": " ".join([*connection.scopes, "offline_access"]),
            "redirect_uri": connection.redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{connection.base_url}/oauth2/v1/authorize?{query}"


def run(vault: Any, *, open_browser: bool, timeout: float, out: Any, err: Any) -> dict[str, Any]:
    """The whole consent; returns what to show (never a token)."""
    from okta_auth0_sync.clients.tokens.okta_web import OktaWebApp
    from okta_auth0_sync.jose.dpop import DpopKey
    from okta_auth0_sync.runtime.connections import http_client
    from okta_auth0_sync.settings import OktaConnection

    document = vault.read()
    connection = OktaConnection.from_secret(document, vault.where)
    if connection.mode != "authorization_code":
        raise ConsentFailed(
            f'{vault.where} is a {connection.mode} connection: consent is for "mode": "authorization_code" '
            "(a web app acting for an Okta admin; docs/okta-connection-modes.md)"
        )
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    listener = CallbackListener(connection.redirect_uri, state)
    url = authorize_url(connection, state, challenge)
    print("Sign in to Okta as the admin the sync will act for, and approve, at:", file=err)
    print(url, file=out, flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    started = time.monotonic()
    answer = listener.wait(timeout)
    if "error" in answer:
        raise ConsentFailed(f"Okta answered {answer['error']}: {answer['error_description']}")
    dpop = None
    if connection.dpop:
        dpop = DpopKey(connection.dpop_private_key) if connection.dpop_private_key else DpopKey.generate()
    grant = OktaWebApp(connection, http_client(connection), vault).exchange_code(answer["code"], verifier, dpop)
    if not grant.refresh_token:
        raise ConsentFailed(
            "Okta issued no refresh token: tick 'Refresh Token' in the app's grant types (offline_access was requested)"
        )
    updated = {k: v for k, v in document.items() if k != "refresh_token_revoked"}
    updated["refresh_token"] = grant.refresh_token
    if dpop is not None:
        updated["dpop_private_key"] = dpop.to_jwk()
    vault.write(updated)
    return {
        "stored_in": vault.where,
        "token_type": grant.access.token_type,
        "scope": grant.access.scope,
        "expires_in": int(grant.access.expires_at - grant.access.minted_at),
        "seconds": round(time.monotonic() - started, 1),
    }
