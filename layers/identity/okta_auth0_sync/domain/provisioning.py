"""Provisioning settings: the role->group mapping of a run and the policy for new Okta users."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from okta_auth0_sync.base.errors import ConfigurationError, InvalidInput

_ROLE_ID = re.compile(r"^rol_[A-Za-z0-9]{1,64}$")
_GROUP_ID = re.compile(r"^00g[A-Za-z0-9]{1,64}$")

# Where each Okta profile attribute comes from, in order of preference. "name.first"/"name.last"
# split the Auth0 ``name`` ("Ada Lovelace"), unless it is an e-mail address (Auth0 database users
# get their e-mail as name by default).
DEFAULT_PROFILE_MAPPING: dict[str, list[str]] = {
    "firstName": ["user_metadata.firstName", "user_metadata.first_name", "given_name", "name.first"],
    "lastName": ["user_metadata.lastName", "user_metadata.last_name", "family_name", "name.last"],
    "email": ["email"],
    "login": ["email"],
}


@dataclass(frozen=True)
class RoleGroupMapping:
    role_id: str
    group_id: str

    @classmethod
    def parse(cls, data: Any) -> RoleGroupMapping:
        if not isinstance(data, Mapping):
            raise InvalidInput('a mapping is an object {"role_id": "rol_...", "group_id": "00g..."}')
        role_id, group_id = data.get("role_id"), data.get("group_id")
        if not isinstance(role_id, str) or not _ROLE_ID.match(role_id):
            raise InvalidInput("role_id must be an Auth0 role id such as rol_0123456789abcdef")
        if not isinstance(group_id, str) or not _GROUP_ID.match(group_id):
            raise InvalidInput("group_id must be an Okta group id such as 00g1emaKYZTWRYYRRTSK")
        return cls(role_id, group_id)

    @property
    def key(self) -> str:
        return f"map#{self.role_id}#{self.group_id}"


@dataclass(frozen=True)
class RunOptions:
    """What an execution was asked to do."""

    mapping: RoleGroupMapping
    run_id: str
    dry_run: bool = False
    recheck: bool = False  # ignore recorded outcomes: re-examine every member

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> RunOptions:
        run_id = event.get("run_id")
        if not isinstance(run_id, str) or not re.match(r"^[A-Za-z0-9_.:-]{1,80}$", run_id):
            raise InvalidInput("run_id (the execution name) is required")
        for flag in ("dry_run", "recheck"):
            if not isinstance(event.get(flag, False), bool):
                raise InvalidInput(f"{flag} must be true or false")
        return cls(
            RoleGroupMapping.parse(event), run_id, bool(event.get("dry_run", False)), bool(event.get("recheck", False))
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "role_id": self.mapping.role_id,
            "group_id": self.mapping.group_id,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "recheck": self.recheck,
        }


@dataclass(frozen=True)
class ProvisioningPolicy:
    """How Okta users are created (the original template's options, kept and configurable)."""

    activate: bool = True
    federated: bool = True
    mastered_attribute: str | None = "auth0_mastered"  # custom Okta profile attribute; None: not set
    mastered_value: Any = "true"
    profile_mapping: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_PROFILE_MAPPING))
    skip_blocked: bool = True
    batch_size: int = 50

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProvisioningPolicy:
        env = os.environ if env is None else env
        mapping = dict(DEFAULT_PROFILE_MAPPING)
        raw = env.get("PROFILE_MAPPING")
        if raw:
            try:
                custom = json.loads(raw)
            except ValueError:
                raise ConfigurationError('PROFILE_MAPPING must be JSON: {"firstName": ["given_name", ...]}') from None
            if not isinstance(custom, dict) or not all(
                isinstance(v, list) and all(isinstance(s, str) for s in v) for v in custom.values()
            ):
                raise ConfigurationError("PROFILE_MAPPING maps Okta attributes to lists of Auth0 paths")
            mapping.update(custom)
        attribute = env.get("MASTERED_ATTRIBUTE", "auth0_mastered").strip() or None
        try:
            batch_size = int(env.get("PROVISIONING_BATCH_SIZE", "50"))
        except ValueError:
            raise ConfigurationError("PROVISIONING_BATCH_SIZE must be a number") from None
        if not 1 <= batch_size <= 500:
            raise ConfigurationError("PROVISIONING_BATCH_SIZE must be between 1 and 500")
        return cls(
            activate=_flag(env, "ACTIVATE_ON_CREATE", True),
            federated=_flag(env, "FEDERATED_USERS", True),
            mastered_attribute=attribute,
            profile_mapping=mapping,
            skip_blocked=_flag(env, "SKIP_BLOCKED_AUTH0_USERS", True),
            batch_size=batch_size,
        )


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value in (None, ""):
        return default
    if value.lower() not in ("true", "false"):
        raise ConfigurationError(f"{name} must be true or false")
    return value.lower() == "true"
