"""Metadata update: flag (deactivate) or clear (reactivate) every Auth0 user with the Okta
user's email, merging into their metadata without loss and ignoring out-of-order events.

Input: ``{"event": {"uuid", "type", "published"}, "okta_user": {"id", "email"}}``.
Output: per-user outcomes (``flagged``/``cleared``/``already_applied``/``stale_event``/``failed``).
"""

from okta_auth0_sync import connections
from okta_auth0_sync.deactivation import SyncEvent, SyncPolicy, sync_auth0_users
from okta_auth0_sync.errors import InvalidInput
from okta_auth0_sync.observability import MetricUnit, handler, logger, metrics

_METRICS = {"flagged": "Auth0UsersFlagged", "cleared": "Auth0UsersCleared", "stale_event": "StaleEventsIgnored",
            "already_applied": "EventsAlreadyApplied", "failed": "Auth0UpdateFailures"}


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    event = event or {}
    okta_user = event.get("okta_user") or {}
    if not isinstance(okta_user, dict) or not isinstance(okta_user.get("id"), str):
        raise InvalidInput("okta_user.id is required")
    sync_event = SyncEvent.from_input(event.get("event"), okta_user["id"])
    report = sync_auth0_users(connections.auth0(), okta_user.get("email"), sync_event, SyncPolicy.from_env())
    for outcome, count in report["counts"].items():
        metrics.add_metric(name=_METRICS[outcome], unit=MetricUnit.Count, value=count)
    if not report["matches"]:
        metrics.add_metric(name="EventsWithoutAuth0User", unit=MetricUnit.Count, value=1)
    logger.info("deactivation sync", extra={"okta_user_id": sync_event.okta_user_id, "event_uuid": sync_event.uuid,
                                            "action": sync_event.action, "counts": report["counts"]})
    return report
