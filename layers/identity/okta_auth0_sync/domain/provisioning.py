"""Provisioning, Auth0 role -> Okta group: a mapping, and what a run was asked to do (the policy
for new Okta users is :class:`okta_auth0_sync.domain.policies.ProvisioningPolicy`).

:class:`RoleGroupMapping`, :class:`ProvisioningRequest` and :class:`RunOptions` are payloads too:
each reads itself from a payload (``from_payload``, :class:`InvalidInput` naming the field) and
writes the same JSON (``to_payload``), so whoever starts a run and whoever reads it use one class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain import ids


@dataclass(frozen=True)
class RoleGroupMapping:
    role_id: str
    group_id: str

    @classmethod
    def from_payload(cls, data: Any) -> RoleGroupMapping:
        if not isinstance(data, Mapping):
            raise InvalidInput('a mapping is an object {"role_id": "rol_...", "group_id": "00g..."}')
        role_id, group_id = data.get("role_id"), data.get("group_id")
        if not ids.matches(ids.AUTH0_ROLE_ID, role_id):
            raise InvalidInput("role_id must be an Auth0 role id such as rol_0123456789abcdef")
        if not ids.matches(ids.OKTA_GROUP_ID, group_id):
            raise InvalidInput("group_id must be an Okta group id such as 00g1emaKYZTWRYYRRTSK")
        return cls(str(role_id), str(group_id))

    def to_payload(self) -> dict[str, str]:
        return {"role_id": self.role_id, "group_id": self.group_id}

    @property
    def key(self) -> str:
        return f"map#{self.role_id}#{self.group_id}"


def flag(payload: Mapping[str, Any], name: str) -> bool:
    """An optional true/false field of a payload (absent: false); anything else is InvalidInput."""
    value = payload.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false")
    return value


@dataclass(frozen=True)
class ProvisioningRequest:
    """One mapping's run as asked: the provisioning state machine's execution input
    ``{"role_id", "group_id", "dry_run", "recheck"[, "requested_by"]}`` (started by the schedule's
    fan-out or by the invoke API, read by the run's first step)."""

    mapping: RoleGroupMapping
    dry_run: bool = False
    recheck: bool = False  # ignore recorded outcomes: re-examine every member
    requested_by: str | None = None  # the invoke API's caller (client id)

    @classmethod
    def from_payload(cls, data: Any) -> ProvisioningRequest:
        mapping = RoleGroupMapping.from_payload(data)
        requested_by = data.get("requested_by")
        return cls(
            mapping,
            flag(data, "dry_run"),
            flag(data, "recheck"),
            requested_by if isinstance(requested_by, str) else None,
        )

    @classmethod
    def from_api_body(cls, body: Any, requested_by: str) -> ProvisioningRequest:
        """``POST /provisioning/runs``: the body may name the mapping and ``dry_run`` (nothing else)."""
        if not isinstance(body, Mapping):
            raise InvalidInput("the body must be a JSON object")
        accepted = {k: body[k] for k in ("role_id", "group_id", "dry_run") if k in body}
        return replace(cls.from_payload(accepted), requested_by=requested_by)

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.mapping.to_payload(), "dry_run": self.dry_run, "recheck": self.recheck}
        if self.requested_by is not None:
            out["requested_by"] = self.requested_by
        return out


@dataclass(frozen=True)
class RunOptions:
    """What an execution was asked to do, named by its run id (the execution name): the ``run``
    object every step of a run passes on ``{"role_id", "group_id", "run_id", "dry_run", "recheck"}``."""

    mapping: RoleGroupMapping
    run_id: str
    dry_run: bool = False
    recheck: bool = False  # ignore recorded outcomes: re-examine every member

    @classmethod
    def from_payload(cls, data: Any) -> RunOptions:
        run_id = data.get("run_id") if isinstance(data, Mapping) else None
        if not ids.matches(ids.EXECUTION_NAME, run_id):
            raise InvalidInput("run_id (the execution name) is required")
        request = ProvisioningRequest.from_payload(data)
        return cls(request.mapping, str(run_id), request.dry_run, request.recheck)

    def to_payload(self) -> dict[str, Any]:
        return {
            "role_id": self.mapping.role_id,
            "group_id": self.mapping.group_id,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "recheck": self.recheck,
        }
