"""Step 2 of a run, per batch of role members: read their Auth0 profiles in a few calls, then
create each Okta user in the group (or add the existing one), recording outcomes as they go.

One bad member never stops the batch: profile problems and Okta validation errors become that
member's ``failed`` outcome with the reason. Rate limits and outages that outlast the HTTP
layer's retries propagate, so Step Functions retries the batch; members already recorded are
then skipped, so a retry repeats no work.
"""

from __future__ import annotations

from typing import Any

from okta_auth0_sync.base.errors import AlreadyExists, NotFound, RequestRejected, UpstreamUnavailable
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.policies import ProvisioningPolicy
from okta_auth0_sync.domain.profiles import okta_profile
from okta_auth0_sync.domain.provisioning import RunOptions
from okta_auth0_sync.store.provisioning_state import DONE, StateTable

FLUSH_EVERY = 10  # outcomes written this often, so a retried batch repeats (almost) nothing
FAILURE_SAMPLE = 100


class BatchWorker:
    def __init__(
        self,
        options: RunOptions,
        *,
        auth0: Auth0Client,
        okta: OktaClient,
        state: StateTable,
        policy: ProvisioningPolicy,
    ) -> None:
        self.options = options
        self.auth0 = auth0
        self.okta = okta
        self.state = state
        self.policy = policy
        self._pending: list[dict[str, Any]] = []

    def run(self, user_ids: list[str]) -> dict[str, Any]:
        mapping = self.options.mapping
        recorded = {} if self.options.recheck else self.state.outcomes(mapping, user_ids)
        todo = [uid for uid in user_ids if recorded.get(uid, {}).get("outcome") not in DONE]
        results: list[dict[str, Any]] = [
            {"user_id": uid, "outcome": "unchanged"} for uid in user_ids if uid not in set(todo)
        ]
        profiles = self.auth0.users_by_id(todo) if todo else {}
        for user_id in todo:
            outcome = self._member(user_id, profiles.get(user_id))
            results.append(outcome)
            self._remember(outcome)
        self._flush()
        return summarize(results)

    # -- one member ----------------------------------------------------------------------------
    def _member(self, user_id: str, user: dict[str, Any] | None) -> dict[str, Any]:
        dry = self.options.dry_run
        if user is None:
            return _failed(user_id, "Auth0 user not found (deleted after it was listed?)", dry)
        if self.policy.skip_blocked and user.get("blocked"):
            return {"user_id": user_id, "outcome": "would_skip" if dry else "skipped", "reason": "blocked in Auth0"}
        if not self.policy.trusts_email_of(user):
            # The email becomes (or finds) the Okta login: an unverified one could name someone
            # else's workforce account and pull it into the partner group. Re-checked every run.
            return {"user_id": user_id, "outcome": "unverified_email", "reason": "email not verified in Auth0"}
        checked = okta_profile(user, self.policy)
        if checked[1] is not None:  # (None, reason)
            return _failed(user_id, checked[1], dry)
        profile = checked[0]
        if dry:
            existing = self.okta.find_user(profile["login"])
            return {
                "user_id": user_id,
                "outcome": "would_add_existing" if existing else "would_create",
                "okta_user_id": existing.id if existing else None,
            }
        try:
            created = self._create(profile)
        except RequestRejected as exc:  # Okta validation (schema attribute missing, bad value...)
            return _failed(user_id, str(exc), dry)
        if created is not None:
            return {"user_id": user_id, "outcome": "provisioned", "okta_user_id": created}
        existing = self.okta.find_user(profile["login"])
        if existing is None:  # E0000001 on another unique field (e.g. email), or deleted meanwhile
            return _failed(user_id, "Okta refused the login as taken but no user has it", dry)
        try:
            self.okta.add_to_group(self.options.mapping.group_id, existing.id)
        except NotFound:
            return _failed(user_id, f"Okta user {existing.id} vanished before the group add", dry)
        return {"user_id": user_id, "outcome": "existing_added", "okta_user_id": existing.id}

    def _create(self, profile: dict[str, Any]) -> str | None:
        """The new user's id, or None when the login exists already (E0000001)."""

        def create() -> str:
            return self.okta.create_user(
                profile,
                group_ids=[self.options.mapping.group_id],
                activate=self.policy.activate,
                federated=self.policy.federated,
            ).id

        try:
            return create()
        except AlreadyExists:
            return None
        except UpstreamUnavailable:
            # A 5xx on a create: it may or may not have happened. If the user exists now, it is
            # handled like E0000001 (group PUT); if not, the create is tried once more.
            if self.okta.find_user(profile["login"]) is not None:
                return None
            return create()

    # -- state ---------------------------------------------------------------------------------
    def _remember(self, outcome: dict[str, Any]) -> None:
        if self.options.dry_run or outcome["outcome"] == "unchanged":
            return
        self._pending.append(outcome)
        if len(self._pending) >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.state.record(self.options.mapping, self.options.run_id, self._pending)
            self._pending = []


def _failed(user_id: str, reason: str, dry_run: bool) -> dict[str, Any]:
    return {"user_id": user_id, "outcome": "would_fail" if dry_run else "failed", "reason": reason[:300]}


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    failures = [
        {"user_id": r["user_id"], "reason": r["reason"]} for r in results if r["outcome"] in ("failed", "would_fail")
    ]
    return {
        "members": len(results),
        "counts": counts,
        "failures": failures[:FAILURE_SAMPLE],
        "failures_total": len(failures),
    }


def record_batch_failure(
    options: RunOptions, state: StateTable, user_ids: list[str], error: str, cause: str
) -> dict[str, Any]:
    """The batch task failed for good (after Step Functions' retries): every member of the batch
    not already done is recorded as failed with the reason, so the next run retries them and
    the report lists them."""
    recorded = state.outcomes(options.mapping, user_ids)
    results = []
    for uid in user_ids:
        if recorded.get(uid, {}).get("outcome") in DONE:
            results.append({"user_id": uid, "outcome": recorded[uid]["outcome"]})
        else:
            results.append(_failed(uid, f"batch failed: {error}: {cause}", options.dry_run))
    if not options.dry_run:
        state.record(options.mapping, options.run_id, [r for r in results if r["outcome"] == "failed"])
    return summarize(results)
