"""The one HTTP layer: retries and backoff on recorded rate-limit headers, encoding, counting."""

from email.utils import formatdate

import pytest
import requests
import responses

from okta_auth0_sync.base import container, counters
from okta_auth0_sync.base.errors import ConfigurationError, NotFound, RateLimited, UpstreamError, UpstreamUnavailable
from okta_auth0_sync.clients.auth0 import Auth0Client, auth0_error
from okta_auth0_sync.clients.http import HttpClient, RefreshableAuth, RetryPolicy
from okta_auth0_sync.clients.okta import okta_error

NOW = 1_714_641_240.0
OKTA = "https://acme.okta.com"
AUTH0 = "https://acme.auth0.com"


class Clock:
    def __init__(self):
        self.now = NOW
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(autouse=True)
def _fresh_counters():
    counters.api_calls.reset()


def okta_http(clock, **kw):
    return HttpClient(OKTA, "okta", error_mapper=okta_error, clock=clock, sleep=clock.sleep, **kw)


def auth0_http(clock, **kw):
    return HttpClient(AUTH0, "auth0", error_mapper=auth0_error, clock=clock, sleep=clock.sleep, **kw)


def okta_429(reset_in: int):
    return responses.Response(
        "GET",
        f"{OKTA}/api/v1/users/00u1",
        status=429,
        json={
            "errorCode": "E0000047",
            "errorSummary": "API call exceeded rate limit due to too many requests.",
            "errorLink": "E0000047",
            "errorId": "oae1",
            "errorCauses": [],
        },
        headers={
            "X-Rate-Limit-Limit": "600",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(int(NOW) + reset_in),
            "Date": formatdate(NOW, usegmt=True),
        },
    )


@responses.activate
def test_okta_429_waits_for_x_rate_limit_reset(clock):
    responses.add(okta_429(reset_in=7))
    responses.add(
        "GET",
        f"{OKTA}/api/v1/users/00u1",
        json={"id": "00u1"},
        headers={
            "X-Rate-Limit-Limit": "600",
            "X-Rate-Limit-Remaining": "599",
            "X-Rate-Limit-Reset": str(int(NOW) + 60),
        },
    )
    response = okta_http(clock).request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"})
    assert response.json() == {"id": "00u1"}
    assert len(clock.slept) == 1
    # The reset is 7 s away: wait that long plus a little jitter, never less (no hammering).
    assert 7.0 < clock.slept[0] <= 8.1
    assert counters.api_calls.total("okta", status=429) == 1
    assert counters.api_calls.total("okta", route="/api/v1/users/{id}", status=200) == 1


@responses.activate
def test_okta_wait_uses_server_date_not_local_clock(clock):
    # The server clock is 30 s behind ours: the reset is 5 s from *its* now.
    server_now = NOW - 30
    responses.add(
        "GET",
        f"{OKTA}/api/v1/users/00u1",
        status=429,
        json={"errorCode": "E0000047"},
        headers={
            "X-Rate-Limit-Limit": "600",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(int(server_now) + 5),
            "Date": formatdate(server_now, usegmt=True),
        },
    )
    responses.add("GET", f"{OKTA}/api/v1/users/00u1", json={"id": "00u1"})
    okta_http(clock).request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"})
    assert 5.0 < clock.slept[0] <= 6.1


@responses.activate
def test_auth0_429_honours_x_ratelimit_reset_and_retry_after(clock):
    responses.add(
        "GET",
        f"{AUTH0}/api/v2/users-by-email",
        status=429,
        json={
            "statusCode": 429,
            "error": "Too Many Requests",
            "message": "Global limit has been reached",
            "errorCode": "too_many_requests",
        },
        headers={
            "x-ratelimit-limit": "50",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(NOW) + 2),
            "Retry-After": "3",
        },
    )
    responses.add("GET", f"{AUTH0}/api/v2/users-by-email", json=[])
    Auth0Client(auth0_http(clock)).users_by_email("a@example.com")
    # Both signals are honoured: the larger (Retry-After: 3) wins.
    assert 3.0 < clock.slept[0] <= 4.1


