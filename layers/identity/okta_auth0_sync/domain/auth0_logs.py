"""Auth0 tenant logs as domain events (the Auth0 -> Okta direction). Pure: no I/O.

What each log means is documented, with its sources, in docs/auth0-log-events.md:

- ``sapi`` ``post /api/v2/roles/{role}/users`` ``{"users": [...]}`` and ``post
  /api/v2/users/{user}/roles`` ``{"roles": [...]}``: :data:`ROLE_ASSIGNED` per (user, mapped role);
- ``sapi`` ``delete /api/v2/users/{user}/roles`` ``{"roles": [...]}``: :data:`ROLE_REMOVED`;
- ``sapi`` ``patch /api/v2/users/{user}`` with ``body.blocked`` true/false: :data:`BLOCKED` /
  :data:`UNBLOCKED`;
- ``sdu`` (``user_id`` = the deleted user), or ``sapi`` ``delete /api/v2/users/{user}``: :data:`DELETED`.

:func:`classify` turns one log into the events it carries, or says why it carries none (another
type, a failed write, a role no mapping names, **our own write**). Each event is named
(:meth:`Auth0LogEvent.execution_name`) after the log, so a repeated delivery starts nothing new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from okta_auth0_sync.base.errors import InvalidInput, shown
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.events import parse_time

ROLE_ASSIGNED, ROLE_REMOVED = "role_assigned", "role_removed"
BLOCKED, UNBLOCKED, DELETED = "blocked", "unblocked", "deleted"
ROLE_KINDS = (ROLE_ASSIGNED, ROLE_REMOVED)
LIFECYCLE_KINDS = (BLOCKED, UNBLOCKED, DELETED)
KINDS = ROLE_KINDS + LIFECYCLE_KINDS
#: at the same instant the more final state wins (a deletion outranks a block, a block an unblock;
#: a removal outranks an assignment), as the deactivation sync's ledger ranks a deactivation first
RANK = {UNBLOCKED: 0, BLOCKED: 1, DELETED: 2, ROLE_ASSIGNED: 0, ROLE_REMOVED: 1}

LOG_ID = re.compile(r"^[0-9]{1,64}\Z")
_USER_PATH = re.compile(r"^/api/v2/users/(?P<user>[^/]+)\Z")
_USER_ROLES_PATH = re.compile(r"^/api/v2/users/(?P<user>[^/]+)/roles\Z")
_ROLE_USERS_PATH = re.compile(r"^/api/v2/roles/(?P<role>[^/]+)/users\Z")
MAX_USERS_PER_LOG = 100  # Auth0 takes at most 100 ids per role assignment


@dataclass(frozen=True)
class Auth0LogEvent:
    """One thing that happened to one Auth0 user, as a log told it. ``role_id`` names the role for
    role events (None for lifecycle events); ``date`` is the log's (ISO 8601, UTC)."""

    log_id: str
    date: str
    kind: str
    auth0_user_id: str
    role_id: str | None = None

    @property
    def is_role_event(self) -> bool:
        return self.kind in ROLE_KINDS

    def execution_name(self, index: int, count: int) -> str:
        """The log's id (a repeated delivery starts nothing), suffixed by the event's index when
        one log carries several (``POST /roles/{id}/users`` with many users)."""
        return self.log_id if count == 1 else f"{self.log_id}-{index}"

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "log_id": self.log_id,
            "date": self.date,
            "kind": self.kind,
            "auth0_user_id": self.auth0_user_id,
        }
        if self.role_id is not None:
            out["role_id"] = self.role_id
        return out

    @classmethod
    def from_payload(cls, data: Any) -> Auth0LogEvent:
        if not isinstance(data, Mapping):
            raise InvalidInput("event must be an object {log_id, date, kind, auth0_user_id[, role_id]}")
        log_id, date, kind = data.get("log_id"), data.get("date"), data.get("kind")
        user, role = data.get("auth0_user_id"), data.get("role_id")
        if not ids.matches(LOG_ID, log_id):
            raise InvalidInput("event.log_id must be an Auth0 log id (digits)")
        if not isinstance(date, str) or parse_time(date) is None:
            raise InvalidInput("event.date must be an ISO 8601 time")
        if kind not in KINDS:
            raise InvalidInput(f"event.kind must be one of {', '.join(KINDS)}")
        if not ids.matches(ids.AUTH0_USER_ID, user):
            raise InvalidInput("event.auth0_user_id must be an Auth0 user id")
        if not (ids.matches(ids.AUTH0_ROLE_ID, role) if kind in ROLE_KINDS else role is None):
            raise InvalidInput("event.role_id must be an Auth0 role id for role events, and absent otherwise")
        return cls(str(log_id), date, str(kind), str(user), str(role) if role is not None else None)


