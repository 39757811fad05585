"""The Auth0 -> Okta direction, driven by Auth0 tenant logs (stream or poll).

- :class:`LogIngress`: one log -> its domain events (:func:`~okta_auth0_sync.domain.auth0_logs.classify`),
  our own writes dropped (our client id; or the deactivation sync's marker confirmed by the Okta
  user's ledger), one ``Auth0Lifecycle`` execution per event named after the log (a repeated log
  starts nothing new).
- :class:`ReverseSync`: blocked / unblocked / deleted in Auth0 -> suspend / unsuspend / deactivate
  the Okta user *this package provisioned* (the provisioning state table says which), converging
  on the newest log per user through :class:`~okta_auth0_sync.store.auth0_ledger.Auth0Ledger`
  exactly as the deactivation sync converges (record -> apply the newest -> commit, else again).
- :class:`RoleEvents`: assigned to / removed from a mapped role -> the provisioning worker's input
  for that one member (same worker, state table, trust rule and report as the scheduled run), the
  role membership's newest state kept per (user, role) in the same ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import NotFound, RequestRejected, UpstreamError
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.clients.auth0_logs import logs_after, newest_log_id
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.auth0_logs import (
    LOG_ID,
    ROLE_ASSIGNED,
    SUSPEND,
    UNSUSPEND,
    Auth0LogEvent,
    Classified,
    ReverseSyncPolicy,
    classify,
    okta_operation,
)
from okta_auth0_sync.domain.deprovisioning import LEFT_ROLE, DeprovisionPolicy
from okta_auth0_sync.domain.provisioning import RoleGroupMapping, RunOptions
from okta_auth0_sync.services.provisioning.deprovision import MemberContext
from okta_auth0_sync.services.provisioning.event_removals import deprovision_event_member
from okta_auth0_sync.store import executions
from okta_auth0_sync.store.auth0_ledger import Auth0Ledger, Auth0State, LedgerContention, key_of
from okta_auth0_sync.store.checkpoints import CheckpointMoved, CheckpointStore
from okta_auth0_sync.store.ledger import Ledger
from okta_auth0_sync.store.provisioning_state import StateTable
from okta_auth0_sync.store.removal_window import RemovalWindow

MAX_PASSES = 4  # then LedgerContention: the state machine retries the task
OWN = "provisioned"  # the outcome of a member whose Okta user this package created


# -- ingress ----------------------------------------------------------------------------------------
@dataclass
class IngressCounts:
    logs: int = 0
    started: int = 0
    duplicates: int = 0
    failed: int = 0
    own_writes: int = 0
    ignored: int = 0
    errors: tuple[str, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        return {
            "logs": self.logs,
            "started": self.started,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "own_writes": self.own_writes,
            "ignored": self.ignored,
        }


@dataclass
class LogIngress:
    """Classify logs and start one execution per event (``state_machine_arn``)."""

    state_machine_arn: str
    own_client_id: str | None
    mappings: tuple[RoleGroupMapping, ...]
    ledger: Ledger
    marker_path: tuple[str, str] = ("app_metadata", "okta_sync")
    budget_seconds: float = 20.0

    def classify(self, log: Mapping[str, Any]) -> Classified:
        found = classify(
            log,
            own_client_id=self.own_client_id,
            mapped_roles={m.role_id for m in self.mappings},
            marker_path=self.marker_path,
        )
        if found.marker is not None and self._ours(*found.marker):
            return Classified(found.log_id, ignored="our own write (ledger)", own_write=True)
        return found

    def _ours(self, okta_user_id: str, event_uuid: str) -> bool:
        """The deactivation sync wrote this record: the Okta user's ledger holds that event."""
        state = self.ledger.get(okta_user_id)
        return state is not None and state.event_uuid == event_uuid

    def handle(self, logs: Iterable[Mapping[str, Any]]) -> IngressCounts:
        counts = IngressCounts()
        items: list[tuple[str, dict[str, Any]]] = []
        for log in logs:
            counts.logs += 1
            found = self.classify(log)
            if found.own_write:
                counts.own_writes += 1
            elif not found.events:
                counts.ignored += 1
            for index, event in enumerate(found.events):
                items.append((event.execution_name(index, len(found.events)), {"event": event.to_payload()}))
        results = executions.start_many(self.state_machine_arn, items, budget_seconds=self.budget_seconds)
        for result in results:
            if result.status == "started":
                counts.started += 1
            elif result.status == "duplicate":
                counts.duplicates += 1
            else:
                counts.failed += 1
        counts.errors = tuple(sorted({r.error for r in results if r.error}))
        return counts


# -- which Okta user ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OktaTarget:
    okta_user_id: str
    created: bool  # this package created the Okta user (else it found and adopted it)


