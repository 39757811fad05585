"""Okta event hooks: registration, one-time verification and deliveries.

* :meth:`EventHooks.register` creates an ``ACTIVE`` hook and verifies it like Okta: one GET
  with ``X-Okta-Verification-Challenge`` (and the configured ``Authorization`` header),
  expecting ``200 {"verification": "<value>"}`` within the timeout, one retry on
  timeout/error.  Unverified hooks receive nothing.
* Every System Log event whose type a verified hook subscribes to is **queued**;
  :meth:`EventHooks.flush` sends the queue (deterministic for tests), or
  :meth:`EventHooks.start_background` flushes every ``interval`` seconds.
* A delivery is a POST in Okta's envelope (``eventType: com.okta.event_hook`` …
  ``data.events[]``) with a per-request timeout (3 s by default) and **one** retry after a
  timeout, a connection error or a 5xx; never after a 4xx.
* Knobs: ``batch_size`` (events merged into one delivery, default 1), ``duplicate``
  (send every delivery twice, the copy with a new ``eventId``: at-least-once) and ``enabled``
  (``False`` simulates an outage: every event a hook subscribes to is lost, as after Okta's two
  failed attempts, with no replay; counted in :attr:`EventHooks.lost`).

Outcomes are kept in :attr:`EventHooks.deliveries`.  Secrets are never exposed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from okta_auth0_sync_sandbox.jose import random_token
from okta_auth0_sync_sandbox.okta.models import new_uuid
from okta_auth0_sync_sandbox.util import iso8601, random_id

NOT_HOOKABLE = frozenset({"user.lifecycle.delete.completed", "event_hook.delivery"})


@dataclass
class EventHook:
    id: str
    name: str
    url: str
    event_types: list[str]
    authorization: str | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict)
    status: str = "ACTIVE"
    verification_status: str = "UNVERIFIED"
    created: float = 0.0

    def public_view(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "verificationStatus": self.verification_status,
            "events": {"type": "EVENT_TYPE", "items": list(self.event_types)},
            "channel": {
                "type": "HTTP",
                "version": "1.0.0",
                "config": {
                    "uri": self.url,
                    "headers": [{"key": k, "value": v} for k, v in self.headers.items()],
                    "authScheme": {"type": "HEADER", "key": "Authorization"} if self.authorization else None,
                },
            },
            "created": iso8601(self.created),
            "_links": {"self": {"href": f"{base_url}/api/v1/eventHooks/{self.id}"}},
        }


@dataclass
class Attempt:
    status: int | None  # HTTP status, or None on timeout / connection error
    error: str | None
    elapsed: float


@dataclass
class Delivery:
    hook_id: str
    event_id: str
    event_uuids: list[str]
    attempts: list[Attempt] = field(default_factory=list)
    duplicate: bool = False

    @property
    def delivered(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].status is not None and 200 <= self.attempts[-1].status < 300

    @property
    def outcome(self) -> str:
        if not self.attempts:
            return "pending"
        last = self.attempts[-1]
        if last.status is None:
            return "timeout" if last.error == "timeout" else "error"
        return "success" if 200 <= last.status < 300 else f"http_{last.status}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "hook_id": self.hook_id,
            "event_id": self.event_id,
            "event_uuids": list(self.event_uuids),
            "duplicate": self.duplicate,
            "outcome": self.outcome,
            "attempts": [a.__dict__ for a in self.attempts],
        }


class EventHooks:
    """Event hooks of one Okta tenant."""

    def __init__(self, base_url: Callable[[], str], clock: Callable[[], float]) -> None:
        self._base_url = base_url
        self._clock = clock
        self.hooks: dict[str, EventHook] = {}
        self.timeout = 3.0
        self.batch_size = 1
        self.duplicate = False
        self.enabled = True
        self.lost: list[str] = []  # uuids of the events lost while deliveries were off
        self.deliveries: list[Delivery] = []
        self._queue: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._bg: threading.Thread | None = None
        self._bg_stop = threading.Event()

    # -- registration -------------------------------------------------------------------------
    def register(
        self,
        url: str,
        event_types: list[str] | tuple[str, ...],
        authorization: str | None = None,
        *,
        name: str = "okta-auth0-sync",
        headers: dict[str, str] | None = None,
        verify: bool = True,
    ) -> EventHook:
        """Create an ACTIVE hook; with ``verify`` run Okta's one-time verification now."""
        bad = [t for t in event_types if t in NOT_HOOKABLE]
        if bad:
            raise ValueError(f"event types not eligible for event hooks: {bad}")
        if not event_types:
            raise ValueError("an event hook needs at least one event type")
        hook = EventHook(
            random_id("who"), name, url, list(event_types), authorization, dict(headers or {}), created=self._clock()
        )
        with self._lock:
            self.hooks[hook.id] = hook
        if verify:
            self.verify(hook.id)
        return hook

    def verify(self, hook_id: str) -> bool:
        """One GET with the challenge; one retry after a timeout or an error."""
        hook = self.hooks[hook_id]
        for _ in range(2):
            challenge = random_token(24)
            headers = {"X-Okta-Verification-Challenge": challenge, "Accept": "application/json", **hook.headers}
            if hook.authorization:
                headers["Authorization"] = hook.authorization
            try:
                resp = requests.get(hook.url, headers=headers, timeout=self.timeout)
            except requests.RequestException:
                continue
            try:
                ok = resp.status_code == 200 and resp.json().get("verification") == challenge
            except (ValueError, AttributeError):
                ok = False
            if ok:
                hook.verification_status = "VERIFIED"
                return True
            if resp.status_code < 500:
                break
        hook.verification_status = "UNVERIFIED"
        return False

    def deactivate(self, hook_id: str) -> None:
        self.hooks[hook_id].status = "INACTIVE"

    def remove(self, hook_id: str) -> None:
        with self._lock:
            self.hooks.pop(hook_id, None)
            self._queue = [(h, e) for h, e in self._queue if h != hook_id]

    def clear(self) -> None:
        """Forget hooks, the queue and delivery records; knobs back to Okta's defaults
        (3 s timeout, one event per delivery, no duplicates).  Background mode is kept."""
        with self._lock:
            self.hooks.clear()
            self._queue.clear()
            self.deliveries.clear()
            self.timeout, self.batch_size, self.duplicate = 3.0, 1, False
            self.enabled, self.lost = True, []

    # -- queueing -----------------------------------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        """Queue ``event`` (a System Log event) for every subscribed, verified hook."""
        with self._lock:
            for hook in self.hooks.values():
                if (
                    hook.status == "ACTIVE"
                    and hook.verification_status == "VERIFIED"
                    and event.get("eventType") in hook.event_types
                ):
                    if self.enabled:
                        self._queue.append((hook.id, event))
                    else:
                        self.lost.append(str(event.get("uuid")))

    @property
    def pending(self) -> int:
        return len(self._queue)

    def envelope(self, hook: EventHook, events: list[dict[str, Any]], event_id: str | None = None) -> dict[str, Any]:
        return {
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": f"{self._base_url()}/api/v1/eventHooks/{hook.id}",
            "eventId": event_id or new_uuid(),
            "eventTime": iso8601(self._clock()),
            "contentType": "application/json",
            "data": {"events": events},
        }

    # -- sending ------------------------------------------------------------------------------
    def flush(self) -> list[Delivery]:
        """Send everything queued; returns the deliveries made (with their outcomes)."""
        with self._flush_lock:
            with self._lock:
                queue, self._queue = self._queue, []
            batches: list[tuple[EventHook, list[dict[str, Any]]]] = []
            for hook_id in dict.fromkeys(h for h, _ in queue):
                hook = self.hooks.get(hook_id)
                if hook is None:
                    continue
                events = [e for h, e in queue if h == hook_id]
                size = max(int(self.batch_size), 1)
                batches.extend((hook, events[i : i + size]) for i in range(0, len(events), size))
            done = []
            for hook, events in batches:
                done.append(self._deliver(hook, events))
                if self.duplicate:
                    done.append(self._deliver(hook, events, duplicate=True))
            return done

    def _deliver(self, hook: EventHook, events: list[dict[str, Any]], duplicate: bool = False) -> Delivery:
        envelope = self.envelope(hook, events)
        delivery = Delivery(hook.id, envelope["eventId"], [e["uuid"] for e in events], duplicate=duplicate)
        body = json.dumps(envelope).encode()
        headers = {"Accept": "application/json", "Content-Type": "application/json", **hook.headers}
        if hook.authorization:
            headers["Authorization"] = hook.authorization
        for _ in range(2):
            started = time.monotonic()
            try:
                resp = requests.post(hook.url, data=body, headers=headers, timeout=self.timeout)
                attempt = Attempt(resp.status_code, None, time.monotonic() - started)
            except requests.Timeout:
                attempt = Attempt(None, "timeout", time.monotonic() - started)
            except requests.RequestException as exc:
                attempt = Attempt(None, type(exc).__name__, time.monotonic() - started)
            delivery.attempts.append(attempt)
            if attempt.status is not None and attempt.status < 500:
                break
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    # -- background mode -----------------------------------------------------------------------
    def start_background(self, interval: float = 0.2) -> None:
        if self._bg is not None:
            return
        self._bg_stop.clear()

        def loop() -> None:
            while not self._bg_stop.wait(interval):
                if self._queue:
                    self.flush()

        self._bg = threading.Thread(target=loop, name="sandbox-okta-hooks", daemon=True)
        self._bg.start()

    def stop_background(self) -> None:
        if self._bg is not None:
            self._bg_stop.set()
            self._bg.join(timeout=5)
            self._bg = None