@dataclass(frozen=True)
class Classified:
    """What one log carries: its events, or why none (``ignored``: a reason for the logs)."""

    log_id: str | None
    events: tuple[Auth0LogEvent, ...] = ()
    ignored: str | None = None
    own_write: bool = False
    marker: tuple[str, str] | None = field(default=None)  # (okta user id, event uuid) our PATCH carried


def log_of_envelope(event: Any) -> Mapping[str, Any]:
    """The log inside a log stream's EventBridge event: ``detail.data`` (the form public captures
    show) or, failing that, ``detail`` itself when it holds the log's fields (an AWS sample's form)."""
    if not isinstance(event, Mapping):
        raise InvalidInput("the event must be a JSON object")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidInput("the event has no detail object (not an Auth0 log stream event)")
    data = detail.get("data")
    log = data if isinstance(data, Mapping) else detail
    if not isinstance(log.get("log_id"), str) or not isinstance(log.get("type"), str):
        raise InvalidInput("detail.data must be an Auth0 log with log_id and type")
    return log


def classify(
    log: Mapping[str, Any],
    *,
    own_client_id: str | None,
    mapped_roles: Iterable[str],
    marker_path: tuple[str, str] = ("app_metadata", "okta_sync"),
) -> Classified:
    """The events one Auth0 log carries, for the roles ``mapped_roles`` (other roles are ignored).
    A write by ``own_client_id`` (this package's M2M application) is ignored as our own
    (``own_write``); a user PATCH that carries this package's marker (``marker_path``: the
    metadata target and key, with ``okta_user_id`` and ``event_uuid``) returns it as ``marker`` so
    the caller can check the ledger."""
    log_id = log.get("log_id")
    if not ids.matches(LOG_ID, log_id):
        return Classified(None, ignored="no usable log_id")
    date = log.get("date")
    if not isinstance(date, str) or parse_time(date) is None:
        return Classified(str(log_id), ignored="no usable date")
    log_type = log.get("type")
    if log_type == "sdu":
        return _deletion(str(log_id), date, log.get("user_id"))
    if log_type != "sapi":
        return Classified(str(log_id), ignored=f"log type {shown(log_type, 20)!r} is not handled")
    client_id = log.get("client_id")
    if own_client_id and isinstance(client_id, str) and client_id == own_client_id:
        return Classified(str(log_id), ignored="our own write (client_id)", own_write=True)
    return _api_write(str(log_id), date, log.get("details"), frozenset(mapped_roles), marker_path)


def _deletion(log_id: str, date: str, user: Any) -> Classified:
    if not ids.matches(ids.AUTH0_USER_ID, user):
        return Classified(log_id, ignored="sdu without a user id")
    return Classified(log_id, (Auth0LogEvent(log_id, date, DELETED, str(user)),))


def _api_write(log_id: str, date: str, details: Any, roles: frozenset[str], marker_path: tuple[str, str]) -> Classified:
    request = details.get("request") if isinstance(details, Mapping) else None
    response = details.get("response") if isinstance(details, Mapping) else None
    if not isinstance(request, Mapping):
        return Classified(log_id, ignored="sapi without details.request")
    status = response.get("statusCode") if isinstance(response, Mapping) else None
    if isinstance(status, int) and not 200 <= status < 300:
        return Classified(log_id, ignored=f"the write failed ({status})")
    write = _Write(log_id, date, _text(request.get("method")).lower(), request.get("body"), roles)
    path = _text(request.get("path")).split("?", 1)[0]
    if (m := _USER_PATH.fullmatch(path)) is not None:
        return write.user(unquote(m["user"]), marker_path)
    if (m := _USER_ROLES_PATH.fullmatch(path)) is not None:
        return write.user_roles(unquote(m["user"]))
    if (m := _ROLE_USERS_PATH.fullmatch(path)) is not None:
        return write.role_users(unquote(m["role"]))
    return Classified(log_id, ignored="an API write this package does not follow")


