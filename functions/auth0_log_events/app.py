"""Auth0 log stream receiver: the target of the EventBridge rules on the Auth0 partner event bus.

One event = one Auth0 log (``detail.data``). The log is classified (role assigned / removed for a
mapped role, blocked / unblocked, deleted; anything else ignored), our own writes are dropped (our
M2M client id, or the deactivation sync's marker confirmed by the ledger), and one
``Auth0Lifecycle`` execution starts per event, named after the ``log_id``: a repeated delivery
starts nothing. A malformed event is refused (logged, metric ``Auth0LogEventsInvalid``) without
retry: nothing is started for it. Failing to start raises, so EventBridge retries (24 h) and then
puts the event in the dead-letter queue.
"""

from okta_auth0_sync.base.errors import InvalidInput, UpstreamUnavailable
from okta_auth0_sync.domain.auth0_logs import log_of_envelope
from okta_auth0_sync.runtime.auth0_logs import ingress, publish
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics


@handler(correlation_id_path="id")
def lambda_handler(event: dict, context) -> dict:
    try:
        log = log_of_envelope(event)
    except InvalidInput as exc:
        metrics.add_metric(name="Auth0LogEventsInvalid", unit=MetricUnit.Count, value=1)
        logger.warning("auth0 log event refused", extra={"reason": str(exc)})
        return {"invalid": str(exc)}
    counts = ingress().handle([log])
    publish(counts)
    logger.info("auth0 log event", extra={"log_id": log.get("log_id"), **counts.to_payload()})
    if counts.failed:
        raise UpstreamUnavailable(f"could not start {counts.failed} execution(s): {', '.join(counts.errors)[:200]}")
    return counts.to_payload()
