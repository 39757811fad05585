"""Okta event hook receiver (API Gateway HTTP API).

``GET``  one-time verification: answers ``{"verification": <X-Okta-Verification-Challenge>}``.
``POST`` deliveries: starts one Standard execution per lifecycle event, named after the event's
``uuid`` (a repeated delivery starts nothing new), and answers at once: it never waits for the
work. Both check the shared secret Okta sends in ``Authorization`` (constant time).
Answers: 204 accepted, 400 malformed, 413 too large, 415 not UTF-8 JSON (Okta does not retry a
4xx; nothing is started), 401 bad secret (nothing started), 500 when an execution could not be
started (Okta retries once; names dedupe it).
"""

import time

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from okta_auth0_sync import settings
from okta_auth0_sync.domain.hooks import (
    InvalidDelivery,
    authorized,
    check_media_type,
    delivery_bytes,
    hook_secrets,
    parse_delivery,
    select_events,
)
from okta_auth0_sync.domain.payloads.deactivation import DeactivationSyncInput
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.store import executions
from okta_auth0_sync.store.secrets import load_secret

HOOK_PATH = "/okta/event-hook"
OKTA_DEADLINE_SECONDS = 2.5  # Okta gives up after 3 s: keep a margin for the response
SECRET_REFETCH_INTERVAL = 60.0

app = APIGatewayHttpResolver()
_last_forced_fetch = 0.0


def _secret_matches() -> bool:
    """Compare with the cached secret; after a mismatch re-read it (at most once a minute) in
    case it was just rotated."""
    global _last_forced_fetch
    presented = app.current_event.headers.get("authorization")
    config = settings.current()
    secret_id, max_age = config.event_hook_secret_id, config.secret_max_age
    if authorized(presented, hook_secrets(load_secret(secret_id, max_age=max_age, env_name="EVENT_HOOK_SECRET_ID"))):
        return True
    if presented and time.monotonic() - _last_forced_fetch > SECRET_REFETCH_INTERVAL:
        _last_forced_fetch = time.monotonic()
        fresh = load_secret(secret_id, max_age=max_age, force_fetch=True, env_name="EVENT_HOOK_SECRET_ID")
        return authorized(presented, hook_secrets(fresh))
    return False


def _time_left() -> float:
    """Seconds left of Okta's 3 s, counted from when API Gateway received the request (a time
    that is not plausible for a live request, such as a replayed sample event's, counts as now)."""
    received_ms = app.current_event.request_context.time_epoch
    elapsed = time.time() - received_ms / 1000 if received_ms else 0.0
    if not 0.0 <= elapsed <= OKTA_DEADLINE_SECONDS:
        elapsed = 0.0
    return max(0.5, OKTA_DEADLINE_SECONDS - elapsed)


def _unauthorized() -> Response:
    metrics.add_metric(name="EventHookUnauthorized", unit=MetricUnit.Count, value=1)
    logger.warning("event hook request with a missing or wrong Authorization header")
    return Response(401, content_types.APPLICATION_JSON, {"message": "Unauthorized"})


@app.get(HOOK_PATH)
def verify():
    if not _secret_matches():
        return _unauthorized()
    challenge = app.current_event.headers.get("x-okta-verification-challenge")
    if not challenge:
        return Response(400, content_types.APPLICATION_JSON, {"message": "missing X-Okta-Verification-Challenge"})
    logger.info("event hook verification answered")
    return {"verification": challenge}


@app.post(HOOK_PATH)
def deliver():
    if not _secret_matches():
        return _unauthorized()
    request = app.current_event
    check_media_type(request.headers.get("content-type"))
    envelope = parse_delivery(delivery_bytes(request.body, request.is_base64_encoded))
    config = settings.current()
    selection = select_events(envelope, config.handled_event_types)
    started = executions.start_many(
        config.require("deactivation_state_machine_arn"),
        [(name, DeactivationSyncInput.of_event(event).to_payload()) for name, event in selection.to_sync],
        budget_seconds=_time_left(),
    )
    counts = {status: sum(1 for s in started if s.status == status) for status in ("started", "duplicate", "failed")}
    for status, count in counts.items():
        metrics.add_metric(name=f"HookEvents{status.title()}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="HookEventsSkipped", unit=MetricUnit.Count, value=len(selection.skipped))
    logger.info(
        "event hook delivery",
        extra={"delivery_id": str(envelope.get("eventId"))[:64], **counts, "skipped": selection.skipped[:20]},
    )
    if counts["failed"]:
        logger.error(
            "could not start every execution; asking Okta to retry",
            extra={"errors": sorted({s.error for s in started if s.error})},
        )
        return Response(500, content_types.APPLICATION_JSON, {"message": "retry later"})
    return Response(204, None, None)


@app.exception_handler(InvalidDelivery)
def invalid_delivery(exc: InvalidDelivery):
    metrics.add_metric(name="EventHookRejected", unit=MetricUnit.Count, value=1)
    logger.warning("event hook delivery rejected", extra={"reason": str(exc)})
    return Response(exc.status, content_types.APPLICATION_JSON, {"message": str(exc)})


@handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, trace=False)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
