"""From an Auth0 user to the Okta profile to create. Pure functions."""

from __future__ import annotations

import re
from typing import Any

from okta_auth0_sync.domain.policies import ProvisioningPolicy

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _lookup(user: dict[str, Any], path: str) -> Any:
    if path in ("name.first", "name.last"):
        name = user.get("name")
        if not isinstance(name, str) or "@" in name:
            return None
        words = name.split()
        if len(words) < 2:
            return None
        return words[0] if path == "name.first" else " ".join(words[1:])
    value: Any = user
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def okta_profile(user: dict[str, Any], policy: ProvisioningPolicy) -> tuple[dict[str, Any], None] | tuple[None, str]:
    """``(profile, None)``, or ``(None, reason)`` when a required attribute has no usable value."""
    profile: dict[str, Any] = {}
    for attribute, sources in policy.profile_mapping.items():
        for source in sources:
            value = _lookup(user, source)
            if isinstance(value, str) and value.strip():
                profile[attribute] = value.strip()
                break
    missing = [a for a in ("firstName", "lastName", "email", "login") if a not in profile]
    if missing:
        tried = {a: policy.profile_mapping.get(a, []) for a in missing}
        return None, "no value for " + "; ".join(f"{a} (tried {', '.join(t) or 'nothing'})" for a, t in tried.items())
    if not _EMAIL.match(profile["email"]):
        return None, "email is not a valid address"
    if policy.mastered_attribute:
        profile[policy.mastered_attribute] = policy.mastered_value
    return profile, None
