"""``okta-auth0-sync consent`` against the sandbox Okta: the CLI's loopback listener receives the
redirect the sandbox issues (a "browser" that follows it, after a test-only admin sign-in), the
code is exchanged with PKCE, the refresh token lands in the secret file, never in the output."""

import json
import socket
import threading

import pytest
import requests

from okta_auth0_sync.clients.tokens.okta_web import OktaWebApp
from okta_auth0_sync.runtime.connections import http_client
from okta_auth0_sync.settings import OktaConnection
from okta_auth0_sync.store.refresh_tokens import FileVault
from okta_auth0_sync_cli.main import main
from okta_auth0_sync_sandbox import runner as sandbox_runner

ADMIN = "00uPlZmrJO86f9L7M1Oe"
SCOPES = ["okta.users.read", "okta.users.manage", "okta.groups.read", "okta.groups.manage"]


@pytest.fixture(scope="module")
def sb():
    tenants = sandbox_runner.start()
    yield tenants
    tenants.stop()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def secret_file(sb, tmp_path):
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    app = sb.okta.register_web_app(scopes=SCOPES, redirect_uris=[redirect])
    path = tmp_path / "okta.json"
    path.write_text(
        json.dumps(
            {
                "mode": "authorization_code",
                "domain": sb.okta.domain,
                "base_url": sb.okta.base_url,
                "client_id": app.client_id,
                "client_secret": sb.okta.register_client_secret(app.client_id),
                "scopes": SCOPES,
                "redirect_uri": redirect,
            }
        )
    )
    return path


@pytest.fixture
def browser(sb, monkeypatch):
    """``webbrowser.open``: the admin (signed in through the sandbox's test-only sign-in) approves;
    the browser follows Okta's redirect to the CLI's listener. ``forged`` first sends a callback
    with another state, as a hostile page could."""
    seen = {}

    def open_url(url, decision="approve", forged=False):
        def visit():
            sb.okta.sign_in(ADMIN, decision=decision)
            location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
            if forged:
                base = location.split("?")[0]
                seen["forged"] = requests.get(f"{base}?code=stolen&state=not-yours", timeout=5).status_code
            seen["callback"] = requests.get(location, timeout=5).status_code

        threading.Thread(target=visit, daemon=True).start()
        return True

    settings = {}
    monkeypatch.setattr("webbrowser.open", lambda url: open_url(url, **settings))
    return seen, settings


def test_consent_stores_the_refresh_token_and_never_prints_it(sb, secret_file, browser, capsys):
    seen, settings = browser
    settings["forged"] = True
    code = main(["consent", "--secret-file", str(secret_file), "--timeout", "10"])
    out, err = capsys.readouterr()
    assert code == 0, err
    stored = json.loads(secret_file.read_text())
    assert stored["refresh_token"] and stored["refresh_token"] not in out + err
    assert "eyJ" not in out + err
    assert "code_challenge_method=S256" in out and "offline_access" in out  # the URL to open
    shown = json.loads(out[out.index("{") :])
    assert shown["token_type"] == "Bearer" and "okta.users.manage" in shown["scope"]
    assert seen == {"forged": 400, "callback": 200}  # another state is refused, the wait goes on
    # the stored token works, rotates, and the new one is written back to the file
    connection = OktaConnection.from_secret(stored, str(secret_file))
    token = OktaWebApp(connection, http_client(connection), FileVault(secret_file)).mint()
    assert token.value and json.loads(secret_file.read_text())["refresh_token"] != stored["refresh_token"]


def test_a_refusal_is_a_clear_error_and_nothing_is_written(sb, secret_file, browser, capsys):
    _, settings = browser
    settings["decision"] = "deny"
    before = secret_file.read_text()
    code = main(["consent", "--secret-file", str(secret_file), "--timeout", "10"])
    _, err = capsys.readouterr()
    assert code == 2 and "access_denied" in err
    assert secret_file.read_text() == before


def test_no_answer_times_out(secret_file, capsys):
    code = main(["consent", "--secret-file", str(secret_file), "--no-browser", "--timeout", "0.1"])
    _, err = capsys.readouterr()
    assert code == 2 and "no answer from Okta" in err


def test_consent_is_only_for_the_authorization_code_mode(sb, tmp_path, capsys):
    path = tmp_path / "okta.json"
    path.write_text(json.dumps({"domain": sb.okta.domain, "api_token": "00abc"}))
    code = main(["consent", "--secret-file", str(path), "--no-browser", "--timeout", "1"])
    assert code == 2 and "authorization_code" in capsys.readouterr().err
