"""Provisioning step 1: list every member of the Auth0 role (checkpoint paging), check the Okta
group exists, and write the members with work to do to S3 in batches for the Distributed Map.

Input: ``{"request": {"role_id", "group_id", "dry_run", "recheck"}, "run_id"}`` (the execution
input and name). Output: the normalised run options, the Map's concurrency, and
``{bucket, key, members, pending, batches, left_role}``.
"""

import os

from okta_auth0_sync.base import counters
from okta_auth0_sync.domain.provisioning import ProvisioningPolicy, RunOptions
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services.provisioning.members import list_members
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.provisioning_state import StateTable


@handler(correlation_id_path="run_id")
def lambda_handler(event: dict, context) -> dict:
    event = event or {}
    options = RunOptions.parse({**(event.get("request") or {}), "run_id": event.get("run_id")})
    state = StateTable(os.environ["STATE_TABLE"])
    with counters.usage() as usage:
        listing = list_members(
            options,
            auth0=connections.auth0(),
            okta=connections.okta(),
            state=state,
            bucket=os.environ["PROVISIONING_BUCKET"],
            s3=aws.client("s3"),
            policy=ProvisioningPolicy.from_env(),
        )
    state.put_summary(options.run_id, "list", {**listing, "usage": usage.to_dict()})
    logger.info(
        "role members listed",
        extra={"run": options.to_dict(), **{k: v for k, v in listing.items() if k != "left_role_sample"}},
    )
    return {
        "run": options.to_dict(),
        "members": listing,
        "concurrency": int(os.environ.get("PROVISIONING_CONCURRENCY", "4")),
    }