def provisioned_okta_user(
    state: StateTable, mappings: Iterable[RoleGroupMapping], auth0_user_id: str
) -> OktaTarget | None:
    """The Okta user this package provisioned for the Auth0 user under any mapping (created by
    this package wins over adopted), or None."""
    found: OktaTarget | None = None
    for mapping in mappings:
        item = state.outcomes(mapping, [auth0_user_id]).get(auth0_user_id) or {}
        okta_user_id = item.get("okta_user_id")
        if not okta_user_id or item.get("outcome") in ("failed", "skipped", "unverified_email", None):
            continue
        created = bool(item.get("created")) or item.get("outcome") == OWN
        if found is None or (created and not found.created):
            found = OktaTarget(str(okta_user_id), created)
    return found


# -- the reverse lifecycle sync -------------------------------------------------------------------
@dataclass
class ReverseSync:
    okta: OktaClient
    ledger: Auth0Ledger
    state: StateTable
    mappings: tuple[RoleGroupMapping, ...]
    policy: ReverseSyncPolicy

    def run(self, event: Auth0LogEvent) -> dict[str, Any]:
        recorded = self.ledger.record(event)
        current = recorded.state
        target = provisioned_okta_user(self.state, self.mappings, event.auth0_user_id)
        result: dict[str, Any] = {"recorded": recorded.outcome, "auth0_user_id": event.auth0_user_id}
        if target is None:
            return {**result, **_applied(current), "outcome": "not_provisioned", "okta_user_id": None}
        if not target.created and not self.policy.adopted_users:
            return {**result, **_applied(current), "outcome": "not_ours", "okta_user_id": target.okta_user_id}
        did: str | None = None  # the Okta call this execution made, in any pass
        for _ in range(MAX_PASSES):
            operation = self._apply(current, target.okta_user_id)
            if operation == "gone":
                return {**result, **_applied(current), "outcome": "okta_user_gone", "okta_user_id": target.okta_user_id}
            if operation not in (None, "superseded"):
                did = operation
            if operation != "superseded" and self.ledger.commit(current):
                return {
                    **result,
                    **_applied(current),
                    "outcome": "applied" if did else "already_applied",
                    "operation": did,
                    "okta_user_id": target.okta_user_id,
                }
            fresh = self.ledger.get(current.key)
            assert fresh is not None  # recorded above; never deleted
            current = fresh
        raise LedgerContention(
            f"Auth0 user {event.auth0_user_id}: newer logs kept arriving while applying; retrying applies the newest"
        )

    def _apply(self, state: Auth0State, okta_user_id: str) -> str | None:
        """One pass: read the Okta user, decide the one call, check the state is still the newest,
        then call. Returns the operation made, None (nothing to do), ``gone`` or ``superseded``."""
        try:
            user = self.okta.get_user(okta_user_id)
        except NotFound:
            return "gone"
        operation = okta_operation(self.policy.wanted(state.kind), user.status, suspended_by_us=state.okta_suspended)
        if operation is None:
            return None
        if not self.ledger.current(state):
            return "superseded"
        if operation == SUSPEND:
            self.ledger.mark_suspended(state.key, True, None)  # before: a crash still remembers it
        try:
            self.okta.lifecycle(okta_user_id, operation)
        except RequestRejected:
            # Refused by status: a concurrent execution got there first. Fine if the user is now
            # where this state wants it; anything else is a real refusal.
            now = self.okta.get_user(okta_user_id).status
            if okta_operation(self.policy.wanted(state.kind), now, suspended_by_us=False) == operation:
                raise
            return None
        if operation == UNSUSPEND:
            self.ledger.mark_suspended(state.key, False, state.version)
        return operation


def _applied(state: Auth0State) -> dict[str, Any]:
    return {"applied": {"log_id": state.log_id, "kind": state.kind, "date": state.date, "version": state.version}}


