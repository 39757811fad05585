"""Shared machinery: rate limits, faults, call log, admin endpoints, HTTP plumbing, CLI."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

import okta_auth0_sync_sandbox as sandbox
from okta_auth0_sync_sandbox.__main__ import build_parser, launch
from okta_auth0_sync_sandbox.ratelimit import FixedWindow, TokenBucket
from tests.sandbox.support import AUTH0, OKTA, okta_assertion, token_form


@pytest.fixture
def okta_get(sb, creds):
    def get(path, **kwargs):
        return requests.get(
            f"{sb.okta.base_url}{path}", headers={"Authorization": f"SSWS {creds.ssws}"}, timeout=10, **kwargs
        )

    return get


@pytest.fixture
def auth0_get(sb, auth0_token):
    headers = {"Authorization": f"Bearer {auth0_token()}"}

    def get(path, **kwargs):
        return requests.get(f"{sb.auth0.base_url}{path}", headers=headers, timeout=10, **kwargs)

    return get


# -- rate limits -------------------------------------------------------------------------------
def test_okta_fixed_window(sb, clock, okta_get):
    assert "X-Rate-Limit-Limit" not in okta_get("/api/v1/users").headers  # unlimited by default
    sb.okta.set_rate_limit("users", 2)
    t0 = clock()
    r1, r2, r3 = (okta_get("/api/v1/users") for _ in range(3))
    assert [r.status_code for r in (r1, r2, r3)] == [200, 200, 429]
    assert [r.headers["X-Rate-Limit-Remaining"] for r in (r1, r2, r3)] == ["1", "0", "0"]
    assert {r.headers["X-Rate-Limit-Limit"] for r in (r1, r2, r3)} == {"2"}
    reset = int(r3.headers["X-Rate-Limit-Reset"])
    assert reset == int(t0 + 60) + (1 if t0 % 1 else 0)  # integer epoch seconds, end of the window
    body = r3.json()
    assert body["errorCode"] == "E0000047" and body["errorLink"] == "E0000047" and body["errorCauses"] == []
    assert body["errorSummary"] == "API call exceeded rate limit due to too many requests."
    assert body["errorId"].startswith("oae") and r3.headers["X-Okta-Request-Id"] and r3.headers["Date"]
    assert okta_get(f"/api/v1/users/{OKTA.ada}").status_code == 200  # other bucket ("user")
    clock.advance(61)
    late = okta_get("/api/v1/users")
    assert late.status_code == 200
    # the new window opened with this request, not on a wall-clock minute
    assert int(late.headers["X-Rate-Limit-Reset"]) == int(clock() + 60) + (1 if clock() % 1 else 0)


def test_okta_buckets_and_scaled_window(sb, clock, okta_get, creds):
    sb.okta.set_window(6)
    for bucket in ("user", "user_write", "group", "logs", "token", "groups"):
        sb.okta.set_rate_limit(bucket, 1)
    assert sb.okta.rate_limits["user"] == {"model": "fixed_window", "limit": 1, "window": 6.0}
    assert okta_get(f"/api/v1/users/{OKTA.ada}").status_code == 200
    assert okta_get(f"/api/v1/users/{OKTA.grace}").status_code == 429
    assert okta_get(f"/api/v1/groups/{OKTA.partners}/users").status_code == 200
    assert okta_get(f"/api/v1/groups/{OKTA.partners}").status_code == 429  # same "group" bucket
    post = requests.post(
        f"{sb.okta.base_url}/api/v1/users/{OKTA.ada}/lifecycle/suspend",
        headers={"Authorization": f"SSWS {creds.ssws}"},
        timeout=10,
    )
    assert post.status_code == 200 and post.headers["X-Rate-Limit-Limit"] == "1"
    assert requests.get(f"{sb.okta.base_url}/oauth2/v1/keys", timeout=10).headers.get("X-Rate-Limit-Limit") is None
    clock.advance(6)
    assert okta_get(f"/api/v1/users/{OKTA.grace}").status_code == 200
    with pytest.raises(ValueError):
        sb.okta.set_rate_limit("nonsense", 1)


def test_okta_concurrency_limit(sb, okta_get):
    sb.okta.set_concurrency_limit(1)
    sb.okta.faults.delay("/api/v1/users/{id}", seconds=0.4, times=1)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(okta_get, f"/api/v1/users/{OKTA.ada}")
        time.sleep(0.1)
        fast = okta_get("/api/v1/groups")
    assert slow.result().status_code == 200
    assert fast.status_code == 429
    assert fast.headers["X-Rate-Limit-Limit"] == "0" and fast.headers["X-Rate-Limit-Remaining"] == "0"
    assert fast.json()["errorCode"] == "E0000047"


def test_auth0_token_buckets(sb, clock, auth0_get):
    assert "x-ratelimit-limit" not in auth0_get(f"/api/v2/users/{AUTH0.sam}").headers
    sb.auth0.set_rate_limit("global", burst=2, rate=1)
    r1, r2, r3 = (auth0_get(f"/api/v2/users/{AUTH0.sam}") for _ in range(3))
    assert [r.status_code for r in (r1, r2, r3)] == [200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in (r1, r2, r3)] == ["1", "0", "0"]
    assert r3.headers["x-ratelimit-limit"] == "2"
    reset = r3.headers["x-ratelimit-reset"]
    assert reset.isdigit() and 0 < int(reset) - clock() <= 2.0  # when the next token is added (rounded up)
    assert r3.json() == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Global limit has been reached",
        "errorCode": "too_many_requests",
    }
    assert "Retry-After" not in r3.headers
    clock.advance(1)
    assert auth0_get(f"/api/v2/users/{AUTH0.sam}").status_code == 200


def test_auth0_endpoint_bucket_and_retry_after(sb, clock, auth0_get, creds):
    sb.auth0.set_rate_limit("global", burst=50, rate=16)
    sb.auth0.set_rate_limit("users_read", burst=1, rate=0.5, retry_after=True)
    ok = auth0_get("/api/v2/users-by-email", params={"email": "a@b.c"})
    assert ok.headers["x-ratelimit-limit"] == "1"  # the tightest bucket is reported
    denied = auth0_get(f"/api/v2/roles/{AUTH0.partner_role}/users")
    assert denied.status_code == 429 and denied.headers["Retry-After"] == "2"
    assert denied.json()["message"].startswith("Too many requests. Check the X-RateLimit-Limit")
    assert auth0_get("/api/v2/roles").status_code == 200  # global only
    sb.auth0.set_rate_limit("token", burst=1, rate=1)
    form = {
        "grant_type": "client_credentials",
        "client_id": AUTH0.client,
        "client_secret": creds.auth0_secret,
        "audience": sb.auth0.management_audience,
    }
    assert requests.post(f"{sb.auth0.base_url}/oauth/token", data=form, timeout=10).status_code == 200
    limited = requests.post(f"{sb.auth0.base_url}/oauth/token", data=form, timeout=10)
    assert limited.status_code == 429 and limited.json()["error"] == "too_many_requests"


def test_rate_limit_models():
    window = FixedWindow(limit=3, window=10)
    decisions = [window.peek("b", 100.2) for _ in range(1)]
    window.consume(100.2)
    assert decisions[0].remaining == 2 and decisions[0].reset == 111
    bucket = TokenBucket(burst=2, rate=0.5)
    first = bucket.peek("g", 1000.0)
    bucket.consume(1000.0)
    assert (first.limit, first.remaining, first.reset) == (2, 1, 1002)
    bucket.consume(1000.0)
    empty = bucket.peek("g", 1000.5)
    assert not empty.allowed and empty.reset == 1002 and empty.retry_after == pytest.approx(1.5)


# -- faults ------------------------------------------------------------------------------------
def test_error_faults_times_and_every(sb, auth0_get, okta_get):
    sb.auth0.faults.error("/api/v2/users-by-email", status=503, times=1)
    first = auth0_get("/api/v2/users-by-email", params={"email": "a@b.c"})
    assert (
        first.status_code == 503
        and first.json()["statusCode"] == 503
        and first.json()["error"] == "Service Unavailable"
    )
    assert auth0_get("/api/v2/users-by-email", params={"email": "a@b.c"}).status_code == 200
    fault = sb.okta.faults.error("/api/v1/users/{id}", status=500, every=2)
    statuses = [okta_get(f"/api/v1/users/{OKTA.ada}").status_code for _ in range(4)]
    assert statuses == [200, 500, 200, 500] and fault.fired == 2
    assert okta_get(f"/api/v1/users/{OKTA.ada}/x").status_code == 404
    sb.okta.faults.clear()
    sb.okta.faults.add("error", method="POST", route="/api/v1/users", status=500)
    assert okta_get("/api/v1/users").status_code == 200  # GET not matched
    assert sb.okta.calls.count(status=500) == 2


def test_probability_faults_are_seedable(sb, okta_get):
    def pattern():
        sb.okta.faults.clear()
        sb.okta.faults.reseed(42)
        sb.okta.faults.error("/api/v1/groups", status=502, probability=0.5)
        return [okta_get("/api/v1/groups").status_code for _ in range(12)]

    first, second = pattern(), pattern()
    assert first == second and {200, 502} == set(first)


def test_okta_fault_bodies(sb, okta_get):
    sb.okta.faults.error(status=500, times=1)
    body = okta_get("/api/v1/groups").json()
    assert body["errorCode"] == "E0000009" and body["errorSummary"] == "Internal Server Error"
    sb.okta.faults.error(status=429, times=1)
    limited = okta_get("/api/v1/groups")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Remaining"] == "0"
    sb.okta.faults.error(status=503, times=1, body={"custom": True}, headers={"Retry-After": "1"})
    custom = okta_get("/api/v1/groups")
    assert custom.json() == {"custom": True} and custom.headers["Retry-After"] == "1"


def test_delay_and_drop(sb, okta_get):
    sb.okta.faults.delay("/api/v1/groups", seconds=0.3, times=2)
    with pytest.raises(requests.Timeout):
        requests.get(f"{sb.okta.base_url}/api/v1/groups", timeout=0.1)
    started = time.monotonic()
    assert okta_get("/api/v1/groups").status_code == 200
    assert time.monotonic() - started >= 0.3
    sb.okta.faults.drop("/api/v1/users", times=1)
    with pytest.raises(requests.ConnectionError):
        okta_get("/api/v1/users")
    assert okta_get("/api/v1/users").status_code == 200
    assert sb.okta.calls.count(route="/api/v1/users", status=0) == 1  # a drop is logged as status 0


# -- call log -----------------------------------------------------------------------------------
def test_call_log_never_records_secrets(sb, creds, okta_get, okta_token):
    token = okta_token()
    okta_get(f"/api/v1/users/{OKTA.ada}")
    requests.get(
        f"{sb.okta.base_url}/api/v1/users",
        params={"search": 'status eq "ACTIVE"'},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    counter = sb.okta.calls.counter()
    assert counter[("GET", "/api/v1/users/{id}", 200)] == 1 and counter[("POST", "/oauth2/v1/token", 200)] == 1
    dump = json.dumps(sb.okta.calls.as_dicts())
    leaked = creds.ssws in dump or token in dump or "search" in dump  # computed apart: no secret in reports
    assert not leaked, "the call log recorded a credential or a query string"
    sb.okta.calls.reset()
    assert len(sb.okta.calls) == 0


# -- admin endpoints ----------------------------------------------------------------------------------
def test_admin_endpoints(sb, creds, auth0_get):
    admin = f"{sb.auth0.base_url}/__sandbox"
    index = requests.get(admin, timeout=10).json()
    assert index["tenant"] == "auth0" and "GET /__sandbox/state" in index["endpoints"]
    state = requests.get(f"{admin}/state", timeout=10)
    assert {r["id"] for r in state.json()["roles"]} == {AUTH0.partner_role, AUTH0.admin_role}
    leaked = creds.auth0_secret in state.text
    assert not leaked, "the state dump contains a client secret"
    assert "PRIVATE KEY" not in state.text and "secret_hashes" not in state.text
    limits = requests.put(f"{admin}/rate-limits", json={"global": {"burst": 1, "rate": 1}}, timeout=10)
    assert limits.json()["buckets"]["global"]["burst"] == 1
    auth0_get(f"/api/v2/users/{AUTH0.sam}")
    assert auth0_get(f"/api/v2/users/{AUTH0.sam}").status_code == 429
    assert requests.delete(f"{admin}/rate-limits", timeout=10).json()["buckets"] == {}
    fault = requests.post(
        f"{admin}/faults", json={"action": "error", "route": "/api/v2/roles", "status": 500}, timeout=10
    ).json()
    assert auth0_get("/api/v2/roles").status_code == 500
    assert requests.delete(f"{admin}/faults/{fault['id']}", timeout=10).status_code == 204
    assert auth0_get("/api/v2/roles").status_code == 200
    bad_fault = requests.post(f"{admin}/faults", json={"action": "explode"}, timeout=10)
    assert bad_fault.status_code == 400
    calls = requests.get(f"{admin}/calls", timeout=10).json()
    assert calls["total"] >= 4 and {"method", "route", "status", "count"} == set(calls["counts"][0])
    assert requests.delete(f"{admin}/calls", timeout=10).status_code == 204
    assert requests.get(f"{admin}/calls", timeout=10).json()["total"] == 0
    sb.auth0.update_user(AUTH0.sam, {"blocked": True})
    assert requests.post(f"{admin}/reset", timeout=10).json() == {"reset": True}
    assert "blocked" not in sb.auth0.get_user(AUTH0.sam)
    okta_limits = requests.put(
        f"{sb.okta.base_url}/__sandbox/rate-limits",
        json={"window": 6, "users": {"limit": 600}, "concurrency": 75},
        timeout=10,
    ).json()
    assert (
        okta_limits["buckets"]["users"] == {"model": "fixed_window", "limit": 600, "window": 6.0}
        and okta_limits["concurrency"] == 75
    )
    assert requests.get(f"{sb.okta.base_url}/__sandbox/nothing", timeout=10).status_code == 404


def test_python_api_errors(sb):
    with pytest.raises(sandbox.SandboxApiError) as err:
        sb.auth0.update_user(AUTH0.sam, {"app_metadata": {"a.b": 1}})
    assert err.value.status == 400 and err.value.body["errorCode"] == "invalid_body"
    with pytest.raises(sandbox.SandboxApiError) as err2:
        sb.okta.lifecycle(OKTA.katherine, "deactivate")
    assert err2.value.body["errorCode"] == "E0000038"


# -- HTTP plumbing ------------------------------------------------------------------------------------
def test_keep_alive_and_content_length(sb, creds):
    parts = urlsplit(sb.okta.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Authorization": f"SSWS {creds.ssws}"}
    for path in (
        f"/api/v1/users/{OKTA.ada}",
        "/api/v1/nothing-here",
        f"/api/v1/groups/{OKTA.partners}/users/{OKTA.ada}",
    ):
        method = "PUT" if path.endswith(OKTA.ada) and "groups" in path else "GET"
        conn.request(method, path, body=b"" if method == "PUT" else None, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.getheader("Content-Length") == str(len(body))
        assert resp.version == 11 and not resp.will_close
    assert resp.status == 204
    conn.close()
    chunked = requests.post(
        f"{sb.okta.base_url}/api/v1/users",
        data=iter(
            [b'{"profile": {"login": "c@x.example", "email": "c@x.example", ', b'"firstName": "C", "lastName": "D"}}']
        ),
        headers={"Authorization": f"SSWS {creds.ssws}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 200 and chunked.json()["profile"]["login"] == "c@x.example"
    wrong_method = requests.patch(
        f"{sb.okta.base_url}/api/v1/users", headers={"Authorization": f"SSWS {creds.ssws}"}, timeout=10
    )
    assert wrong_method.status_code == 405


def test_okta_414_for_overlong_request_line(sb, creds):
    resp = requests.get(
        f"{sb.okta.base_url}/api/v1/users",
        params={"search": "x" * 9000},
        headers={"Authorization": f"SSWS {creds.ssws}"},
        timeout=10,
    )
    assert resp.status_code == 414 and "text/html" in resp.headers["Content-Type"]


# -- fixture, start(), CLI --------------------------------------------------------------------------
def test_fixture_is_coherent():
    fixture = sandbox.load_fixture()
    okta, auth0 = fixture["okta"], fixture["auth0"]
    assert "auth0_mastered" in okta["user_schema"]["custom"]

    def keys(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                yield k
                yield from keys(v)
        elif isinstance(obj, list):
            for item in obj:
                yield from keys(item)

    assert not {"private_key", "client_secret", "secret", "api_token", "password"} & set(keys(fixture))
    assert "-----BEGIN" not in json.dumps(fixture)
    okta_ids = {u["id"] for u in okta["users"]}
    assert all(m in okta_ids for g in okta["groups"] for m in g["members"])
    auth0_ids = {u["user_id"] for u in auth0["users"]}
    assert all(m in auth0_ids for r in auth0["roles"] for m in r["members"])
    emails = [u["email"] for u in auth0["users"]]
    assert len({e.lower() for e in emails}) < len(emails)  # one address on two connections
    assert any("+" in e for e in emails) and any("+" in u["profile"]["email"] for u in okta["users"])


def test_start_with_fixture_path_and_ports(tmp_path):
    path = tmp_path / "fixture.json"
    path.write_text(
        json.dumps({"okta": {"users": []}, "auth0": {"connections": [{"name": "db", "strategy": "auth0"}]}})
    )
    with sandbox.start(path, okta_domain="org.okta.test", auth0_domain="t.auth0.test") as sb2:
        assert sb2.okta.domain == "org.okta.test" and sb2.auth0.management_audience == "https://t.auth0.test/api/v2/"
        assert sb2.okta.users() == [] and sb2.okta.base_url.startswith("http://127.0.0.1:")
        ids = sb2.okta.bulk_add_users(2000)
        assert len(ids) == 2000 and len(sb2.okta.users()) == 2000
        user = sb2.auth0.add_user("db", email="Person@Example.com")
        assert user["email"] == "person@example.com" and user["user_id"].startswith("auth0|")


def test_cli_launch_writes_credentials(tmp_path):
    secrets_dir = tmp_path / "secrets"
    args = build_parser().parse_args(
        ["--secrets-dir", str(secrets_dir), "--auth0-rate-limits", '{"token": {"burst": 5, "rate": 1}}']
    )
    sb2, summary = launch(args)
    try:
        files = {k: Path(v) for k, v in summary["files"].items()}
        assert set(files) == {"okta", "okta_ssws", "auth0"}
        for path in files.values():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        okta = json.loads(files["okta"].read_text())
        assert set(okta) == {"domain", "client_id", "private_key", "key_id", "scopes", "base_url"}
        ssws = json.loads(files["okta_ssws"].read_text())
        assert set(ssws) == {"domain", "api_token", "base_url"}
        auth0 = json.loads(files["auth0"].read_text())
        assert set(auth0) == {"domain", "client_id", "client_secret", "base_url"}
        printed = json.dumps(summary)
        leaked = auth0["client_secret"] in printed or ssws["api_token"] in printed or "PRIVATE" in printed
        assert not leaked, "the summary contains a secret"
        url = f"{okta['base_url']}/oauth2/v1/token"
        minted = requests.post(
            url,
            data=token_form(
                okta_assertion(okta["private_key"], okta["client_id"], url, kid=okta["key_id"]),
                " ".join(okta["scopes"]),
            ),
            timeout=10,
        )
        assert minted.status_code == 200
        users = requests.get(
            f"{ssws['base_url']}/api/v1/users", headers={"Authorization": f"SSWS {ssws['api_token']}"}, timeout=10
        )
        assert users.status_code == 200
        token = requests.post(
            f"{auth0['base_url']}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": auth0["client_id"],
                "client_secret": auth0["client_secret"],
                "audience": f"https://{auth0['domain']}/api/v2/",
            },
            timeout=10,
        )
        assert token.status_code == 200 and token.headers["x-ratelimit-limit"] == "5"
    finally:
        sb2.stop()


def test_cli_process_prints_urls_not_secrets(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--secrets-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        lines = [proc.stdout.readline() for _ in range(6)]  # type: ignore[union-attr]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    text = "".join(lines) + out
    assert "Okta sandbox:  http://127.0.0.1:" in text and "Auth0 sandbox: http://127.0.0.1:" in text
    assert str(tmp_path / "auth0.json") in text
    secrets = json.loads((tmp_path / "auth0.json").read_text())["client_secret"]
    api_token = json.loads((tmp_path / "okta-ssws.json").read_text())["api_token"]
    leaked = secrets in text or api_token in text or "PRIVATE KEY" in text
    assert not leaked, "the CLI printed a secret"
    assert proc.returncode == 0