@dataclass(frozen=True)
class _Write:
    """One successful Management API write, read for the events it carries."""

    log_id: str
    date: str
    method: str
    raw_body: Any
    roles: frozenset[str]

    @property
    def body(self) -> Mapping[str, Any]:
        return self.raw_body if isinstance(self.raw_body, Mapping) else {}

    def _event(self, kind: str, user: str, role: str | None = None) -> Auth0LogEvent:
        return Auth0LogEvent(self.log_id, self.date, kind, user, role)

    def user(self, user: str, marker_path: tuple[str, str]) -> Classified:
        if not ids.matches(ids.AUTH0_USER_ID, user):
            return Classified(self.log_id, ignored="user path without an Auth0 user id")
        if self.method == "delete":
            return Classified(self.log_id, (self._event(DELETED, user),))
        blocked = self.body.get("blocked")
        if self.method == "patch" and isinstance(blocked, bool):
            event = self._event(BLOCKED if blocked else UNBLOCKED, user)
            return Classified(self.log_id, (event,), marker=_marker(self.body, marker_path))
        return Classified(self.log_id, ignored="a user write that does not change blocked")

    def user_roles(self, user: str) -> Classified:
        wanted = [r for r in _strings(self.body.get("roles")) if r in self.roles]
        if self.method not in ("post", "delete") or not ids.matches(ids.AUTH0_USER_ID, user) or not wanted:
            return Classified(self.log_id, ignored="no mapped role in this role write")
        kind = ROLE_ASSIGNED if self.method == "post" else ROLE_REMOVED
        return Classified(self.log_id, tuple(self._event(kind, user, r) for r in dict.fromkeys(wanted)))

    def role_users(self, role: str) -> Classified:
        users = [u for u in _strings(self.body.get("users")) if ids.matches(ids.AUTH0_USER_ID, u)]
        if self.method != "post" or role not in self.roles or not users:
            return Classified(self.log_id, ignored="no mapped role in this role write")
        unique = list(dict.fromkeys(users))[:MAX_USERS_PER_LOG]
        return Classified(self.log_id, tuple(self._event(ROLE_ASSIGNED, u, role) for u in unique))


def _text(value: Any) -> str:
    """``value`` if it is a string, else "": str() of a value nested a few thousand deep (a log
    page or a streamed event can hold one) raises RecursionError."""
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _marker(body: Mapping[str, Any], path: tuple[str, str]) -> tuple[str, str] | None:
    """(okta_user_id, event_uuid) of this package's record inside the PATCH body, if it carries one."""
    target = body.get(path[0])
    record = target.get(path[1]) if isinstance(target, Mapping) else None
    if not isinstance(record, Mapping):
        return None
    okta_user, uuid = record.get("okta_user_id"), record.get("event_uuid")
    if ids.matches(ids.OKTA_USER_ID, okta_user) and isinstance(uuid, str) and uuid:
        return str(okta_user), uuid
    return None


# -- the reverse lifecycle sync's rules -------------------------------------------------------------
OFF, SUSPEND, UNSUSPEND, DEACTIVATE = "off", "suspend", "unsuspend", "deactivate"
ON_BLOCK = (SUSPEND, OFF)
ON_DELETE = (DEACTIVATE, SUSPEND, OFF)


@dataclass(frozen=True)
class ReverseSyncPolicy:
    """What an operator configures (``REVERSE_SYNC_ON_BLOCK``, ``REVERSE_SYNC_ON_DELETE``,
    ``REVERSE_SYNC_ADOPTED_USERS``): what a block and a deletion in Auth0 do to the Okta user this
    package provisioned, and whether Okta users it found and adopted (``existing_added``) are
    followed too (off by default: they belong to someone else)."""

    on_block: str = SUSPEND  # suspend | off (an unblock undoes only our own suspension)
    on_delete: str = DEACTIVATE  # deactivate | suspend | off
    adopted_users: bool = False

    def __post_init__(self) -> None:
        if self.on_block not in ON_BLOCK or self.on_delete not in ON_DELETE:
            raise ValueError("on_block must be suspend|off and on_delete deactivate|suspend|off")

    def wanted(self, kind: str) -> str:
        """What the newest Auth0 state asks of Okta: suspend, unsuspend, deactivate or off."""
        if kind == BLOCKED:
            return self.on_block
        if kind == UNBLOCKED:
            return UNSUSPEND if self.on_block == SUSPEND else OFF
        if kind == DELETED:
            return self.on_delete
        raise ValueError(f"{kind} is not a lifecycle kind")


def okta_operation(wanted: str, status: str, *, suspended_by_us: bool) -> str | None:
    """The one Okta lifecycle call that brings a user in ``status`` to what is ``wanted`` (None:
    nothing to do). Only ACTIVE users can be suspended; only a suspension this package made is
    undone; a deactivated (DEPROVISIONED) user is never brought back from here."""
    if wanted == SUSPEND:
        return SUSPEND if status == "ACTIVE" else None
    if wanted == UNSUSPEND:
        return UNSUSPEND if status == "SUSPENDED" and suspended_by_us else None
    if wanted == DEACTIVATE:
        return DEACTIVATE if status not in ("DEPROVISIONED", "") else None
    return None
