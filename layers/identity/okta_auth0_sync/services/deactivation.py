"""The deactivation sync's flow for one Okta user: record the event in the ledger, apply the
ledger's newest state to every Auth0 account, commit only while it is still the newest.
The rules for one account are pure (:mod:`okta_auth0_sync.domain.deactivation`); the argument for
convergence is in docs/deactivation-sync.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import NotFound, RequestRejected
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.domain.deactivation import SyncReport, UserOutcome, plan_update
from okta_auth0_sync.domain.events import LifecycleEvent
from okta_auth0_sync.domain.identities import Auth0User
from okta_auth0_sync.domain.lifecycle import DesiredState
from okta_auth0_sync.domain.policies import SyncPolicy
from okta_auth0_sync.services.lookup import auth0_users_for_email
from okta_auth0_sync.services.revocation import AccessRevoker
from okta_auth0_sync.store.ledger import Ledger, LedgerContention

MAX_PASSES = 4  # then LedgerContention: the state machine retries the task


class _Superseded(Exception):
    """A newer event was recorded while a pass was applying an older state."""


@dataclass
class PersonSync:
    """One execution's work for one Okta user: record its event, then converge every account."""

    auth0: Auth0Client
    ledger: Ledger
    policy: SyncPolicy
    revoker: AccessRevoker

    def run(self, event: LifecycleEvent, email: str | None) -> SyncReport:
        recorded = self.ledger.record(event.okta_user_id, event.uuid, event.event_type, event.published)
        state = recorded.state
        for _ in range(MAX_PASSES):
            try:
                matches, results = self._apply(state, email)
            except _Superseded:
                results = None
            revoked = results is not None and state.deactivated and all(r.outcome != "failed" for r in results)
            if results is not None and self.ledger.commit(state, revoked=revoked):
                return SyncReport(event, recorded.outcome, state, matches, tuple(results))
            fresh = self.ledger.get(event.okta_user_id)
            assert fresh is not None  # recorded above; the ledger never deletes
            state = fresh
        raise LedgerContention(
            f"Okta user {event.okta_user_id}: newer events kept arriving while applying; retrying applies the newest"
        )

    def _apply(self, state: DesiredState, email: str | None) -> tuple[int, list[UserOutcome]]:
        """One pass: read every account, decide each from its read, check once that the state is
        still the newest (narrowing the window for a stale write), then write and revoke."""
        event = LifecycleEvent.from_state(state)
        matches = auth0_users_for_email(self.auth0, email, fields=self.policy.read_fields)
        plans = [(match, *plan_update(match, event, self.policy)) for match in matches]
        if any(
            body is not None or self._must_revoke(state, outcome) for _, outcome, body in plans
        ) and not self.ledger.current(state):
            raise _Superseded
        return len(matches), [self._apply_one(state, *plan) for plan in plans]

    def _apply_one(
        self, state: DesiredState, match: Auth0User, outcome: str, body: dict[str, Any] | None
    ) -> UserOutcome:
        connections = list(match.connections)
        try:
            if body is not None:
                self.auth0.update_user(match.user_id, body)
            access = self.revoker.revoke(match.user_id) if self._must_revoke(state, outcome) else None
        except NotFound:
            return UserOutcome(match.user_id, "failed", "Auth0 user no longer exists", connections)
        except RequestRejected as exc:  # e.g. metadata over the size limit: report it, go on
            return UserOutcome(match.user_id, "failed", str(exc)[:300], connections)
        # PermissionDenied (a missing scope) propagates: every account would fail the same way,
        # and the execution fails naming the scope to grant (its alarm fires).
        return UserOutcome(match.user_id, outcome, None, connections, access)

    @staticmethod
    def _must_revoke(state: DesiredState, outcome: str) -> bool:
        """After the block, end sessions and refresh tokens: once per deactivating version (a
        retried or duplicate execution does not revoke again), and for any account flagged now."""
        if not state.deactivated or outcome == "stale_event":
            return False
        return outcome != "already_applied" or state.revoked_version < state.version
