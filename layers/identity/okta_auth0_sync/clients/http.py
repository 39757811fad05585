"""The one HTTP layer, over a ``requests.Session``, used for every Okta and Auth0 call.

- a timeout on every call;
- retries on 429, 5xx and connection errors with jittered backoff that honours
  ``X-Rate-Limit-Reset`` (Okta) and ``Retry-After`` (a 429 from Auth0's token bucket is retried
  when the pacer says, spread over the tokens after ``x-ratelimit-reset``), bounded so a Lambda
  never outlives its timeout (then :class:`RateLimited`/:class:`UpstreamUnavailable` is raised
  for Step Functions to retry later);
- client-side pacing from the remaining-quota headers (:mod:`.pacing`);
- path and query values always percent-encoded (path templates + ``params=``, never f-strings);
- one refresh-and-retry on 401 when the auth can mint a new token;
- every request counted by tenant, method, route template and status (:mod:`.counters`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from okta_auth0_sync.base import container, counters
from okta_auth0_sync.base.errors import ConfigurationError, RateLimited, SyncError, UpstreamError, UpstreamUnavailable
from okta_auth0_sync.clients.pacing import RequestPacer, reset_in, retry_after

# Methods a retry cannot duplicate. POST is retried only when the caller says it is safe
# (token requests; creates whose duplicates are detected, such as Okta's E0000001).
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 30.0
    # Seconds kept free before the Lambda deadline: a wait that would eat into them is not taken.
    deadline_margin: float = 2.0


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.05
    read: float = 10.0


ErrorMapper = Callable[[requests.Response], SyncError]


class RefreshableAuth(requests.auth.AuthBase):
    """An auth that can answer a 401 challenge (a fresh token, a DPoP nonce) once per request."""

    def refresh(self, response: requests.Response) -> bool:  # pragma: no cover - interface
        """React to the 401 ``response``; return True if the request is worth sending again."""
        return False


def expand(route: str, path_params: Mapping[str, str] | None) -> str:
    """Fill a route template, percent-encoding each value as one path segment
    (``auth0|abc`` -> ``auth0%7Cabc``, ``a/b`` -> ``a%2Fb``)."""
    if not path_params:
        return route
    return route.format(**{k: quote(str(v), safe="") for k, v in path_params.items()})


class HttpClient:
    def __init__(
        self,
        base_url: str,
        tenant: str,
        *,
        error_mapper: ErrorMapper,
        auth: requests.auth.AuthBase | None = None,
        session: requests.Session | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        limiter: RequestPacer | None = None,
        sharers: int = 1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "okta-auth0-sync/0.1",
    ) -> None:
        self.base_url = secure_base_url(base_url, tenant)
        self.tenant = tenant
        self.error_mapper = error_mapper
        self.auth = auth
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", user_agent)
        self.session.headers["Accept"] = "application/json"
        self.timeouts = timeouts
        self.retry = retry
        # sharers: how many callers share the tenant's token buckets (RATE_LIMIT_SHARERS)
        self.limiter = limiter if limiter is not None else RequestPacer(sharers=sharers, clock=clock, sleep=sleep)
        self._clock = clock
        self._sleep = sleep

    # -- public -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        route: str,
        *,
        path_params: Mapping[str, str] | None = None,
        url: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        auth: requests.auth.AuthBase | bool | None = True,
        retry_post: bool = False,
        accept: Collection[int] = (),
    ) -> requests.Response:
        """Send ``method`` to ``route`` (a template such as ``/api/v1/users/{id}``).

        ``url`` overrides the target with an absolute URL from the server (a ``Link: next``),
        still counted under ``route``. ``data`` may be a callable, evaluated on every attempt
        (a client assertion must be fresh each time); so may ``headers`` (a DPoP proof).
        Statuses in ``accept`` are returned to the caller instead of being mapped to an error.
        """
        method = method.upper()
        if url is not None and origin(url) != origin(self.base_url):
            # A Link: next (or any server-given URL) may only lead back to the same tenant: the
            # request carries its token, and a redirect to another host would hand it over.
            raise UpstreamError(
                f"{self.tenant} {method} {route}: refusing to follow a link to another origin "
                f"({urlsplit(url).scheme}://{urlsplit(url).netloc})",
                tenant=self.tenant,
            )
        target = url or self.base_url + expand(route, path_params)
        use_auth = self.auth if auth is True else (auth or None)
        retriable = method in IDEMPOTENT or retry_post
        refreshed = False
        bucket = f"{method} {route}"
        attempt = 0
        while True:
            attempt += 1
            self.limiter.acquire(bucket)
            body = data() if callable(data) else data
            extra_headers = headers() if callable(headers) else headers
            try:
                response = self.session.request(
                    method,
                    target,
                    params=params,
                    json=json,
                    data=body,
                    headers=extra_headers,
                    auth=use_auth,
                    timeout=(self.timeouts.connect, self.timeouts.read),
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                counters.api_calls.record(self.tenant, method, route, "network-error")
                failure = UpstreamUnavailable(
                    f"{self.tenant} {method} {route}: {type(exc).__name__} talking to {urlsplit(target).netloc}",
                    tenant=self.tenant,
                )
                if not retriable:
                    raise failure from exc
                self._wait_or_raise(attempt, self._backoff(attempt), failure)
                continue

            counters.api_calls.record(self.tenant, method, route, response.status_code)
            self.limiter.observe(bucket, response.headers, refused=response.status_code == 429)
            status = response.status_code
            if status < 300 or status in accept:
                return response
            if status == 401 and not refreshed and isinstance(use_auth, RefreshableAuth) and use_auth.refresh(response):
                refreshed = True
                continue
            if status == 429:
                wait = self._rate_limit_wait(response, attempt, bucket)
                returns = max(wait, reset_in(response.headers, self._clock()) or 0.0)
                self._wait_or_raise(attempt, wait, self._as_rate_limited(response, returns))
                continue
            if status >= 500:
                if not retriable:  # a POST that may have happened: let the caller decide
                    raise self._as_unavailable(response)
                self._wait_or_raise(attempt, self._backoff(attempt), self._as_unavailable(response))
                continue
            raise self.error_mapper(response)

    def paginate(
        self, route: str, *, path_params: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Yield each page's JSON following ``Link: <...>; rel="next"`` to the end (Okta)."""
        response = self.request("GET", route, path_params=path_params, params=params)
        while True:
            yield response.json()
            next_url = next_link(response)
            if not next_url:
                return
            response = self.request("GET", route, url=next_url)

    # -- internals --------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2^(attempt-1)))."""
        return random.uniform(0.0, min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1)))

    def _rate_limit_wait(self, response: requests.Response, attempt: int, bucket: str) -> float:
        now = self._clock()
        server = retry_after(response.headers, now)
        if self.limiter.paces_retries(bucket, response.headers):
            # A token bucket (Auth0): its reset adds *one* request, so every caller it refused
            # would come back for the same token. The pacer's acquire, next, spreads them over the
            # tokens that follow; only a Retry-After (a quota, not the bucket) is waited here.
            return 0.0 if server is None else self._jittered(server)
        waits = [w for w in (server, reset_in(response.headers, now)) if w is not None]
        if not waits:
            return self._backoff(attempt) + 1.0
        return self._jittered(max(waits))

    @staticmethod
    def _jittered(wait: float) -> float:
        """``wait`` and a little more, so that callers told the same wait don't all return at once."""
        return wait + random.uniform(0.05, 0.05 + min(1.0, 0.1 * max(wait, 1.0)))

    def _wait_or_raise(self, attempt: int, wait: float, failure: SyncError) -> None:
        if attempt >= self.retry.max_attempts:
            raise failure
        left = container.remaining_seconds()
        if left is not None and wait > left - self.retry.deadline_margin:
            raise failure
        self._sleep(wait)

    def _as_rate_limited(self, response: requests.Response, wait: float) -> RateLimited:
        return RateLimited(
            f"{self.tenant} rate limit still exceeded after retries; quota returns in about {wait:.0f}s",
            tenant=self.tenant,
            status=429,
            retry_after=wait,
            request_id=request_id(response),
        )

    def _as_unavailable(self, response: requests.Response) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            f"{self.tenant} answered {response.status_code} repeatedly",
            tenant=self.tenant,
            status=response.status_code,
            request_id=request_id(response),
        )


