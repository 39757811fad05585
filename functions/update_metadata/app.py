"""Metadata update: record the Okta lifecycle event in the per-user ledger, then bring every
Auth0 account with the Okta user's email (ignoring case) to the newest recorded state: flag and
block, and revoke sessions and refresh tokens (deactivate), or clear what this package set
(reactivate). Concurrent executions for one user converge (see ``okta_auth0_sync.deactivation``).

Input: ``{"event": {"uuid", "type", "published"}, "okta_user": {"id", "email"}}``
(``MetadataUpdateRequest``). Output (``SyncReport``): what was recorded
(``newest``/``duplicate``/``superseded``), the state applied, and per-account outcomes
(``flagged``/``cleared``/``already_applied``/``stale_event``/``failed``).
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.deactivation import SyncReport
from okta_auth0_sync.domain.payloads.deactivation import MetadataUpdateRequest
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.deactivation import PersonSync
from okta_auth0_sync.services.revocation import AccessRevoker
from okta_auth0_sync.store.ledger import Ledger

_METRICS = {
    "flagged": "Auth0UsersFlagged",
    "cleared": "Auth0UsersCleared",
    "stale_event": "StaleEventsIgnored",
    "already_applied": "EventsAlreadyApplied",
    "failed": "Auth0UpdateFailures",
}
_ACCESS_METRICS = {
    ("sessions", "revoked"): "SessionsRevoked",
    ("refresh_tokens", "revoked"): "RefreshTokensRevoked",
    ("sessions", "unsupported_plan"): "SessionRevocationUnsupported",
    ("refresh_tokens", "unsupported_plan"): "RefreshTokenRevocationUnsupported",
}


def _person_sync() -> PersonSync:
    config = settings.current()
    ledger = Ledger(config.require("ledger_table"))
    policy = config.sync_policy
    auth0 = connections.auth0()
    return PersonSync(auth0=auth0, ledger=ledger, policy=policy, revoker=AccessRevoker(auth0, policy.revoke))


def _publish_metrics(report: SyncReport) -> None:
    for outcome, count in report.counts.items():
        metrics.add_metric(name=_METRICS[outcome], unit=MetricUnit.Count, value=count)
    for result in report.results:
        for part, status in (result.access or {}).items():
            name = _ACCESS_METRICS.get((part, status))
            if name:
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if report.recorded != "newest":
        metrics.add_metric(
            name="EventsSuperseded" if report.recorded == "superseded" else "EventsDuplicate",
            unit=MetricUnit.Count,
            value=1,
        )
    if not report.matches:
        metrics.add_metric(name="EventsWithoutAuth0User", unit=MetricUnit.Count, value=1)


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    request = MetadataUpdateRequest.from_payload(event)
    report = _person_sync().run(request.event, request.email)
    _publish_metrics(report)
    logger.info(
        "deactivation sync",
        extra={
            "okta_user_id": request.event.okta_user_id,
            "event_uuid": request.event.uuid,
            "action": request.event.action,
            "recorded": report.recorded,
            "applied_event": report.applied.event_uuid,
            "counts": report.counts,
        },
    )
    return report.to_payload()
