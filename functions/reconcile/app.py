"""Full-state reconciliation, one step: compare Okta's deactivated (and, when suspensions are
synced, suspended) users with the flags in Auth0, both ways, and start the on-demand
deactivation sync of every Okta user that drifted (unless ``dry_run``). See
``okta_auth0_sync.services.reconciliation``.

Input: the run's state (``ReconciliationRun``; the first step gets ``{"dry_run", "requested_by"}``).
Output: the same state, moved on: ``phase`` (``okta``, ``auth0``, ``done``), where to resume, the
counts and the first 100 drifts. The state machine calls this until ``phase`` is ``done``.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.reconciliation import MISSING_FLAG, STALE_FLAG, ReconciliationRun
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.reconciliation import Reconciler, starter

SUSPEND = "user.lifecycle.suspend"


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    run = ReconciliationRun.from_payload(event.get("run") if isinstance(event, dict) else event)
    config = settings.current()
    before = dict(run.counts)
    reconciler = Reconciler(
        connections.okta(),
        connections.auth0(),
        config.sync_policy,
        include_suspended=SUSPEND in config.handled_event_types,
        start=starter(config.require("deactivation_state_machine_arn")),
    )
    run = reconciler.step(run)
    for key, name in ((MISSING_FLAG, "DriftMissingFlag"), (STALE_FLAG, "DriftStaleFlag")):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=run.counts[key] - before[key])
    logger.info("reconciliation step", extra={"phase": run.phase, "dry_run": run.dry_run, "counts": run.counts})
    return run.to_payload()