# Hosts a plain-http base URL may name: this machine (the sandbox tenants, sam local on Linux) and
# Docker Desktop's name for it (sam local on macOS/Windows). Anything else must be https: a typo
# such as http://acme.okta.com would send the client secret and every token in clear.
PLAIN_HTTP_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", "host.docker.internal"})


def secure_base_url(base_url: str, tenant: str) -> str:
    """``base_url`` without a trailing slash, if it is https (or http to this machine)."""
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return base_url.rstrip("/")
    if parts.scheme == "http" and (parts.hostname or "") in PLAIN_HTTP_HOSTS:
        return base_url.rstrip("/")
    raise ConfigurationError(
        f"{tenant} base URL must be https:// (plain http only to this machine), got {parts.scheme or '?'}://"
        f"{parts.netloc or '?'}"
    )


def origin(url: str) -> tuple[str, str]:
    """Scheme and host:port, lower-cased (RFC 6454)."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def next_link(response: requests.Response) -> str | None:
    """The ``rel="next"`` URL. Okta sends one ``Link`` header per relation; requests joins them."""
    return response.links.get("next", {}).get("url")


def request_id(response: requests.Response) -> str | None:
    return response.headers.get("X-Okta-Request-Id") or response.headers.get("x-auth0-requestid")


def json_body(response: requests.Response) -> dict[str, Any]:
    """The response body as a dict, or {} when it is not JSON (proxies, HTML error pages)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