# -- role membership events -------------------------------------------------------------------------
@dataclass
class RoleEvents:
    """What a role event asks of the provisioning machinery, for the newest state of (user, role)."""

    ledger: Auth0Ledger
    state: StateTable
    mappings: tuple[RoleGroupMapping, ...]
    window: RemovalWindow | None = None  # the event safety stop's window (default: in the state table)

    def decide(self, event: Auth0LogEvent, execution_name: str) -> dict[str, Any]:
        """Record the event; answer with the newest state's action for each mapping of the role:
        ``provision`` (the worker's ``{"run", "batch"}`` inputs) or ``deprovision``."""
        recorded = self.ledger.record(event)
        newest = recorded.state
        mappings = [m for m in self.mappings if m.role_id == event.role_id]
        action = "provision" if newest.kind == ROLE_ASSIGNED else "deprovision"
        runs = []
        for index, mapping in enumerate(mappings):
            run_id = execution_name if len(mappings) == 1 else f"{execution_name[:76]}-m{index}"
            run = RunOptions(mapping, run_id)
            if action == "provision":
                # a run of one member, as the scheduled run's listing publishes it for the worker
                self.state.put_summary(run_id, "batch#000000", {"user_ids": [event.auth0_user_id]})
                self.state.put_summary(run_id, "progress", {"batches": 1, "complete": True, "members": 1, "pending": 1})
            request = {k: v for k, v in run.to_payload().items() if k != "run_id"}
            runs.append({"request": request, "run_id": run_id})
        return {
            "recorded": recorded.outcome,
            "action": action if runs else "none",
            "runs": runs,
            "version": newest.version,
            "key": key_of(event),
            **_applied(newest),
        }

    def deprovision(
        self,
        event: Auth0LogEvent,
        execution_name: str,
        *,
        okta: OktaClient,
        policy: DeprovisionPolicy,
        version: int | None = None,
    ) -> list[dict[str, Any]]:
        """The member left a mapped role: deprovisioning's per-member building block for each mapping
        of the role (out of the group; the lifecycle action the policy allows, only for users this
        package created unless opted in, only when no other mapped group still holds them), behind
        the event safety stop (at most ``max_percent`` of the group per rolling window: over it, the
        member's result is ``safety_stop`` and nothing is removed). A member changed by another
        writer meanwhile (``conflict``) is decided again (retryable). ``version``: the decided
        state's, so each decision takes one slot of the window however often it is retried."""
        mappings = [m for m in self.mappings if m.role_id == event.role_id]
        groups = frozenset(m.group_id for m in self.mappings)
        window = self.window or RemovalWindow(self.state.table_name, self.state.client)
        results = []
        for index, mapping in enumerate(mappings):
            run_id = execution_name if len(mappings) == 1 else f"{execution_name[:76]}-m{index}"
            context = MemberContext(mapping, run_id, policy, mapped_group_ids=groups)
            result = deprovision_event_member(
                event.auth0_user_id,
                LEFT_ROLE,
                context=context,
                okta=okta,
                state=self.state,
                window=window,
                claim_id=f"{run_id}#v{version if version is not None else 0}",
            )
            if result["outcome"] == "conflict":
                raise LedgerContention(
                    f"Auth0 user {event.auth0_user_id}: the member changed meanwhile; deciding again"
                )
            results.append({"group_id": mapping.group_id, **result})
        return results

    def commit(self, key: str, version: int) -> bool:
        """The decided state is still the newest (True), or a newer event arrived (decide again)."""
        state = self.ledger.get(key)
        return state is not None and state.version == version and self.ledger.commit(state)


# -- the polling fallback ---------------------------------------------------------------------------
POLL_SOURCE = "auth0-logs"
TAKE = 100


@dataclass
class LogPoller:
    """For tenants without a log stream: read ``GET /api/v2/logs`` from the checkpoint, hand each
    page to the same ingress as the stream, and advance the checkpoint after each page (a
    conditional write: a poll overlapping another stops at its first page)."""

    auth0: Auth0Client
    checkpoints: CheckpointStore
    ingress: LogIngress
    max_pages: int = 10

    def poll(self) -> dict[str, Any]:
        checkpoint = self.checkpoints.read(POLL_SOURCE)
        total = IngressCounts()
        if checkpoint.cursor is None:  # a first poll starts now: the scheduled run covers the past
            newest = newest_log_id(self.auth0)
            if newest is not None:
                self.checkpoints.advance(checkpoint, newest)
            return {"pages": 0, "started_from": newest, **total.to_payload()}
        pages = 0
        cursor = checkpoint.cursor
        while pages < self.max_pages:
            logs = logs_after(self.auth0, cursor, TAKE)
            pages += 1
            if not logs:
                break
            counts = self.ingress.handle(logs)
            _add(total, counts)
            if counts.failed:  # keep the checkpoint: the next poll reads these logs again
                break
            cursor = _last_log_id(logs)
            try:
                checkpoint = self.checkpoints.advance(checkpoint, cursor)
            except CheckpointMoved:
                break  # another poll is ahead: what this one started was idempotent
            if len(logs) < TAKE:
                break
        return {"pages": pages, "checkpoint": cursor, **total.to_payload()}


def _last_log_id(logs: list[dict[str, Any]]) -> str:
    """Where the next poll reads from: the last log id of the page (a log without a usable one
    is skipped; a page with none at all cannot move the checkpoint, and fails the poll)."""
    for log in reversed(logs):
        if ids.matches(LOG_ID, log.get("log_id")):
            return str(log["log_id"])
    raise UpstreamError("Auth0 GET /api/v2/logs returned a page without a log id", tenant="auth0")


def _add(total: IngressCounts, counts: IngressCounts) -> None:
    total.logs += counts.logs
    total.started += counts.started
    total.duplicates += counts.duplicates
    total.failed += counts.failed
    total.own_writes += counts.own_writes
    total.ignored += counts.ignored
    total.errors = tuple(sorted(set(total.errors) | set(counts.errors)))