@responses.activate
def test_rate_limit_that_outlasts_the_lambda_raises_rate_limited(clock):
    responses.add(okta_429(reset_in=50))

    class Ctx:
        def get_remaining_time_in_millis(self):
            return 20_000

    with container.invocation(Ctx()), pytest.raises(RateLimited) as raised:
        okta_http(clock).request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"})
    assert clock.slept == []  # never sleeps past the deadline: Step Functions retries later
    assert raised.value.retry_after > 49
    assert raised.value.status == 429


@responses.activate
def test_5xx_retried_with_jittered_backoff_then_gives_up(clock):
    for _ in range(3):
        responses.add("GET", f"{OKTA}/api/v1/users/00u1", status=503, body="upstream")
    client = okta_http(clock, retry=RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0))
    with pytest.raises(UpstreamUnavailable):
        client.request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"})
    assert len(clock.slept) == 2
    assert 0 <= clock.slept[0] <= 1.0 and 0 <= clock.slept[1] <= 2.0  # full jitter, exponential cap
    assert counters.api_calls.total("okta", status=503) == 3


@responses.activate
def test_post_is_not_retried_on_5xx_unless_safe(clock):
    responses.add("POST", f"{OKTA}/api/v1/users", status=500, json={"errorCode": "E0000009"})
    with pytest.raises(UpstreamUnavailable) as raised:
        okta_http(clock).request("POST", "/api/v1/users", json={})
    assert len(responses.calls) == 1  # a create that may have happened is not blindly repeated
    assert clock.slept == []
    assert raised.value.status == 500 and raised.value.retryable


@responses.activate
def test_connection_errors_are_retried_for_idempotent_calls(clock):
    responses.add("GET", f"{OKTA}/api/v1/users/00u1", body=requests.ConnectionError("reset by peer"))
    responses.add("GET", f"{OKTA}/api/v1/users/00u1", json={"id": "00u1"})
    assert okta_http(clock).request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"}).ok
    assert counters.api_calls.total("okta", status="network-error") == 1


@responses.activate
def test_path_values_are_percent_encoded(clock):
    responses.add("GET", f"{AUTH0}/api/v2/users/auth0%7C64f0c2%2Fx", json={"user_id": "auth0|64f0c2/x"})
    auth0_http(clock).request("GET", "/api/v2/users/{id}", path_params={"id": "auth0|64f0c2/x"})
    assert responses.calls[0].request.url.endswith("/api/v2/users/auth0%7C64f0c2%2Fx")


@responses.activate
@pytest.mark.parametrize(
    ("email", "encoded"),
    [
        ("first.last+tag@example.com", "first.last%2Btag%40example.com"),
        ('o"neil@example.com', "o%22neil%40example.com"),
        ("a&b=c@example.com", "a%26b%3Dc%40example.com"),
    ],
)
def test_users_by_email_encodes_plus_and_quotes(clock, email, encoded):
    responses.add("GET", f"{AUTH0}/api/v2/users-by-email", json=[])
    Auth0Client(auth0_http(clock)).users_by_email(email)
    assert f"email={encoded}&" in responses.calls[0].request.url


@responses.activate
def test_pagination_follows_separate_link_headers_to_the_end(clock):
    def page(after, ids, nxt):
        headers = [("link", f'<{OKTA}/api/v1/users?limit=2{after}>; rel="self"')]
        if nxt:
            headers.append(("link", f'<{OKTA}/api/v1/users?after={nxt}&limit=2>; rel="next"'))
        return responses.Response(
            "GET",
            f"{OKTA}/api/v1/users",
            json=[{"id": i} for i in ids],
            headers=headers,
            match=[responses.matchers.query_param_matcher({"limit": "2", **({"after": after[7:]} if after else {})})],
        )

    responses.add(page("", ["00u1", "00u2"], "00u2"))
    responses.add(page("&after=00u2", ["00u3", "00u4"], "00u4"))
    responses.add(page("&after=00u4", ["00u5"], None))
    pages = list(okta_http(clock).paginate("/api/v1/users", params={"limit": 2}))
    assert [u["id"] for p in pages for u in p] == ["00u1", "00u2", "00u3", "00u4", "00u5"]
    assert counters.api_calls.total("okta", route="/api/v1/users") == 3


