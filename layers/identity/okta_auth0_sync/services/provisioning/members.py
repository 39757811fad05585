"""Step 1 of a run: every member of the role, the ones with work to do written to S3 in batches."""

from __future__ import annotations

import json
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput, NotFound
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.payloads.provisioning.batch import Batch
from okta_auth0_sync.domain.payloads.provisioning.members import Listing
from okta_auth0_sync.domain.policies import ProvisioningPolicy
from okta_auth0_sync.domain.provisioning import RunOptions
from okta_auth0_sync.store.provisioning_state import DONE, StateTable

DRIFT_SAMPLE = 20


def list_members(
    options: RunOptions,
    *,
    auth0: Auth0Client,
    okta: OktaClient,
    state: StateTable,
    bucket: str,
    s3: Any,
    policy: ProvisioningPolicy,
) -> Listing:
    mapping = options.mapping
    try:
        okta.get_group(mapping.group_id)  # fail the run early and clearly, before any work
    except NotFound:
        raise InvalidInput(f"Okta group {mapping.group_id} does not exist (check OktaGroupId / the mapping)") from None
    try:
        member_ids = list(dict.fromkeys(auth0.role_member_ids(mapping.role_id)))
    except NotFound:
        raise InvalidInput(f"Auth0 role {mapping.role_id} does not exist (check Auth0RoleId / the mapping)") from None

    recorded = {} if options.recheck else state.outcomes(mapping, member_ids)
    pending = [uid for uid in member_ids if recorded.get(uid, {}).get("outcome") not in DONE]
    current = set(member_ids)
    left = [m["user_id"] for m in state.members(mapping) if m["user_id"] not in current and m.get("outcome") in DONE]

    batches = [
        Batch(i, tuple(pending[start : start + policy.batch_size]))
        for i, start in enumerate(range(0, len(pending), policy.batch_size))
    ]
    key = f"runs/{options.run_id}/batches.json"
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps([batch.to_payload() for batch in batches]).encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    return Listing(
        bucket=bucket,
        key=key,
        members=len(member_ids),
        pending=len(pending),
        batches=len(batches),
        left_role=len(left),
        left_role_sample=tuple(left[:DRIFT_SAMPLE]),
    )
