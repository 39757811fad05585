"""Provisioning: deprovisioning, after the listing. Members this package put in the Okta group
who left the role or were blocked in Auth0 are removed from it (and, if configured, their Okta
user suspended or deactivated), unless that would remove more than the safety stop allows: then
nobody is removed, and the ``DeprovisioningSafetyStop`` metric (alarmed) and the report say why.

Input (``DeprovisionInput``): ``{"run": {...}}``. Output: the deprovisioning summary
``{"safety_stop": {...}, "counts", "sample", "enabled"}``.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.provisioning.batch import DeprovisionInput
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.provisioning.deprovision import MemberContext, deprovision_run
from okta_auth0_sync.services.provisioning.usage import recorded_usage
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.provisioning_state import StateTable


@handler(correlation_id_path="run.run_id")
def lambda_handler(event: dict, context) -> dict:
    run = DeprovisionInput.from_payload(event).run
    config = settings.current()
    state, bucket = StateTable(config.require("state_table")), config.require("provisioning_bucket")
    member_context = MemberContext(
        run.mapping,
        run.run_id,
        config.deprovision_policy,
        frozenset(m.group_id for m in config.provisioning_mappings),
        run.dry_run,
    )
    with recorded_usage(state, run.run_id, "deprovision", context):
        summary = deprovision_run(
            run, context=member_context, okta=connections.okta(), state=state, s3=aws.client("s3"), bucket=bucket
        )
    stopped = bool(summary["safety_stop"]["stopped"])
    if not run.dry_run:
        metrics.add_metric(name="DeprovisioningSafetyStop", unit=MetricUnit.Count, value=1 if stopped else 0)
    (logger.error if stopped else logger.info)(
        "deprovisioning safety stop: nobody removed" if stopped else "deprovisioning done",
        extra={"run_id": run.run_id, "deprovisioning": summary},
    )
    return summary
