"""Okta domain operations: user creation, lifecycle, group membership, System Log.

Callers hold the tenant lock.  Rule violations raise :class:`~sandbox.server.HTTPError`
carrying Okta's error object, so the HTTP layer and the Python API behave the same.  Every
state change the real org logs writes a System Log event (which the event hooks pick up).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from okta_auth0_sync_sandbox.okta import errors
from okta_auth0_sync_sandbox.okta.models import (
    BASE_PROFILE_ATTRIBUTES,
    REQUIRED_PROFILE_ATTRIBUTES,
    LogEvent,
    OktaDirectory,
    OktaGroup,
    OktaUser,
    new_uuid,
)
from okta_auth0_sync_sandbox.server import HTTPError, Request
from okta_auth0_sync_sandbox.util import iso8601, maybe_time, random_id

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.okta.tenant import OktaTenant

_LOGIN = re.compile(r"^[^@\s]+@[^@\s]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_GROUP_IDS = 20

#: eventType -> (displayMessage, legacyEventType)
EVENT_TYPES: dict[str, tuple[str, str]] = {
    "user.lifecycle.create": ("Create Okta user", "core.user.config.user_creation.success"),
    "user.lifecycle.activate": ("Activate Okta user", "core.user.config.user_activated"),
    "user.lifecycle.deactivate": ("Deactivate Okta user", "core.user.config.user_deactivated"),
    "user.lifecycle.reactivate": ("Reactivate Okta user", "core.user.config.user_reactivated"),
    "user.lifecycle.suspend": ("Suspend Okta user", "core.user.config.user_suspended"),
    "user.lifecycle.unsuspend": ("Unsuspend Okta user", "core.user.config.user_unsuspended"),
    "user.lifecycle.delete.initiated": ("Delete Okta user", "core.user.config.user_deleted"),
    "user.account.update_profile": ("Update user profile for Okta", "core.user.config.profile_update.success"),
    "group.user_membership.add": ("Add user to group membership", "core.user_group_member.user_add"),
    "group.user_membership.remove": ("Remove user from group membership", "core.user_group_member.user_remove"),
}
LIFECYCLE_OPS = ("activate", "deactivate", "reactivate", "suspend", "unsuspend")
_NOT_ALLOWED = "This operation is not allowed in the user's current status."


def user_target(user: OktaUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "type": "User",
        "alternateId": user.login,
        "displayName": user.display_name,
        "detailEntry": None,
    }


def group_target(group: OktaGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "type": "UserGroup",
        "alternateId": "unknown",
        "displayName": group.name,
        "detailEntry": None,
    }


class OktaService:
    def __init__(self, tenant: OktaTenant) -> None:
        self.tenant = tenant
        self.directory = OktaDirectory()
        self.logs: list[LogEvent] = []
        self._seq = 0
        self.custom_attributes: dict[str, dict[str, Any]] = {}
        self.user_type_id = "oty1sandbox0usrtype1"
        self.admin: dict[str, Any] = {}

    # -- fixture -------------------------------------------------------------------------
    def load(self, fixture: dict[str, Any]) -> None:
        now = self.tenant.now()
        self.directory = OktaDirectory()
        self.logs = []
        self._seq = 0
        schema = fixture.get("user_schema", {})
        self.custom_attributes = dict(schema.get("custom", {}))
        self.user_type_id = fixture.get("user_type_id", self.user_type_id)
        for spec in fixture.get("users", []):
            self.directory.add_user(self.user_from_fixture(spec, now))
        for spec in fixture.get("groups", []):
            created = maybe_time(spec.get("created"), now) or now
            group = OktaGroup(
                id=spec.get("id") or random_id("00g"),
                created=created,
                last_updated=maybe_time(spec.get("lastUpdated"), created) or created,
                last_membership_updated=maybe_time(spec.get("lastMembershipUpdated"), created) or created,
                profile=dict(spec.get("profile", {})),
                type=spec.get("type", "OKTA_GROUP"),
                members={m for m in spec.get("members", []) if m in self.directory.users},
            )
            self.directory.groups[group.id] = group
        admin_login = fixture.get("admin_login")
        admin = self.directory.find_user(admin_login) if admin_login else None
        self.admin = (
            {
                "id": admin.id,
                "type": "User",
                "alternateId": admin.login,
                "displayName": admin.display_name,
                "detailEntry": None,
            }
            if admin
            else {
                "id": "00usandboxadmin00001",
                "type": "User",
                "alternateId": "admin@sandbox.okta.test",
                "displayName": "Sandbox Admin",
                "detailEntry": None,
            }
        )

    def user_from_fixture(self, spec: dict[str, Any], now: float) -> OktaUser:
        created = maybe_time(spec.get("created"), now) or now
        status = spec.get("status", "ACTIVE")
        creds = spec.get("credentials", {})
        provider = dict(creds.get("provider") or {"type": "OKTA", "name": "OKTA"})
        password = bool(creds.get("password", provider["type"] == "OKTA" and status in ("ACTIVE", "SUSPENDED")))
        activated = maybe_time(spec.get("activated"), created if status not in ("STAGED",) else None)
        return OktaUser(
            id=spec.get("id") or random_id("00u"),
            status=status,
            created=created,
            last_updated=maybe_time(spec.get("lastUpdated"), created) or created,
            profile=dict(spec["profile"]),
            type_id=self.user_type_id,
            provider=provider,
            password=password,
            activated=activated,
            status_changed=maybe_time(spec.get("statusChanged"), activated),
            last_login=maybe_time(spec.get("lastLogin"), None),
            password_changed=maybe_time(spec.get("passwordChanged"), activated if password else None),
        )

    # -- users ---------------------------------------------------------------------------
    def user(self, id_or_login: str) -> OktaUser:
        user = self.directory.find_user(id_or_login)
        if user is None:
            raise errors.not_found(id_or_login, "User")
        return user

    def validate_profile(self, profile: Any) -> dict[str, Any]:
        if not isinstance(profile, dict):
            raise errors.validation_failed("profile", "profile: The field cannot be left blank")
        unknown = [k for k in profile if k not in BASE_PROFILE_ATTRIBUTES and k not in self.custom_attributes]
        if unknown:
            raise errors.validation_failed(
                unknown[0], *(f"Property name '{k}' is not defined in profile schema" for k in unknown)
            )
        blank = [a for a in REQUIRED_PROFILE_ATTRIBUTES if not str(profile.get(a) or "").strip()]
        if blank:
            raise errors.validation_failed(blank[0], *(f"{a}: The field cannot be left blank" for a in blank))
        if not _LOGIN.match(str(profile["login"])):
            raise errors.validation_failed("login", "login: Username must be in the form of an email address")
        if not _EMAIL.match(str(profile["email"])):
            raise errors.validation_failed("email", "email: Does not match required pattern")
        return dict(profile)

    def create_user(
        self,
        body: Any,
        *,
        activate: bool = True,
        provider: bool = False,
        next_login: str | None = None,
        actor: dict[str, Any] | None = None,
        request: Request | None = None,
    ) -> OktaUser:
        if not isinstance(body, dict):
            raise errors.raise_api(400, "E0000003", "The request body was not well-formed.")
        profile = self.validate_profile(body.get("profile"))
        if profile["login"].lower() in self.directory.by_login:
            raise errors.validation_failed(
                "login", "login: An object with this field already exists in the current organization"
            )
        credentials = body.get("credentials") or {}
        if not isinstance(credentials, dict):
            raise errors.validation_failed("credentials", "credentials: The field is not valid")
        cred_provider = {"type": "OKTA", "name": "OKTA"}
        if provider:
            requested = credentials.get("provider") or {}
            ptype = str(requested.get("type", "")).upper()
            if ptype not in ("FEDERATION", "SOCIAL", "OKTA", "ACTIVE_DIRECTORY", "LDAP", "IMPORT"):
                raise errors.validation_failed("provider", "provider: The credential provider type is invalid")
            cred_provider = {"type": ptype, "name": str(requested.get("name") or ptype)}
        password = bool((credentials.get("password") or {}).get("value")) or (
            isinstance(credentials.get("password"), dict) and "hash" in credentials["password"]
        )
        group_ids = body.get("groupIds") or []
        if not isinstance(group_ids, list):
            raise errors.validation_failed("groupIds", "groupIds: The field is not valid")
        if len(group_ids) > MAX_GROUP_IDS:
            raise errors.raise_api(400, "E0000093", "Target count limit exceeded")
        groups = []
        for gid in group_ids:
            group = self.directory.groups.get(str(gid))
            if group is None:
                raise errors.not_found(str(gid), "UserGroup")
            groups.append(group)
        now = self.tenant.now()
        if not activate:
            status = "STAGED"
        elif cred_provider["type"] in ("FEDERATION", "SOCIAL") or password:
            status = "PASSWORD_EXPIRED" if next_login == "changePassword" and password else "ACTIVE"
        else:
            status = "PROVISIONED"
        user = OktaUser(
            id=random_id("00u"),
            status=status,
            created=now,
            last_updated=now,
            profile=profile,
            type_id=self.user_type_id,
            provider=cred_provider,
            password=password,
            activated=now if activate else None,
            status_changed=now if activate else None,
            password_changed=now if password else None,
        )
        self.directory.add_user(user)
        self.emit("user.lifecycle.create", actor, [user_target(user)], request)
        if activate:
            self.emit("user.lifecycle.activate", actor, [user_target(user)], request)
        for group in groups:
            self._add_member(group, user, actor, request)
        return user

    def lifecycle(
        self,
        user_id: str,
        op: str,
        *,
        actor: dict[str, Any] | None = None,
        request: Request | None = None,
        send_email: bool = True,
    ) -> dict[str, Any]:
        """Apply a lifecycle operation with Okta's status rules; returns the response body."""
        user = self.user(user_id)
        now = self.tenant.now()
        body: dict[str, Any] = {}
        status = user.status
        if op == "deactivate":
            if status == "DEPROVISIONED":
                raise errors.raise_api(403, "E0000038", _NOT_ALLOWED)
            self._set_status(user, "DEPROVISIONED", now)
            event = "user.lifecycle.deactivate"
        elif op == "activate":
            if status in ("ACTIVE", "PROVISIONED", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT"):
                raise errors.raise_api(403, "E0000016", "Activation failed because the user is already active")
            if status == "SUSPENDED":
                raise errors.raise_api(403, "E0000038", _NOT_ALLOWED)
            event = "user.lifecycle.reactivate" if status == "DEPROVISIONED" else "user.lifecycle.activate"
            if status == "DEPROVISIONED" and not user.federated:
                user.password = False
            new_status = "ACTIVE" if (user.federated or user.password) else "PROVISIONED"
            self._set_status(user, new_status, now)
            user.activated = now
            if not send_email and new_status == "PROVISIONED":
                body = self._activation(user)
        elif op == "reactivate":
            if status not in ("PROVISIONED", "RECOVERY"):
                raise errors.raise_api(403, "E0000038", _NOT_ALLOWED)
            user.last_updated = now
            event = "user.lifecycle.reactivate"
            if not send_email:
                body = self._activation(user)
        elif op == "suspend":
            if status != "ACTIVE":
                raise errors.raise_api(
                    400,
                    "E0000001",
                    "Api validation failed: status",
                    ["status: Cannot suspend a user that is not active"],
                )
            self._set_status(user, "SUSPENDED", now)
            event = "user.lifecycle.suspend"
        elif op == "unsuspend":
            if status != "SUSPENDED":
                raise errors.raise_api(
                    400,
                    "E0000001",
                    "Api validation failed: status",
                    ["status: Cannot unsuspend a user that is not suspended"],
                )
            self._set_status(user, "ACTIVE", now)
            event = "user.lifecycle.unsuspend"
        else:
            raise errors.not_found(op, "Operation")
        self.emit(event, actor, [user_target(user)], request)
        return body

    def _activation(self, user: OktaUser) -> dict[str, Any]:
        token = random_id("", 20)
        return {"activationUrl": f"{self.tenant.base_url}/welcome/{token}", "activationToken": token}

    @staticmethod
    def _set_status(user: OktaUser, status: str, now: float) -> None:
        user.status = status
        user.status_changed = now
        user.last_updated = now

    def delete_user(self, user_id: str, *, actor: dict[str, Any] | None = None, request: Request | None = None) -> None:
        """``DELETE /api/v1/users/{id}``: deactivates first; deletes a deactivated user."""
        user = self.user(user_id)
        if user.status != "DEPROVISIONED":
            self.lifecycle(user.id, "deactivate", actor=actor, request=request)
            return
        self.emit("user.lifecycle.delete.initiated", actor, [user_target(user)], request)
        self.directory.remove_user(user.id)

    # -- groups --------------------------------------------------------------------------
    def group(self, group_id: str) -> OktaGroup:
        group = self.directory.groups.get(group_id)
        if group is None:
            raise errors.not_found(group_id, "UserGroup")
        return group

    def add_member(
        self, group_id: str, user_id: str, *, actor: dict[str, Any] | None = None, request: Request | None = None
    ) -> None:
        group, user = self._membership(group_id, user_id)
        self._add_member(group, user, actor, request)

    def _membership(self, group_id: str, user_id: str) -> tuple[OktaGroup, OktaUser]:
        """The group and user of a membership change (404s as Okta answers them; app groups refused)."""
        group = self.group(group_id)
        user = self.directory.users.get(user_id)
        if user is None:
            raise errors.not_found(user_id, "User")
        self._check_group_type(group)
        return group, user

    def _add_member(
        self, group: OktaGroup, user: OktaUser, actor: dict[str, Any] | None, request: Request | None
    ) -> None:
        if user.id in group.members:
            return
        group.members.add(user.id)
        group.last_membership_updated = self.tenant.now()
        self.emit("group.user_membership.add", actor, [user_target(user), group_target(group)], request)

    def remove_member(
        self, group_id: str, user_id: str, *, actor: dict[str, Any] | None = None, request: Request | None = None
    ) -> None:
        group, user = self._membership(group_id, user_id)
        if user.id not in group.members:
            return
        group.members.discard(user.id)
        group.last_membership_updated = self.tenant.now()
        self.emit("group.user_membership.remove", actor, [user_target(user), group_target(group)], request)

    @staticmethod
    def _check_group_type(group: OktaGroup) -> None:
        if group.type != "OKTA_GROUP":
            raise errors.raise_api(
                403, "E0000006", "You do not have permission to perform the requested action",
                ["Group membership of APP_GROUP / BUILT_IN groups cannot be modified"],
            )  # fmt: skip

    # -- System Log ----------------------------------------------------------------------
    def emit(
        self,
        event_type: str,
        actor: dict[str, Any] | None,
        targets: list[dict[str, Any]],
        request: Request | None = None,
        outcome: str = "SUCCESS",
        reason: str | None = None,
    ) -> dict[str, Any]:
        display, legacy = EVENT_TYPES.get(event_type, (event_type, None))
        now = self.tenant.now()
        actor = actor or self.admin
        if request is not None:
            request_id = request.context.get("request_id") or self.tenant.new_request_id()
            uri = request.path
            url = request.raw_path + (f"?{request.query_string}" if request.query_string else "")
            ip = request.client_address[0] if request.client_address else "127.0.0.1"
            ua = request.header("User-Agent") or "UNKNOWN"
        else:  # an admin acting in the Admin Console (Python API)
            request_id = self.tenant.new_request_id()
            target_id = targets[0]["id"] if targets else ""
            uri = f"/admin/user/{event_type.rsplit('.', 1)[-1]}/{target_id}"
            url = uri
            ip = "127.0.0.1"
            ua = "Mozilla/5.0 (sandbox admin console)"
        event = {
            "actor": dict(actor),
            "client": {
                "userAgent": {"rawUserAgent": ua, "os": "Unknown", "browser": "UNKNOWN"},
                "zone": "null",
                "device": "Unknown",
                "id": None,
                "ipAddress": ip,
                "geographicalContext": None,
            },
            "device": None,
            "authenticationContext": {
                "authenticationProvider": None,
                "credentialProvider": None,
                "credentialType": None,
                "issuer": None,
                "interface": None,
                "authenticationStep": 0,
                "rootSessionId": "unknown",
                "externalSessionId": "unknown",
            },
            "displayMessage": display,
            "eventType": event_type,
            "outcome": {"result": outcome, "reason": reason},
            "published": iso8601(now),
            "securityContext": {"asNumber": None, "asOrg": None, "isp": None, "domain": None, "isProxy": None},
            "severity": "INFO",
            "debugContext": {"debugData": {"requestId": request_id, "requestUri": uri, "url": url}},
            "legacyEventType": legacy,
            "transaction": {"type": "WEB", "id": request_id, "detail": {}},
            "uuid": new_uuid(),
            "version": "0",
            "request": {"ipChain": [{"ip": ip, "geographicalContext": None, "version": "V4", "source": None}]},
            "target": targets,
        }
        self._seq += 1
        self.logs.append(LogEvent(self._seq, now, event))
        self.tenant.hooks.on_event(event)
        self.tenant.log_stream.on_event(event)
        return event

    def bulk_add_users(
        self,
        count: int,
        *,
        login_template: str = "bulk.user{n}@example.com",
        status: str = "ACTIVE",
        group_ids: tuple[str, ...] = (),
        profile: dict[str, Any] | None = None,
        start: int = 1,
    ) -> list[str]:
        """Seed ``count`` users quickly (no System Log events).  Returns their ids."""
        now = self.tenant.now()
        ids = []
        for n in range(start, start + count):
            login = login_template.format(n=n)
            if login.lower() in self.directory.by_login:
                raise HTTPError(errors.api_error(400, "E0000001", "Api validation failed: login"))
            user = OktaUser(
                id=random_id("00u"),
                status=status,
                created=now,
                last_updated=now,
                profile={
                    "login": login,
                    "email": login,
                    "firstName": "Bulk",
                    "lastName": f"User{n}",
                    **(profile or {}),
                },
                type_id=self.user_type_id,
                password=status == "ACTIVE",
                activated=now if status != "STAGED" else None,
                status_changed=now,
            )
            self.directory.add_user(user)
            ids.append(user.id)
        for gid in group_ids:
            self.group(gid).members.update(ids)
        return ids
