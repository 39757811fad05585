"""Full-state reconciliation, Okta -> Auth0: what Okta says each person's state is, against the
flags Auth0 holds, beyond any event's delivery or the System Log's retention. Pure rules.

Drift, both ways:

- ``missing_flag``: the Okta user is deactivated (``DEPROVISIONED``; ``SUSPENDED`` too when
  suspensions are synced) and one of the Auth0 accounts with its email is not flagged;
- ``stale_flag``: an Auth0 account carries the flag for an Okta user whose status is one that is
  not synced as deactivated (``ACTIVE``, ``PROVISIONED``, ``RECOVERY``..., or ``SUSPENDED`` when
  suspensions are not synced). An Okta user that no longer exists keeps its flag: deleting a
  user in Okta deactivates it first.

A drift is fixed through the same convergent path as an event: one on-demand deactivation-sync
execution for the Okta user, which reads its current status and applies it to every account
through the per-user ledger. The execution is named after the user and the status change it
fixes (:func:`execution_name`), so a repeated or concurrent reconciliation starts nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.events import parse_time
from okta_auth0_sync.domain.policies import SyncPolicy

MISSING_FLAG, STALE_FLAG = "missing_flag", "stale_flag"
PHASES = ("okta", "auth0", "done")
SEARCH_WINDOW_PAGES = 10  # Auth0 search pages through the first 1,000 matches (100 a page)
DRIFT_SAMPLE = 100  # drift entries carried in the run's output (all are counted and logged)
COUNTS = (
    "okta_users_checked",
    "auth0_accounts_checked",
    MISSING_FLAG,
    STALE_FLAG,
    "started",
    "already_started",
    "failed_to_start",
)
_STAMP = re.compile(r"[^0-9A-Za-z]")
# Auth0's created_at (what a search window starts from; it goes into a Lucene range unquoted).
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")


def deactivated_statuses(include_suspended: bool) -> tuple[str, ...]:
    """The Okta statuses whose Auth0 accounts must carry the flag."""
    return ("DEPROVISIONED", "SUSPENDED") if include_suspended else ("DEPROVISIONED",)


def okta_search(include_suspended: bool) -> str:
    """The Okta ``search`` expression for every user that must be flagged in Auth0."""
    return " or ".join(f'status eq "{s}"' for s in deactivated_statuses(include_suspended))


def okta_id_search(user_ids: list[str]) -> str:
    """The Okta ``search`` expression for these users by id (ids are ``[A-Za-z0-9]``: no quoting issue)."""
    return " or ".join(f'id eq "{i}"' for i in user_ids)


def flagged_query(policy: SyncPolicy) -> str:
    """The Auth0 search (Lucene, v3) for every account flagged by this package."""
    return f"{policy.target}.{policy.key}.deactivated:true"


def flag_of(account: dict[str, Any], policy: SyncPolicy) -> dict[str, Any] | None:
    """This package's record on an Auth0 account (as search returns it), or None."""
    container = account.get(policy.target)
    record = container.get(policy.key) if isinstance(container, dict) else None
    return record if isinstance(record, dict) else None


def is_flagged(account: dict[str, Any], policy: SyncPolicy) -> bool:
    record = flag_of(account, policy)
    return record is not None and record.get("deactivated") is True


def execution_name(okta_user_id: str, status: str, status_changed: str | None) -> str:
    """The deactivation-sync execution that fixes this user's drift: one per user and status
    change, so a repeated reconciliation (or two at once) starts it once. At most 80 characters."""
    stamp = _STAMP.sub("", status_changed or "")[:20] or "unknown"
    return f"reconcile-{okta_user_id}-{status[:13]}-{stamp}"[:80]


@dataclass
class Drift:
    kind: str
    okta_user_id: str
    okta_status: str
    auth0_user_ids: list[str]
    execution: str | None = None
    started: str | None = None  # started | duplicate | failed | None (dry run)

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "okta_user_id": self.okta_user_id,
            "okta_status": self.okta_status,
            "auth0_user_ids": self.auth0_user_ids,
        }
        if self.execution is not None:
            out["execution"] = self.execution
            out["started"] = self.started
        return out


