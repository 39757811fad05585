"""System Log sweep (EventBridge Scheduler, every 15 minutes by default): reconciles the
lifecycle events an event hook or a log stream may have lost.

Reads ``/api/v1/logs`` for the handled event types from the checkpoint (a first sweep goes
``SYSTEM_LOG_BACKFILL_HOURS`` back), starts the deactivation sync for each event under the same
name the hook uses (its ``uuid``: anything already started counts as already done), and advances
the checkpoint page by page once that page's executions are started
(:mod:`okta_auth0_sync.services.system_log_sweep`). Input (``SweepRequest``): ``{}`` or
``{"scheduled_time": "..."}``. Output (``SweepReport``): ``{"read", "started", "already_done",
"skipped", "failed", "pages", "first_run", "stopped", "checkpoint_version", "errors"}``, also
published as metrics and one log line. Executions that could not be started fail the invocation
(``UpstreamUnavailable``) after the report: the checkpoint stayed before them, and the next sweep
(or Lambda's retry of this one) starts them.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import UpstreamUnavailable
from okta_auth0_sync.domain.payloads.system_log import SweepReport, SweepRequest
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.system_log_sweep import Sweep, SweepOptions
from okta_auth0_sync.store.checkpoints import CheckpointStore

METRICS = {
    "SweepEventsRead": "read",
    "SweepExecutionsStarted": "started",
    "SweepEventsAlreadyDone": "already_done",
    "SweepEventsSkipped": "skipped",
    "SweepStartFailures": "failed",
    "SweepPages": "pages",
}


def _report(request: SweepRequest, report: SweepReport) -> None:
    for name, attribute in METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(report, attribute))
    logger.info(
        "system log sweep",
        extra={
            **report.to_payload(),
            "scheduled_time": request.scheduled_time,
            "skipped_reasons": report.skipped_reasons[:10],
        },
    )


@handler(trace=False)
def lambda_handler(event: dict, context) -> dict:
    request = SweepRequest.from_payload(event)
    config = settings.current()
    options = SweepOptions(
        state_machine_arn=config.require("deactivation_state_machine_arn"),
        handled_types=config.handled_event_types,
        backfill_hours=config.system_log_backfill_hours,
        page_size=config.system_log_page_size,
        max_pages=config.system_log_max_pages,
    )
    store = CheckpointStore(config.require("checkpoint_table"))
    report = Sweep(connections.okta(), store, options).run(container.remaining_seconds)
    _report(request, report)
    if report.failed:
        raise UpstreamUnavailable(
            f"{report.failed} execution(s) could not be started ({', '.join(report.errors) or 'unknown'}); "
            "the checkpoint stays before them and the next sweep starts them"
        )
    return report.to_payload()
