"""The ``Auth0Lifecycle`` state machine's task (one per Auth0 log event).

- ``reverse_sync``: blocked / unblocked / deleted in Auth0 -> suspend / unsuspend / deactivate the
  Okta user this package provisioned, converging on the newest log per user (``ReverseSync``);
- ``decide_role``: assigned to / removed from a mapped role -> the provisioning worker's input for
  that member per mapping (``provision``), or ``deprovision``;
- ``commit_role``: is the decided role state still the newest (else decide again)?

Input: ``{"step", "event": {log_id, date, kind, auth0_user_id[, role_id]}, "execution_name"[, "key",
"version"]}`` (``LifecycleTask``).
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.auth0_lifecycle import LifecycleTask
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.auth0_lifecycle import ReverseSync, RoleEvents
from okta_auth0_sync.store.auth0_ledger import Auth0Ledger
from okta_auth0_sync.store.provisioning_state import StateTable

_METRICS = {"suspend": "OktaUsersSuspended", "unsuspend": "OktaUsersUnsuspended", "deactivate": "OktaUsersDeactivated"}


@handler(correlation_id_path="execution_name")
def lambda_handler(event: dict, context) -> dict:
    task = LifecycleTask.from_payload(event)
    config = settings.current()
    ledger = Auth0Ledger(config.require("ledger_table"))
    state = StateTable(config.require("state_table"))
    mappings = config.provisioning_mappings
    if task.step == "reverse_sync":
        sync = ReverseSync(connections.okta(), ledger, state, mappings, config.reverse_sync_policy)
        result = sync.run(task.event)
        if result.get("operation") in _METRICS:
            metrics.add_metric(name=_METRICS[result["operation"]], unit=MetricUnit.Count, value=1)
    elif task.step == "decide_role":
        result = RoleEvents(ledger, state, mappings).decide(task.event, task.execution_name)
    elif task.step == "deprovision_role":
        policy = config.deprovision_policy  # the scheduled run's rules (DEPROVISION*)
        events = RoleEvents(ledger, state, mappings)
        result = {
            "results": events.deprovision(task.event, task.execution_name, okta=connections.okta(), policy=policy)
        }
    else:
        assert task.key is not None and task.version is not None  # checked by LifecycleTask
        result = {"committed": RoleEvents(ledger, state, mappings).commit(task.key, task.version)}
    logger.info(
        "auth0 lifecycle",
        extra={"step": task.step, "log_id": task.event.log_id, "kind": task.event.kind, **_summary(result)},
    )
    return result


def _summary(result: dict) -> dict:
    return {k: result[k] for k in ("recorded", "outcome", "operation", "action", "committed") if k in result}