@dataclass
class ReconciliationRun:
    """A run's progress, carried between the state machine's steps: the phase, where to resume
    (Okta's ``next`` link, or Auth0's search window: ``since`` ``created_at`` and ``page``), what
    was counted, and the first :data:`DRIFT_SAMPLE` drifts."""

    dry_run: bool = False
    requested_by: str = "schedule"
    phase: str = "okta"
    okta_next: str | None = None
    auth0_since: str | None = None
    auth0_page: int = 0
    auth0_boundary: list[str] = field(default_factory=list)  # accounts read at ``auth0_since`` exactly
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    drift: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_payload(cls, payload: Any) -> ReconciliationRun:
        """A run's state, or the first step's input (``{"dry_run", "requested_by"}``)."""
        if not isinstance(payload, dict):
            raise InvalidInput("the reconciliation input must be an object")
        dry_run = payload.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise InvalidInput("dry_run must be true or false")
        requested_by = payload.get("requested_by", "schedule")
        if not isinstance(requested_by, str) or not 0 < len(requested_by) <= 200:
            raise InvalidInput("requested_by must be a string of at most 200 characters")
        phase = payload.get("phase", "okta")
        if phase not in PHASES:
            raise InvalidInput(f"phase must be one of {', '.join(PHASES)}")
        okta_next, since, page = _position(payload)
        drift = _absent_as(payload.get("drift"), [])
        if not isinstance(drift, list) or not all(isinstance(d, dict) for d in drift):
            raise InvalidInput("drift must be a list of objects")
        boundary = _absent_as(payload.get("auth0_boundary"), [])
        if not isinstance(boundary, list) or len(boundary) > 1000 or not all(isinstance(b, str) for b in boundary):
            raise InvalidInput("auth0_boundary must be a list of at most 1,000 Auth0 user ids")
        return cls(
            dry_run=dry_run,
            requested_by=requested_by,
            phase=phase,
            okta_next=okta_next,
            auth0_since=since,
            auth0_page=page,
            auth0_boundary=boundary,
            counts=_counts(payload),
            drift=drift[:DRIFT_SAMPLE],
        )

    def record(self, drift: Drift) -> None:
        self.counts[drift.kind] += 1
        if drift.started is not None:
            key = {"started": "started", "duplicate": "already_started"}.get(drift.started, "failed_to_start")
            self.counts[key] += 1
        if len(self.drift) < DRIFT_SAMPLE:
            self.drift.append(drift.to_payload())

    @property
    def done(self) -> bool:
        return self.phase == "done"

    def to_payload(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "requested_by": self.requested_by,
            "phase": self.phase,
            "okta_next": self.okta_next,
            "auth0_since": self.auth0_since,
            "auth0_page": self.auth0_page,
            "auth0_boundary": list(self.auth0_boundary),
            "counts": dict(self.counts),
            "drift_found": self.counts[MISSING_FLAG] + self.counts[STALE_FLAG],
            "drift": list(self.drift),
        }


def _position(payload: dict[str, Any]) -> tuple[str | None, str | None, int]:
    """Where a run resumes: Okta's ``next`` link (followed only to the org's own origin: the HTTP
    layer refuses any other), and Auth0's search window (``created_at`` and page)."""
    okta_next, since, page = payload.get("okta_next"), payload.get("auth0_since"), payload.get("auth0_page", 0)
    if okta_next is not None and not (isinstance(okta_next, str) and okta_next.startswith(("https://", "http://"))):
        raise InvalidInput("okta_next must be the link Okta returned")
    if since is not None and not (isinstance(since, str) and TIMESTAMP.fullmatch(since) and parse_time(since)):
        raise InvalidInput("auth0_since must be an ISO 8601 UTC timestamp (an account's created_at)")
    if isinstance(page, bool) or not isinstance(page, int) or not 0 <= page < SEARCH_WINDOW_PAGES:
        raise InvalidInput(f"auth0_page must be a whole number from 0 to {SEARCH_WINDOW_PAGES - 1}")
    return okta_next, since, page


def _absent_as(value: Any, default: Any) -> Any:
    """An optional field: null is its default; any other value is checked as given (a ``0`` or
    ``""`` where a list belongs is refused, not read as empty)."""
    return default if value is None else value


def _counts(payload: dict[str, Any]) -> dict[str, int]:
    given = _absent_as(payload.get("counts"), {})
    if not isinstance(given, dict):
        raise InvalidInput("counts must be an object")
    counts = {}
    for key in COUNTS:
        value = given.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"counts.{key} must be a whole number at least 0")
        counts[key] = value
    return counts


def request_from_api_body(body: Any, requested_by: str) -> dict[str, Any]:
    """``POST /reconciliation/runs``: ``{"dry_run": true|false}`` or nothing (a run that fixes).
    Any other key is refused: a misspelt ``dryRun`` must not start a run that changes Auth0."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    unknown = sorted(str(k) for k in body if k != "dry_run")
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(repr(k[:40]) for k in unknown[:5])}: the body may only hold dry_run"
        )
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run must be true or false")
    return {"dry_run": dry_run, "requested_by": requested_by[:200] or "api"}