@responses.activate
@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example/api/v1/users?after=00u2",
        "http://acme.okta.com/api/v1/users?after=00u2",
        "https://acme.okta.com:8443/api/v1/users?after=00u2",
    ],
)
def test_pagination_never_follows_a_next_link_to_another_origin(clock, elsewhere):
    """The next request would carry the tenant's token: a Link to another host, scheme or port is
    refused (and nothing is sent there)."""
    responses.add("GET", f"{OKTA}/api/v1/users", json=[{"id": "00u1"}], headers={"link": f'<{elsewhere}>; rel="next"'})
    pages = okta_http(clock).paginate("/api/v1/users")
    assert next(pages) == [{"id": "00u1"}]
    with pytest.raises(UpstreamError, match="another origin"):
        next(pages)
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    "base_url", ["http://acme.okta.com", "http://10.0.0.5:8080", "ftp://acme.okta.com", "acme.okta.com", "https://"]
)
def test_a_base_url_that_is_not_https_is_refused(base_url):
    """A typo such as http:// would send the client secret and every token in clear."""
    with pytest.raises(ConfigurationError, match="must be https"):
        HttpClient(base_url, "okta", error_mapper=okta_error)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "http://localhost:1234/", "http://[::1]:9000"])
def test_plain_http_is_allowed_only_to_this_machine(base_url):
    assert HttpClient(base_url, "okta", error_mapper=okta_error).base_url == base_url.rstrip("/")


@responses.activate
def test_401_refreshes_the_token_once(clock):
    class Auth(RefreshableAuth):
        def __init__(self):
            self.generation = 1
            self.refreshes = 0

        def __call__(self, r):
            r.headers["Authorization"] = f"Bearer token-{self.generation}"
            return r

        def refresh(self, response):
            assert response.status_code == 401
            self.refreshes += 1
            self.generation += 1
            return True

    auth = Auth()
    responses.add("GET", f"{AUTH0}/api/v2/users/x", status=401, json={"statusCode": 401, "message": "Expired token"})
    responses.add("GET", f"{AUTH0}/api/v2/users/x", json={"user_id": "x"})
    auth0_http(clock, auth=auth).request("GET", "/api/v2/users/{id}", path_params={"id": "x"})
    assert auth.refreshes == 1
    assert responses.calls[1].request.headers["Authorization"] == "Bearer token-2"


@responses.activate
def test_404_maps_to_not_found_without_retry(clock):
    responses.add(
        "GET",
        f"{OKTA}/api/v1/users/00uX",
        status=404,
        json={"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 00uX (User)"},
        headers={"X-Okta-Request-Id": "req-1"},
    )
    with pytest.raises(NotFound) as raised:
        okta_http(clock).request("GET", "/api/v1/users/{id}", path_params={"id": "00uX"})
    assert raised.value.request_id == "req-1" and raised.value.code == "E0000007"
    assert len(responses.calls) == 1


@responses.activate
def test_client_slows_down_before_the_quota_runs_out(clock):
    """With 2 of 60 left and the window ending in 30 s, spread them instead of spending them."""
    responses.add(
        "GET",
        f"{OKTA}/api/v1/users/00u1",
        json={"id": "00u1"},
        headers={"X-Rate-Limit-Limit": "60", "X-Rate-Limit-Remaining": "2", "X-Rate-Limit-Reset": str(int(NOW) + 30)},
    )
    responses.add("GET", f"{OKTA}/api/v1/users/00u1", json={"id": "00u1"})
    client = okta_http(clock)
    client.request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"})
    assert clock.slept == []
    client.request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"})
    assert clock.slept == [pytest.approx(10.0)]  # 30 s left / (2 remaining + 1)
