"""The per-Okta-user lifecycle ledger (DynamoDB): the one place where concurrent executions agree
on what state a person's Auth0 accounts must end in.

One item per Okta user (``pk = user#{okta_user_id}``):

- ``published_ms``, ``rank``, ``event_uuid``, ``event_type``, ``published``: the **desired**
  state, i.e. the newest lifecycle event seen from any ingress (by ``published``; at the same
  instant a deactivation outranks a reactivation);
- ``version``: bumped by every event that changes the desired state;
- ``applied_version``: the newest version whose state was written to every Auth0 account;
- ``revoked_version``: the newest (deactivating) version whose sessions and refresh tokens were
  revoked on every account, so a duplicate or retried execution does not revoke again.

Two conditional writes make it safe under any concurrency (no lease, nothing to release):

- :meth:`Ledger.record` moves the desired state forward only (``published_ms``/``rank``
  compared in the condition), so an older or duplicate event never overwrites a newer one;
- :meth:`Ledger.commit` sets ``applied_version = v`` only while ``version = v``: an execution
  that applied a state which was superseded meanwhile finds out after its writes, and applies
  again. The last writer to any Auth0 account therefore always re-checks after writing; see
  docs/deactivation-sync.md for the argument, and what happens when an execution dies.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from okta_auth0_sync.base.errors import SyncError
from okta_auth0_sync.domain.events import ACTIONS
from okta_auth0_sync.domain.lifecycle import RANK, DesiredState, published_ms
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.dynamodb import AttributeValue, Table, marshal, unmarshal


class LedgerContention(SyncError):
    """The desired state kept moving while this execution applied it. Retryable: the next attempt
    applies whatever is newest then."""

    retryable = True


@dataclass(frozen=True)
class Recorded:
    """What :meth:`Ledger.record` did with an event: ``newest`` (it is the desired state now),
    ``duplicate`` (it already was) or ``superseded`` (a newer event is)."""

    outcome: str
    state: DesiredState


def desired_state(item: Mapping[str, AttributeValue]) -> DesiredState:
    """The domain's :class:`DesiredState` read from a ledger item (as DynamoDB returns it)."""
    values = unmarshal(item)
    return DesiredState(
        okta_user_id=values["okta_user_id"],
        event_uuid=values["event_uuid"],
        event_type=values["event_type"],
        published=values["published"],
        version=int(values["version"]),
        applied_version=int(values.get("applied_version", 0)),
        revoked_version=int(values.get("revoked_version", 0)),
    )


class Ledger(Table):
    """``Ledger(table_name, client=None)``: see :class:`~okta_auth0_sync.store.dynamodb.Table`."""

    def _key(self, okta_user_id: str) -> dict[str, AttributeValue]:
        return marshal({"pk": f"user#{okta_user_id}"})

    def record(self, okta_user_id: str, event_uuid: str, event_type: str, published: str) -> Recorded:
        """Make this event the desired state if it is newer than the one there (atomically)."""
        values = {
            ":p": published_ms(published),
            ":r": RANK[ACTIONS[event_type]],
            ":u": event_uuid,
            ":t": event_type,
            ":ps": published,
            ":id": okta_user_id,
            ":now": _now(),
            ":one": 1,
        }
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=self._key(okta_user_id),
                UpdateExpression="SET published_ms = :p, #rank = :r, event_uuid = :u, event_type = :t, "
                "published = :ps, okta_user_id = :id, updated_at = :now ADD version :one",
                ConditionExpression="attribute_not_exists(published_ms) OR published_ms < :p "
                "OR (published_ms = :p AND #rank < :r)",
                ExpressionAttributeNames={"#rank": "rank"},
                ExpressionAttributeValues=marshal(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",  # the newer state, without another read
            )
        except Exception as refused:
            if aws.error_code(refused) != aws.CONDITION_FAILED:
                raise
            state = desired_state(getattr(refused, "response", {})["Item"])
            return Recorded("duplicate" if state.event_uuid == event_uuid else "superseded", state)
        return Recorded("newest", desired_state(response["Attributes"]))

    def get(self, okta_user_id: str) -> DesiredState | None:
        item = self.client.get_item(TableName=self.table_name, Key=self._key(okta_user_id), ConsistentRead=True).get(
            "Item"
        )
        return desired_state(item) if item else None

    def current(self, state: DesiredState) -> bool:
        """Is ``state`` still the desired state (no newer event recorded since it was read)?"""
        now = self.get(state.okta_user_id)
        return now is not None and now.version == state.version

    def commit(self, state: DesiredState, *, revoked: bool = False) -> bool:
        """Mark ``state`` applied (and its access revoked), only if it is still the desired state.
        False: a newer event was recorded meanwhile (apply again)."""
        update = "SET applied_version = :v, applied_at = :now" + (", revoked_version = :v" if revoked else "")
        return self.unless_condition_fails(
            self.client.update_item,
            Key=self._key(state.okta_user_id),
            UpdateExpression=update,
            ConditionExpression="version = :v AND (attribute_not_exists(applied_version) OR applied_version <= :v)",
            ExpressionAttributeValues=marshal({":v": state.version, ":now": _now()}),
        )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
