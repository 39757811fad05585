"""Fan-out: one provisioning execution per role->group mapping (the schedule's input)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.store import executions


def execution_name(mapping: RoleGroupMapping, occasion: str) -> str:
    """Deterministic per mapping and occasion (the schedule's time), so a repeated delivery of the
    same schedule tick starts nothing new. At most 80 characters."""
    name = f"{mapping.role_id}-{mapping.group_id}-{re.sub(r'[^A-Za-z0-9]', '', occasion)}"
    if len(name) > 80:
        name = name[:63] + "-" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return name


def start_mapping_runs(
    state_machine_arn: str, mappings: Any, *, occasion: str, dry_run: bool = False, recheck: bool = False
) -> list[dict[str, Any]]:
    if not isinstance(mappings, list) or not mappings:
        raise InvalidInput("mappings must be a non-empty list of {role_id, group_id}")
    parsed = list(dict.fromkeys(RoleGroupMapping.parse(m) for m in mappings))
    started = []
    for mapping in parsed:
        name = execution_name(mapping, occasion)
        result = executions.start(
            state_machine_arn,
            name,
            {"role_id": mapping.role_id, "group_id": mapping.group_id, "dry_run": dry_run, "recheck": recheck},
        )
        if result.status == "failed":
            raise RuntimeError(f"could not start the run for {mapping.role_id} -> {mapping.group_id}: {result.error}")
        started.append(
            {"role_id": mapping.role_id, "group_id": mapping.group_id, "execution": name, "status": result.status}
        )
    return started
