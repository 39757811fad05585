"""Auth0 log poll, the fallback for tenants without a log stream (EventBridge Scheduler, every few
minutes): ``GET /api/v2/logs`` from the checkpoint (``from``/``take``), each log through the same
classification and execution start as the stream (named by ``log_id``: a log seen by both starts
one execution), the checkpoint advanced after each page. A first poll only records where it starts.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.base.errors import UpstreamUnavailable
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.auth0_logs import ingress, publish
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services.auth0_lifecycle import IngressCounts, LogPoller
from okta_auth0_sync.store.checkpoints import CheckpointStore


@handler
def lambda_handler(event: dict, context) -> dict:
    config = settings.current()
    poller = LogPoller(
        connections.auth0(),
        CheckpointStore(config.require("checkpoint_table")),
        ingress(),
        max_pages=config.auth0_log_poll_pages,
    )
    result = poller.poll()
    counts = IngressCounts(
        **{k: result[k] for k in ("logs", "started", "duplicates", "failed", "own_writes", "ignored")}
    )
    publish(counts)
    logger.info("auth0 log poll", extra=result)
    if counts.failed:
        raise UpstreamUnavailable(f"could not start {counts.failed} execution(s); the next poll reads them again")
    return result
