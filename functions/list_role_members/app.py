"""Provisioning step 1: list every member of the Auth0 role (checkpoint paging), check the Okta
group exists, and write the members with work to do to S3 in batches for the Distributed Map.

Input: ``{"request": {"role_id", "group_id", "dry_run", "recheck"}, "run_id"}`` (the execution
input and name: ``ListMembersInput``). Output (``ListMembersResult``): the normalised run options,
the listing ``{bucket, key, members, pending, batches, left_role, ...}`` and the Map's concurrency.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.base import counters
from okta_auth0_sync.domain.payloads.provisioning.members import ListMembersInput, ListMembersResult
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services.provisioning.members import list_members
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.provisioning_state import StateTable


@handler(correlation_id_path="run_id")
def lambda_handler(event: dict, context) -> dict:
    run = ListMembersInput.from_payload(event).run
    config = settings.current()
    state, bucket = StateTable(config.require("state_table")), config.require("provisioning_bucket")
    with counters.usage() as usage:
        listing = list_members(
            run,
            auth0=connections.auth0(),
            okta=connections.okta(),
            state=state,
            bucket=bucket,
            s3=aws.client("s3"),
            policy=config.provisioning_policy,
        )
    state.put_summary(run.run_id, "list", {**listing.to_payload(), "usage": usage.to_dict()})
    summary = {k: v for k, v in listing.to_payload().items() if k != "left_role_sample"}
    logger.info("role members listed", extra={"run": run.to_payload(), **summary})
    return ListMembersResult(run, listing, config.provisioning_concurrency).to_payload()
