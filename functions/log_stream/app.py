"""Okta Log Streaming receiver (an EventBridge rule on the Okta partner event bus): starts the
deactivation sync for one streamed System Log event, under the same name the event hook and the
System Log sweep use (the event's ``uuid``), so whichever ingress sees an event first starts it
and the others find it already done.

Input: the EventBridge event (``source`` ``aws.partner/okta.com/...``, ``detail`` = the System
Log event). Output (``StreamResult``): ``{"started", "already_done", "skipped"[, "rejected"]}``.
An event that is not an Okta System Log event, or a lifecycle event that cannot be synced
(malformed, not SUCCESS, no User target), is reported (metric, log line) and answered, never
raised: retrying it cannot help. An execution that could not be started raises
``UpstreamUnavailable``: Lambda and the rule retry the event, and the sweep is behind them.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.base.errors import InvalidInput, UpstreamUnavailable, shown
from okta_auth0_sync.domain.hooks import select_lifecycle_events
from okta_auth0_sync.domain.payloads.system_log import StreamResult
from okta_auth0_sync.domain.system_log import stream_event
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.ingress import start_selected

START_BUDGET_SECONDS = 20.0


def _rejected(reason: str) -> dict:
    metrics.add_metric(name="StreamEventsRejected", unit=MetricUnit.Count, value=1)
    logger.warning("log stream event rejected", extra={"reason": reason})
    return StreamResult(rejected=reason).to_payload()


@handler(trace=False)
def lambda_handler(event: dict, context) -> dict:
    try:
        detail = stream_event(event)
    except InvalidInput as exc:
        return _rejected(str(exc))
    config = settings.current()
    selection = select_lifecycle_events([detail], config.handled_event_types)
    started = start_selected(
        config.require("deactivation_state_machine_arn"), selection, budget_seconds=START_BUDGET_SECONDS
    )
    metrics.add_metric(name="StreamExecutionsStarted", unit=MetricUnit.Count, value=started.started)
    metrics.add_metric(name="StreamEventsAlreadyDone", unit=MetricUnit.Count, value=started.already_done)
    metrics.add_metric(name="StreamEventsSkipped", unit=MetricUnit.Count, value=len(selection.skipped))
    result = StreamResult(started.started, started.already_done, selection.skipped[:5])
    logger.info(
        "log stream event",
        extra={"event_id": shown(event.get("id"), 64), **result.to_payload(), "failed": started.failed},
    )
    if started.failed:
        raise UpstreamUnavailable(
            f"could not start the deactivation sync ({', '.join(started.errors) or 'unknown'}); retry the event"
        )
    return result.to_payload()
