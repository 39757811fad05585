"""Full-state reconciliation: one step of a run (rules: :mod:`okta_auth0_sync.domain.reconciliation`).

A run has two phases, each read page by page, and a step does pages until its time is nearly up,
then hands back where to resume (the state machine loops until ``phase == "done"``):

1. **Okta -> Auth0** (``missing_flag``): every deactivated Okta user
   (``GET /api/v1/users?search=status eq "DEPROVISIONED"``, 200 a page), and the Auth0 accounts
   with their emails, ``EMAILS_PER_QUERY`` emails a search (``email`` compares ignoring case).
2. **Auth0 -> Okta** (``stale_flag``): every flagged Auth0 account (a search on the flag, 100 a
   page, ordered by ``created_at``, each page starting at the last one's ``created_at``: search
   pages through 1,000 matches at most, and offsets would shift as this run's fixes change the
   set), and the Okta status of the users they name, ``IDS_PER_QUERY`` ids a search.

Calls for N deactivated Okta users and F flagged accounts: about N/200 Okta + N/50 Auth0 in
phase 1, F/100 Auth0 + F/50 Okta in phase 2, all paced by the shared HTTP layer. Each drift
found starts the on-demand deactivation sync of that Okta user (unless ``dry_run``), named by
:func:`~okta_auth0_sync.domain.reconciliation.execution_name`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from okta_auth0_sync.base import container
from okta_auth0_sync.base.logs import logger
from okta_auth0_sync.clients.auth0 import Auth0Client, lucene_quote
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.payloads.deactivation import DeactivationSyncInput
from okta_auth0_sync.domain.policies import SyncPolicy
from okta_auth0_sync.domain.reconciliation import (
    MISSING_FLAG,
    SEARCH_WINDOW_PAGES,
    STALE_FLAG,
    Drift,
    ReconciliationRun,
    deactivated_statuses,
    execution_name,
    flag_of,
    flagged_query,
    is_flagged,
    okta_id_search,
    okta_search,
)
from okta_auth0_sync.store import executions

EMAILS_PER_QUERY = 50
IDS_PER_QUERY = 50
PER_PAGE = 100  # flagged accounts a page
EMAIL_PAGE_SIZE, EMAIL_SEARCH_PAGES = 100, 10  # accounts of a 50-email search: 1,000 at most
STEP_RESERVE_SECONDS = 45.0  # a step starts no page with less than this left before its deadline
KEPT_FLAGGED = ("DEPROVISIONED", "SUSPENDED")  # statuses whose flag is never stale (see the domain)

Starter = Callable[[list[tuple[str, Any]]], list[executions.Started]]


class Reconciler:
    def __init__(
        self,
        okta: OktaClient,
        auth0: Auth0Client,
        policy: SyncPolicy,
        *,
        include_suspended: bool,
        start: Starter,
        seconds_left: Callable[[], float | None] = container.remaining_seconds,
    ) -> None:
        self.okta, self.auth0, self.policy = okta, auth0, policy
        self.include_suspended = include_suspended
        self.start = start
        self.seconds_left = seconds_left

    def step(self, run: ReconciliationRun) -> ReconciliationRun:
        """Pages of the current phase until the run is done or this invocation's time is short."""
        while not run.done:
            left = self.seconds_left()
            if left is not None and left < STEP_RESERVE_SECONDS:
                break
            if run.phase == "okta":
                self._okta_page(run)
            else:
                self._auth0_page(run)
        return run

    # -- phase 1 ---------------------------------------------------------------------------------
    def _okta_page(self, run: ReconciliationRun) -> None:
        users, next_url = self.okta.search_users_page(okta_search(self.include_suspended), next_url=run.okta_next)
        users = [u for u in users if isinstance(u, dict) and u.get("status") in self._must_be_flagged]
        run.counts["okta_users_checked"] += len(users)
        accounts = self._accounts_by_email({e for u in users if (e := _email(u))})
        drifts = []
        for user in users:
            unflagged = [a["user_id"] for a in accounts.get(_email(user) or "", []) if not is_flagged(a, self.policy)]
            if unflagged:
                drifts.append((Drift(MISSING_FLAG, user["id"], user["status"], sorted(unflagged)), user))
        self._fix(run, drifts)
        run.okta_next = next_url
        if not next_url:
            run.phase = "auth0"

    @property
    def _must_be_flagged(self) -> tuple[str, ...]:
        return deactivated_statuses(self.include_suspended)

    def _accounts_by_email(self, emails: set[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        ordered = sorted(emails)
        fields = ("user_id", "email", self.policy.target)
        for start in range(0, len(ordered), EMAILS_PER_QUERY):
            chunk = ordered[start : start + EMAILS_PER_QUERY]
            query = "email:(" + " OR ".join(lucene_quote(e) for e in chunk) + ")"
            for page in range(EMAIL_SEARCH_PAGES):  # 50 emails rarely have more than 100 accounts
                accounts, _ = self.auth0.search_users_page(query, page=page, per_page=EMAIL_PAGE_SIZE, fields=fields)
                for account in accounts:
                    email = account.get("email")
                    if isinstance(email, str) and isinstance(account.get("user_id"), str):
                        found.setdefault(email.lower(), []).append(account)
                if len(accounts) < EMAIL_PAGE_SIZE:
                    break
        return found

    # -- phase 2 ---------------------------------------------------------------------------------
    def _auth0_page(self, run: ReconciliationRun) -> None:
        query = flagged_query(self.policy)
        if run.auth0_since:  # a checked timestamp (the range's bounds are not quoted terms)
            query += f" AND created_at:[{run.auth0_since} TO *]"
        fields = ("user_id", "email", "created_at", self.policy.target)
        accounts, _ = self.auth0.search_users_page(
            query, page=run.auth0_page, per_page=PER_PAGE, fields=fields, sort="created_at:1"
        )
        seen = set(run.auth0_boundary)
        fresh = [a for a in accounts if a.get("user_id") not in seen]  # not read at the last page's instant
        run.counts["auth0_accounts_checked"] += len(fresh)
        named: dict[str, list[str]] = {}
        for account in fresh:
            record = flag_of(account, self.policy) or {}
            okta_user_id = record.get("okta_user_id")
            if record.get("deactivated") is True and isinstance(okta_user_id, str) and okta_user_id:
                named.setdefault(okta_user_id, []).append(account["user_id"])
        statuses = self._okta_users(sorted(named))
        drifts = [
            (Drift(STALE_FLAG, uid, user.get("status", ""), sorted(named[uid])), user)
            for uid, user in statuses.items()
            if user.get("status") not in KEPT_FLAGGED
        ]
        self._fix(run, drifts)
        self._advance_window(run, accounts, len(fresh))

    def _advance_window(self, run: ReconciliationRun, accounts: list[dict[str, Any]], fresh: int) -> None:
        """Keyset paging: the next page starts at the last account's ``created_at`` (accounts read at
        that instant are skipped), so flags set or cleared meanwhile (this run's own fixes) shift
        nothing, and search's 1,000-result cap never applies. Only when a whole page shares one
        instant does the page number move on within it."""
        if len(accounts) < PER_PAGE:
            run.phase = "done"
            return
        since = accounts[-1].get("created_at")
        if not isinstance(since, str):
            run.phase = "done"
            return
        at_since = [a["user_id"] for a in accounts if a.get("created_at") == since]
        if since != run.auth0_since:
            run.auth0_since, run.auth0_page, run.auth0_boundary = since, 0, at_since[:1000]
            return
        run.auth0_boundary = list(dict.fromkeys(run.auth0_boundary + at_since))[:1000]
        if fresh == 0:  # a page of accounts all created at one instant: read on within it
            if run.auth0_page + 1 >= SEARCH_WINDOW_PAGES or len(run.auth0_boundary) >= 1000:
                logger.warning("reconciliation: more than 1,000 flagged accounts share one created_at; stopped")
                run.phase = "done"
                return
            run.auth0_page += 1

    def _okta_users(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The Okta users with these ids that exist (a deleted user is absent)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(user_ids), IDS_PER_QUERY):
            users, _ = self.okta.search_users_page(okta_id_search(user_ids[start : start + IDS_PER_QUERY]))
            found.update({u["id"]: u for u in users if isinstance(u, dict) and isinstance(u.get("id"), str)})
        return found

    # -- fixing ----------------------------------------------------------------------------------
    def _fix(self, run: ReconciliationRun, drifts: list[tuple[Drift, dict[str, Any]]]) -> None:
        for drift, user in drifts:
            drift.execution = execution_name(drift.okta_user_id, drift.okta_status, user.get("statusChanged"))
        if not run.dry_run and drifts:
            requested_by = f"reconciliation ({run.requested_by})"[:200]
            items = [
                (d.execution, DeactivationSyncInput.on_demand(d.okta_user_id, requested_by).to_payload())
                for d, _ in drifts
                if d.execution
            ]
            outcomes = {s.name: s.status for s in self.start(items)}
            for drift, _ in drifts:
                drift.started = outcomes.get(drift.execution or "", "failed")
        for drift, _ in drifts:
            run.record(drift)
            logger.info("reconciliation drift", extra={"dry_run": run.dry_run, **drift.to_payload()})


def _email(user: dict[str, Any]) -> str | None:
    profile = user.get("profile")
    if not isinstance(profile, dict):
        return None
    email = profile.get("email") or profile.get("login")
    return email.lower() if isinstance(email, str) and email else None


def starter(state_machine_arn: str) -> Starter:
    """Starts deactivation-sync executions (8 at a time, within a minute)."""

    def start(items: list[tuple[str, Any]]) -> list[executions.Started]:
        return executions.start_many(state_machine_arn, items, budget_seconds=60.0)

    return start
