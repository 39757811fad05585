"""Fan-out: one provisioning execution per role->group mapping (the schedule's input)."""

from __future__ import annotations

import hashlib
import re

from okta_auth0_sync.domain.payloads.provisioning.runs import FanOutInput, StartedRun
from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.store import executions


def execution_name(mapping: RoleGroupMapping, occasion: str) -> str:
    """Deterministic per mapping and occasion (the schedule's time), so a repeated delivery of the
    same schedule tick starts nothing new. At most 80 characters."""
    name = f"{mapping.role_id}-{mapping.group_id}-{re.sub(r'[^A-Za-z0-9]', '', occasion)}"
    if len(name) > 80:
        name = name[:63] + "-" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return name


def start_mapping_runs(request: FanOutInput) -> list[StartedRun]:
    """One execution per mapping of the schedule (an execution that exists already is a duplicate)."""
    started = []
    for mapping in request.mappings:
        name = execution_name(mapping, request.occasion)
        result = executions.start(request.state_machine_arn, name, request.request(mapping).to_payload())
        if result.status == "failed":
            raise RuntimeError(f"could not start the run for {mapping.role_id} -> {mapping.group_id}: {result.error}")
        started.append(StartedRun(mapping, name, result.status))
    return started
