"""What an operator configures about the flows: pure values, built from the environment by
:mod:`okta_auth0_sync.settings` (which validates every variable and names it when it cannot) and
read by the domain's rules (:mod:`~okta_auth0_sync.domain.deactivation`,
:mod:`~okta_auth0_sync.domain.profiles`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TARGETS = ("app_metadata", "user_metadata")  # where the flag may be written (METADATA_TARGET)
LEGACY_CONTAINER, LEGACY_KEY = "user_metadata", "okta"


@dataclass(frozen=True)
class RevocationPolicy:
    """Which parts of a deactivated person's access are ended (each a template parameter)."""

    sessions: bool = True
    refresh_tokens: bool = True


@dataclass(frozen=True)
class SyncPolicy:
    """Where and how the flag is written. Built from the environment by :mod:`okta_auth0_sync.settings`
    (``METADATA_TARGET``, ``METADATA_KEY``, ``BLOCK_DEACTIVATED_USERS``, ``CLEAR_LEGACY_FLAG``,
    ``REVOKE_SESSIONS``, ``REVOKE_REFRESH_TOKENS``), which validates each value."""

    target: str = "app_metadata"
    key: str = "okta_sync"
    block_users: bool = True
    clear_legacy_flag: bool = True
    revoke: RevocationPolicy = field(default_factory=RevocationPolicy)

    @property
    def read_fields(self) -> tuple[str, ...]:
        fields = {"user_id", "email", "identities", "blocked", self.target}
        if self.clear_legacy_flag:
            fields.add(LEGACY_CONTAINER)
        return tuple(sorted(fields))


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
class ProvisioningPolicy:
    """How Okta users are created (the original template's options, kept and configurable). Built
    from the environment by :mod:`okta_auth0_sync.settings` (``ACTIVATE_ON_CREATE``,
    ``FEDERATED_USERS``, ``MASTERED_ATTRIBUTE``, ``PROFILE_MAPPING``, ``SKIP_BLOCKED_AUTH0_USERS``,
    ``PROVISIONING_BATCH_SIZE``, ``VERIFIED_EMAIL_CONNECTIONS``), which validates each value."""

    activate: bool = True
    federated: bool = True
    mastered_attribute: str | None = "auth0_mastered"  # custom Okta profile attribute; None: not set
    mastered_value: Any = "true"
    profile_mapping: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_PROFILE_MAPPING))
    skip_blocked: bool = True
    batch_size: int = 50
    # Auth0 connections the operator declares as asserting verified emails (an enterprise IdP
    # whose users never carry email_verified): their members are trusted without the flag.
    verified_email_connections: frozenset[str] = frozenset()

    def trusts_email_of(self, user: dict[str, Any]) -> bool:
        """A member's email may become or find an Okta login only when Auth0 verified it, or when
        one of the member's identities comes from a connection declared as asserting it."""
        if user.get("email_verified") is True:
            return True
        identities = user.get("identities")
        connections = (
            {i.get("connection") for i in identities if isinstance(i, dict)} if isinstance(identities, list) else set()
        )
        return bool(connections & self.verified_email_connections)
