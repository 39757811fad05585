"""Okta event hook deliveries: authenticate, validate, and pick the lifecycle events we sync.

Pure logic (no AWS calls) so the receiver stays thin and fast: it must answer Okta within 3 s.
Okta authenticates deliveries only with a static shared secret echoed in the configured header
(no HMAC), so that header is compared in constant time against the current and the previous
secret (rotation without downtime).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import ConfigurationError, InvalidInput, shown
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.events import LifecycleEvent, parse_time

MAX_BODY_BYTES = 256 * 1024
# An Okta delivery nests 6 levels deep; anything past this is refused before the JSON parser (which
# recurses) sees it.
MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*+"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class InvalidDelivery(InvalidInput):
    """The delivery cannot be processed at all (answered 4xx; Okta does not retry a 4xx)."""

    status = 400


class DeliveryTooLarge(InvalidDelivery):
    status = 413


class UnsupportedDelivery(InvalidDelivery):
    """Not UTF-8 JSON (RFC 8259 §8.1), whatever the Content-Type says."""

    status = 415


def delivery_bytes(body: str | None, is_base64: bool) -> bytes:
    """The raw body of an API Gateway event (``body`` + ``isBase64Encoded``), as bytes."""
    if body is None or body == "":
        raise InvalidDelivery("empty body")
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidDelivery("body is not valid base64") from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsupportedDelivery("body must be UTF-8 JSON") from None


def check_media_type(content_type: str | None) -> None:
    """Okta sends ``application/json``; any other declared type is refused (a missing one is not)."""
    if not content_type:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedDelivery(f"Content-Type must be application/json, got {media_type[:60] or 'nothing'}")


def nesting_depth(raw: bytes) -> int:
    """How deep ``[``/``{`` nest in ``raw`` (outside strings), in linear time without recursion."""
    depth = deepest = 0
    for bracket in _STRINGS.sub(b'""', raw).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def authorized(presented: str | None, secrets: Iterable[str]) -> bool:
    """Constant-time comparison of the ``Authorization`` header with each configured secret.
    Every candidate is compared (no early exit) so timing does not reveal which one matched."""
    if not presented:
        return False
    given = presented.encode()
    matched = False
    for secret in secrets:
        if secret:
            matched |= hmac.compare_digest(given, secret.encode())
    return matched


def hook_secrets(secret: Mapping[str, Any]) -> list[str]:
    """``{"current": "...", "previous": "..."}`` -> the values accepted now."""
    current, previous = secret.get("current"), secret.get("previous")
    if not isinstance(current, str) or not current:
        raise ConfigurationError("event hook secret: field 'current' is missing or empty")
    return [current] + ([previous] if isinstance(previous, str) and previous else [])


@dataclass(frozen=True)
class Selection:
    """What a delivery holds: the events to sync (with their execution names) and what was skipped."""

    to_sync: list[tuple[str, LifecycleEvent]]
    skipped: list[dict[str, str]]


def parse_delivery(body: str | bytes | None) -> dict[str, Any]:
    """The delivery envelope, or :class:`InvalidDelivery` (with the status to answer and a reason
    safe to return to Okta). Size, encoding and depth are checked before the JSON parser runs."""
    if body is None or body == "" or body == b"":
        raise InvalidDelivery("empty body")
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise DeliveryTooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedDelivery("body must be UTF-8 JSON") from None
    if nesting_depth(raw) > MAX_DEPTH:
        raise InvalidDelivery(f"body nests deeper than {MAX_DEPTH} levels")
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidDelivery("body is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise InvalidDelivery("body must be a JSON object")
    data = envelope.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise InvalidDelivery("body must carry data.events as a list")
    return envelope


def select_events(envelope: Mapping[str, Any], handled_types: Iterable[str]) -> Selection:
    """Every event of the delivery that this package handles, one entry per User target.
    Malformed or unhandled events are skipped with a reason (the others still go through)."""
    return select_lifecycle_events(envelope["data"]["events"], handled_types)


def select_lifecycle_events(events: Iterable[Any], handled_types: Iterable[str]) -> Selection:
    """The System Log events (``LogEvent`` objects, from a hook delivery, a ``/api/v1/logs`` page
    or a Log Streaming ``detail``) that this package handles, one entry per User target, each
    named as the deactivation sync's execution (the same name whichever ingress saw it first).
    Malformed or unhandled events are skipped with a reason (the others still go through)."""
    handled = set(handled_types)
    to_sync: list[tuple[str, LifecycleEvent]] = []
    skipped: list[dict[str, str]] = []
    for position, event in enumerate(events):
        if not isinstance(event, dict):
            skipped.append({"event": f"#{position}", "reason": "not an object"})
            continue
        uuid = event.get("uuid")
        label = uuid if isinstance(uuid, str) else f"#{position}"
        event_type = event.get("eventType")
        if not isinstance(event_type, str) or event_type not in handled:
            skipped.append({"event": label, "reason": f"event type {shown(event_type, 60)} not handled"})
            continue
        if not isinstance(uuid, str) or not ids.matches(ids.EXECUTION_NAME, uuid):
            skipped.append({"event": label, "reason": "missing or malformed uuid"})
            continue
        result = (event.get("outcome") or {}).get("result") if isinstance(event.get("outcome"), dict) else None
        if result not in (None, "SUCCESS"):
            skipped.append({"event": label, "reason": f"outcome {shown(result, 20)}"})
            continue
        published = event.get("published")
        if not isinstance(published, str) or parse_time(published) is None:
            skipped.append({"event": label, "reason": "missing or malformed published time"})
            continue
        listed = event.get("target")
        targets = [
            t for t in (listed if isinstance(listed, list) else []) if isinstance(t, dict) and t.get("type") == "User"
        ]
        if not targets:
            skipped.append({"event": label, "reason": "no User target (console preview?)"})
            continue
        for index, target in enumerate(targets):
            user_id = target.get("id")
            if not isinstance(user_id, str) or not ids.matches(ids.OKTA_USER_ID, user_id):
                skipped.append({"event": label, "reason": "User target without a valid id"})
                continue
            login = target.get("alternateId") if isinstance(target.get("alternateId"), str) else None
            lifecycle = LifecycleEvent(
                uuid=uuid, event_type=event_type, published=published, okta_user_id=user_id, okta_login=login
            )
            to_sync.append((lifecycle.execution_name(index, len(targets)), lifecycle))
    return Selection(to_sync=to_sync, skipped=skipped)
