"""The Auth0 log ingress as the stream receiver and the poller both build it: settings ->
the Auth0 connection (our M2M client id) -> :class:`LogIngress`; and its metrics."""

from __future__ import annotations

from okta_auth0_sync import settings
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, metrics
from okta_auth0_sync.services.auth0_lifecycle import IngressCounts, LogIngress
from okta_auth0_sync.store.ledger import Ledger


def ingress() -> LogIngress:
    config = settings.current()
    auth0 = connections.tenant("auth0")
    auth0.refresh()
    policy = config.sync_policy
    return LogIngress(
        state_machine_arn=config.require("auth0_lifecycle_state_machine_arn"),
        own_client_id=auth0.connection.client_id,
        mappings=config.provisioning_mappings,
        ledger=Ledger(config.require("ledger_table")),
        marker_path=(policy.target, policy.key),
    )


def publish(counts: IngressCounts) -> None:
    for name, value in (
        ("Auth0LogEventsStarted", counts.started),
        ("Auth0LogEventsDuplicate", counts.duplicates),
        ("Auth0LogEventsOwnWrites", counts.own_writes),
        ("Auth0LogEventsIgnored", counts.ignored),
        ("Auth0LogEventsStartFailed", counts.failed),
    ):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
