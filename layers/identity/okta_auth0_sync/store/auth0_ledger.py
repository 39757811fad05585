"""The per-Auth0-user ledger of the Auth0 -> Okta direction (in ``LifecycleLedgerTable``, beside
the Okta users' items: keys ``auth0#{user id}`` for the lifecycle, ``auth0#{user id}#role#{role}``
for one role's membership).

The same two conditional writes as the deactivation sync's ledger
(:mod:`okta_auth0_sync.store.ledger`), so any set of logs, in any order and concurrency, converges
on the newest per user:

- :meth:`Auth0Ledger.record` moves the desired state forward only (the log's ``date``, then the
  kind's rank at the same millisecond, then the ``log_id``): an older or repeated log records nothing;
- :meth:`Auth0Ledger.commit` marks a version applied only while it is still the desired one.

``okta_suspended`` remembers that this package suspended the Okta user (set before the call), so
an unblock unsuspends only a suspension this package made, never an Okta administrator's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from okta_auth0_sync.domain.auth0_logs import RANK, Auth0LogEvent
from okta_auth0_sync.domain.lifecycle import published_ms
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.dynamodb import AttributeValue, Table, marshal, unmarshal
from okta_auth0_sync.store.ledger import LedgerContention

__all__ = ["Auth0Ledger", "Auth0State", "LedgerContention", "key_of"]


@dataclass(frozen=True)
class Auth0State:
    """The newest log recorded for one key, and how far it has been applied."""

    key: str
    log_id: str
    kind: str
    date: str
    version: int
    applied_version: int
    okta_suspended: bool = False

    @property
    def applied(self) -> bool:
        return self.applied_version >= self.version


def key_of(event: Auth0LogEvent) -> str:
    user = f"auth0#{event.auth0_user_id}"
    return f"{user}#role#{event.role_id}" if event.role_id else user


def _state(item: Mapping[str, AttributeValue]) -> Auth0State:
    values = unmarshal(item)
    return Auth0State(
        key=values["pk"],
        log_id=values["log_id"],
        kind=values["kind"],
        date=values["date"],
        version=int(values["version"]),
        applied_version=int(values.get("applied_version", 0)),
        okta_suspended=bool(values.get("okta_suspended", False)),
    )


@dataclass(frozen=True)
class Recorded:
    outcome: str  # newest | duplicate | superseded
    state: Auth0State


class Auth0Ledger(Table):
    """``Auth0Ledger(table_name, client=None)``: see :class:`~okta_auth0_sync.store.dynamodb.Table`."""

    def record(self, event: Auth0LogEvent) -> Recorded:
        key = key_of(event)
        values = {
            ":d": published_ms(event.date),
            ":r": RANK[event.kind],
            ":l": event.log_id,
            ":k": event.kind,
            ":ds": event.date,
            ":now": _now(),
            ":one": 1,
        }
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=marshal({"pk": key}),
                UpdateExpression="SET date_ms = :d, #rank = :r, log_id = :l, kind = :k, #date = :ds, "
                "updated_at = :now ADD version :one",
                ConditionExpression="attribute_not_exists(date_ms) OR date_ms < :d "
                "OR (date_ms = :d AND (#rank < :r OR (#rank = :r AND log_id < :l)))",
                ExpressionAttributeNames={"#rank": "rank", "#date": "date"},
                ExpressionAttributeValues=marshal(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as refused:
            if aws.error_code(refused) != aws.CONDITION_FAILED:
                raise
            state = _state(getattr(refused, "response", {})["Item"])
            return Recorded("duplicate" if state.log_id == event.log_id else "superseded", state)
        return Recorded("newest", _state(response["Attributes"]))

    def get(self, key: str) -> Auth0State | None:
        item = self.client.get_item(TableName=self.table_name, Key=marshal({"pk": key}), ConsistentRead=True).get(
            "Item"
        )
        return _state(item) if item else None

    def current(self, state: Auth0State) -> bool:
        now = self.get(state.key)
        return now is not None and now.version == state.version

    def mark_suspended(self, key: str, suspended: bool, version: int | None) -> bool:
        """Remember (before the Okta call) that this package suspends the user, or (after an
        unsuspend, ``version`` = the state applied) that it no longer holds a suspension. The
        clearing write holds only while no newer log was recorded: a newer block's suspension
        (marked meanwhile) is never forgotten. False: the condition failed."""
        condition = "attribute_exists(pk)" + (" AND version = :v" if version is not None else "")
        values: dict[str, object] = {":s": suspended}
        if version is not None:
            values[":v"] = version
        return self.unless_condition_fails(
            self.client.update_item,
            Key=marshal({"pk": key}),
            UpdateExpression="SET okta_suspended = :s",
            ConditionExpression=condition,
            ExpressionAttributeValues=marshal(values),
        )

    def commit(self, state: Auth0State) -> bool:
        """Mark ``state`` applied, only while it is still the desired state (False: apply again)."""
        return self.unless_condition_fails(
            self.client.update_item,
            Key=marshal({"pk": state.key}),
            UpdateExpression="SET applied_version = :v, applied_at = :now",
            ConditionExpression="version = :v",
            ExpressionAttributeValues=marshal({":v": state.version, ":now": _now()}),
        )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
