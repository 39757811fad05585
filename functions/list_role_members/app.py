"""Provisioning step 1 (beside the worker): list every member of the Auth0 role (checkpoint
paging), check the Okta group exists, write the members with work to do as batches while the
role is read (the worker takes each at once), and find who departed (for deprovisioning).

Input (``ListMembersInput``): ``{"request": {"role_id", "group_id", "dry_run", "recheck"},
"run_id"}``; with ``"failure"`` (the step's Catch) it marks the listing failed, so the worker
stops waiting. Output (``ListMembersResult``): the run options and the listing's counts.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.provisioning.members import ListMembersInput, ListMembersResult
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services.provisioning.members import list_members
from okta_auth0_sync.services.provisioning.usage import recorded_usage
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.provisioning_state import StateTable


@handler(correlation_id_path="run_id")
def lambda_handler(event: dict, context) -> dict:
    request = ListMembersInput.from_payload(event)
    run = request.run
    config = settings.current()
    state, bucket = StateTable(config.require("state_table")), config.require("provisioning_bucket")
    if request.failed:
        progress = state.part(run.run_id, "progress") or {}
        state.put_summary(run.run_id, "progress", {**progress, "failed": True})
        return {"run": run.to_payload(), "failed": True}
    with recorded_usage(state, run.run_id, "list", context):
        listing = list_members(
            run,
            auth0=connections.auth0(),
            okta=connections.okta(),
            state=state,
            bucket=bucket,
            s3=aws.client("s3"),
            policy=config.provisioning_policy,
        )
    result = ListMembersResult(run, listing).to_payload()
    logger.info("role members listed", extra={"run": run.to_payload(), **result["members"]})
    return result
