"""Okta Log Streaming to Amazon EventBridge (``type: aws_eventbridge``), as the sandbox's output.

Okta streams **every** System Log event (no filtering on Okta's side), one EventBridge event per
System Log event, from the partner event source ``aws.partner/okta.com/{okta subdomain}/{event
source name}``, with the LogEvent as ``detail`` (okta-api reference §9). There is no AWS account
here: while a stream is active, each event's envelope is kept in :attr:`LogStream.outbox`, and a
test (or ``POST /__sandbox/log-stream/drain``) takes them and hands them to the rule's target, as
EventBridge would.

Envelope (EventBridge's, ``version`` "0"; the ``detail-type`` differs between public captures,
"SystemLog" in AWS's samples, so receivers should not rely on it)::

    {"version": "0", "id": "<uuid>", "detail-type": "SystemLog",
     "source": "aws.partner/okta.com/<subdomain>/<eventSourceName>", "account": "<accountId>",
     "time": "<published, to the second>", "region": "<region>", "resources": [], "detail": {<LogEvent>}}

Admin endpoints:

=======  ===============================  ==========================================================
GET      /__sandbox/log-stream            the settings and how many envelopes wait in the outbox
PUT      /__sandbox/log-stream            ``{"active", "event_source_name", "account_id", "region",
                                          "duplicate"}`` (``duplicate``: every event sent twice,
                                          with a new ``id``: at least once)
POST     /__sandbox/log-stream/drain      ``{"events": [<envelope>...]}`` and empties the outbox
=======  ===============================  ==========================================================
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from okta_auth0_sync_sandbox.okta.models import new_uuid
from okta_auth0_sync_sandbox.server import Request, Response, Router

if TYPE_CHECKING:
    from collections.abc import Callable

_SOURCE_NAME = re.compile(r"[A-Za-z0-9._-]{1,75}")
DETAIL_TYPE = "SystemLog"


class LogStream:
    """One ``aws_eventbridge`` log stream of an Okta tenant (Okta allows two; one is enough here)."""

    def __init__(self, domain: Callable[[], str]) -> None:
        self._domain = domain
        self._lock = threading.Lock()
        self.outbox: list[dict[str, Any]] = []
        self.clear()

    def clear(self) -> None:
        """Inactive, default settings, empty outbox."""
        with self._lock:
            self.active = False
            self.event_source_name = "okta-auth0-sync"
            self.account_id = "123456789012"
            self.region = "us-east-1"
            self.duplicate = False
            self.outbox = []

    def configure(
        self,
        *,
        active: bool = True,
        event_source_name: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
        duplicate: bool | None = None,
    ) -> None:
        if event_source_name is not None and not _SOURCE_NAME.fullmatch(event_source_name):
            raise ValueError("eventSourceName: 1-75 letters, digits, '.', '-' or '_'")
        if account_id is not None and not re.fullmatch(r"\d{12}", account_id):
            raise ValueError("accountId: 12 digits")
        with self._lock:
            self.active = bool(active)
            self.event_source_name = event_source_name or self.event_source_name
            self.account_id = account_id or self.account_id
            self.region = region or self.region
            self.duplicate = self.duplicate if duplicate is None else bool(duplicate)

    @property
    def source(self) -> str:
        """``aws.partner/okta.com/{okta subdomain}/{event source name}``."""
        subdomain = self._domain().split(".", 1)[0]
        return f"aws.partner/okta.com/{subdomain}/{self.event_source_name}"

    def envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        """The EventBridge event carrying one System Log event."""
        published = str(event.get("published") or "")
        return {
            "version": "0",
            "id": new_uuid(),
            "detail-type": DETAIL_TYPE,
            "source": self.source,
            "account": self.account_id,
            "time": published[:19] + "Z" if len(published) >= 19 else published,
            "region": self.region,
            "resources": [],
            "detail": event,
        }

    def on_event(self, event: dict[str, Any]) -> None:
        """Every System Log event goes out while the stream is active (Okta does not filter)."""
        if not self.active:
            return
        envelopes = [self.envelope(event)] + ([self.envelope(event)] if self.duplicate else [])
        with self._lock:
            self.outbox.extend(envelopes)

    def drain(self) -> list[dict[str, Any]]:
        """The envelopes sent since the last drain (and forget them)."""
        with self._lock:
            out, self.outbox = self.outbox, []
        return out

    def settings(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "type": "aws_eventbridge",
            "event_source_name": self.event_source_name,
            "account_id": self.account_id,
            "region": self.region,
            "source": self.source,
            "duplicate": self.duplicate,
            "pending": len(self.outbox),
        }


class LogStreamAdmin:
    def __init__(self, stream: LogStream) -> None:
        self.stream = stream

    def register(self, router: Router) -> None:
        router.add("GET", "/__sandbox/log-stream", self.get)
        router.add("PUT", "/__sandbox/log-stream", self.put)
        router.add("POST", "/__sandbox/log-stream/drain", self.drain)

    def get(self, request: Request) -> Response:
        return Response.json(self.stream.settings())

    def put(self, request: Request) -> Response:
        spec = request.json() or {}
        try:
            self.stream.configure(
                active=spec.get("active", True),
                event_source_name=spec.get("event_source_name"),
                account_id=spec.get("account_id"),
                region=spec.get("region"),
                duplicate=spec.get("duplicate"),
            )
        except ValueError as exc:
            return Response.json({"error": str(exc)}, 400)
        return self.get(request)

    def drain(self, request: Request) -> Response:
        return Response.json({"events": self.stream.drain()})
