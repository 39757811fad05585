"""The ``Auth0Lifecycle`` state machine's task (one per Auth0 log event).

- ``reverse_sync``: blocked / unblocked / deleted in Auth0 -> suspend / unsuspend / deactivate the
  Okta user this package provisioned, converging on the newest log per user (``ReverseSync``);
- ``decide_role``: assigned to / removed from a mapped role -> the provisioning worker's input for
  that member per mapping (``provision``), or ``deprovision``;
- ``deprovision_role``: the member left the role -> out of the group, behind the event safety stop
  (a full window: nothing removed, ``stopped``, metrics ``DeprovisioningSafetyStop`` (alarmed)
  and ``DeprovisioningEventSafetyStops``);
- ``commit_role``: is the decided role state still the newest (else decide again)?

Input: ``{"step", "event": {log_id, date, kind, auth0_user_id[, role_id]}, "execution_name"[, "key",
"version"]}`` (``LifecycleTask``).
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.auth0_lifecycle import LifecycleTask
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.auth0_lifecycle import ReverseSync, RoleEvents
from okta_auth0_sync.services.provisioning.event_removals import SAFETY_STOP
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
        policy = config.deprovision_policy  # the scheduled run's rules and share (DEPROVISION*)
        events = RoleEvents(ledger, state, mappings)
        results = events.deprovision(
            task.event, task.execution_name, okta=connections.okta(), policy=policy, version=task.version
        )
        stopped = [r for r in results if r["outcome"] == SAFETY_STOP]
        if stopped:  # the run safety stop's alarm, and a count of the events it held back
            metrics.add_metric(name="DeprovisioningSafetyStop", unit=MetricUnit.Count, value=1)
            metrics.add_metric(name="DeprovisioningEventSafetyStops", unit=MetricUnit.Count, value=len(stopped))
            logger.warning("event removal stopped by the safety stop", extra={"safety_stop": stopped[0]["safety_stop"]})
        result = {"results": results, "stopped": bool(stopped)}
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
