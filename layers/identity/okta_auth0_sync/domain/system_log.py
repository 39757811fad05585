"""The Okta System Log as an ingress: the sweep's polling query, and Log Streaming's EventBridge
envelope. Pure (no I/O).

Both carry System Log ``LogEvent`` objects, the same objects an event hook delivers in
``data.events``, with the same ``uuid``; :func:`okta_auth0_sync.domain.hooks.select_lifecycle_events`
picks the ones this package syncs and names each execution after the ``uuid``, so an event seen by
the hook, the stream and the sweep starts one execution.

**Polling** (okta-api reference §10, §12.2): ``GET /api/v1/logs?since=…&filter=…&sortOrder=ASCENDING``
without ``until`` is a polling query: ordered by when Okta stored each event, it *always* answers a
``rel="next"`` link (also after an empty page), which is where the next read starts. The sweep
keeps that link as its checkpoint; ``since`` is used once, by the very first sweep (the backfill).

**Log Streaming** (§9): one EventBridge event per System Log event, ``source``
``aws.partner/okta.com/{okta subdomain}/{event source name}``, ``detail`` = the LogEvent. The
``detail-type`` differs between public captures ("SystemLog", "Okta Log Event"), so it is not
relied on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput, shown

SOURCE = "okta-system-log"  # the sweep's checkpoint
PARTNER_SOURCE_PREFIX = "aws.partner/okta.com/"
MAX_DETAIL_CHARS = 256 * 1024  # an EventBridge event is at most 256 KiB


def event_filter(handled_types: Iterable[str]) -> str:
    """The SCIM filter selecting the handled event types (``eventType eq "…" or …``)."""
    types = list(dict.fromkeys(handled_types))
    if not types:
        raise ValueError("no event types to read")
    return " or ".join(f'eventType eq "{t}"' for t in types)


def since(now: datetime, backfill_hours: int) -> str:
    """``since`` of a first sweep: ``backfill_hours`` before ``now`` (Okta's timestamp format;
    never more than the System Log's 90-day retention)."""
    hours = max(0, min(backfill_hours, 90 * 24))
    start = now.astimezone(UTC) - timedelta(hours=hours)
    return start.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def polling_query(handled_types: Iterable[str], since_time: str, limit: int) -> dict[str, str]:
    """The query of a first sweep: a polling query (ascending, no ``until``) from ``since_time``."""
    return {
        "since": since_time,
        "filter": event_filter(handled_types),
        "sortOrder": "ASCENDING",
        "limit": str(max(1, min(limit, 1000))),
    }


def stream_event(envelope: Any) -> dict[str, Any]:
    """The System Log event an EventBridge event from Okta's Log Streaming carries (its
    ``detail``), or :class:`InvalidInput` saying why it is not one."""
    if not isinstance(envelope, Mapping):
        raise InvalidInput("the event is not an EventBridge event (an object)")
    source = envelope.get("source")
    if not isinstance(source, str) or not source.startswith(PARTNER_SOURCE_PREFIX):
        raise InvalidInput(f"source {shown(source, 80)!r} is not an Okta Log Streaming partner source")
    detail = envelope.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidInput("detail is not a System Log event (an object)")
    return dict(detail)
