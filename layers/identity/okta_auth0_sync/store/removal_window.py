"""The event safety stop's rolling window, in the provisioning state table.

Event-driven removals (an Auth0 log: a member left a mapped role) come one member at a time, in
as many concurrent executions as there are logs. Each takes a slot of its mapping's window before
removing anyone; a removal without a slot is not made. Items (``pk = window#{role_id}#{group_id}``):

- ``sk = deprovision``: ``total`` (removals counted in the window), ``b_{start}`` (removals per
  bucket of the window, see :func:`~okta_auth0_sync.domain.deprovisioning.window_bucket`),
  ``managed`` / ``managed_at`` (the mapping's in-group members, counted at most once a window:
  the denominator of the limit).
- ``sk = claim#{claim id}``: one removal's slot (``ttl``: a day after the window), so a retried
  or redriven task takes its slot once.

Atomic without a read-then-write race: the slot is a transaction of two conditional writes, the
claim item (``attribute_not_exists``) and ``total = total + 1`` on the condition ``total <
limit``. Two containers at the limit cannot both pass: DynamoDB serialises the condition. Expired
buckets leave ``total`` by their own conditional update (``b_{start} = :n``), so a bucket is taken
off once however many containers see it expired; until then it still counts (never too many).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.domain.deprovisioning import IN_GROUP, expired_buckets, window_bucket
from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.dynamodb import Table, marshal, unmarshal
from okta_auth0_sync.store.ledger import LedgerContention

WINDOW = "deprovision"
BUCKET = "b_"
CLAIM_TTL_SECONDS = 24 * 3600  # beyond the window
CONFLICT_ATTEMPTS = 12  # transactions conflicting on the window item: retried, then the task is retried


@dataclass(frozen=True)
class WindowClaim:
    """A claim's answer: ``allowed`` (a slot taken now or by an earlier attempt of the same claim)
    and the removals the window counted (this one included when taken)."""

    allowed: bool
    removed_in_window: int
    managed: int
    limit: int


class RemovalWindow(Table):
    """``RemovalWindow(state_table_name, client=None, clock=time.time)``."""

    def __init__(self, table_name: str, client: Any = None, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(table_name, client)
        self.clock = clock

    @staticmethod
    def key(mapping: RoleGroupMapping, sk: str = WINDOW) -> dict[str, Any]:
        return {"pk": f"window#{mapping.role_id}#{mapping.group_id}", "sk": sk}

    def read(self, mapping: RoleGroupMapping) -> dict[str, Any]:
        item = self.client.get_item(TableName=self.table_name, Key=marshal(self.key(mapping)), ConsistentRead=True).get(
            "Item"
        )
        return unmarshal(item) if item else {}

    def count(self, mapping: RoleGroupMapping, window_seconds: int) -> int:
        """Removals the window holds now (expired buckets not counted): a dry run's look."""
        window = self.read(mapping)
        expired = set(expired_buckets(_buckets(window), self.clock(), window_seconds))
        return sum(n for start, n in _buckets(window).items() if start not in expired)

    def managed(self, mapping: RoleGroupMapping, window: dict[str, Any], max_age_seconds: int) -> int:
        """The mapping's in-group members: the window's count if younger than ``max_age_seconds``,
        else counted again from the member items and kept on the window item.

        The count is kept by the first container to make it (a conditional write on the
        ``managed_at`` it read); a container that loses reads the winner's. Every claim of one
        window so sees one denominator, not a count taken while removals are under way."""
        now = self.clock()
        if _fresh(window, now, max_age_seconds):
            return int(window["managed"])
        managed = self.count_in_group(mapping)
        seen = window.get("managed_at")
        condition = "attribute_not_exists(managed_at)" if seen is None else "managed_at = :seen"
        values = {":m": managed, ":at": now, **({":seen": seen} if seen is not None else {})}
        kept = self.unless_condition_fails(
            self.client.update_item,
            Key=marshal(self.key(mapping)),
            UpdateExpression="SET managed = :m, managed_at = :at",
            ConditionExpression=condition,
            ExpressionAttributeValues=marshal(values),
        )
        if kept:
            return managed
        current = self.read(mapping)  # another container counted first: its count stands
        return int(current["managed"]) if _fresh(current, now, max_age_seconds) else managed

    def count_in_group(self, mapping: RoleGroupMapping) -> int:
        """Members this package put in the mapping's group (outcome in ``IN_GROUP``)."""
        outcomes = sorted(IN_GROUP)
        names = {f":o{i}": o for i, o in enumerate(outcomes)}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
            "FilterExpression": f"#outcome IN ({', '.join(names)})",
            "ExpressionAttributeNames": {"#outcome": "outcome"},
            "ExpressionAttributeValues": marshal({":pk": mapping.key, ":member": "member#", **names}),
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        total = 0
        while True:
            page = self.client.query(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim(
        self,
        mapping: RoleGroupMapping,
        claim_id: str,
        *,
        window_seconds: int,
        limit_for: Callable[[int], int],
    ) -> WindowClaim:
        """Take one removal slot of the mapping's window for ``claim_id``, if the window holds fewer
        than ``limit_for(managed)`` removals. Idempotent per ``claim_id``."""
        for attempt in range(CONFLICT_ATTEMPTS):
            window = self.read(mapping)
            managed = self.managed(mapping, window, window_seconds)
            limit = limit_for(managed)
            counted = self._expire(mapping, window, window_seconds)
            if limit <= 0:  # a share of 0: no event-driven removal at all
                return WindowClaim(False, counted, managed, limit)
            now = self.clock()
            try:
                self._take(mapping, claim_id, limit, window_bucket(now, window_seconds), now + window_seconds)
                return WindowClaim(True, counted + 1, managed, limit)
            except Exception as exc:  # botocore's ClientError, without importing botocore here
                reasons = _cancellation_codes(exc)
                if reasons is None:
                    raise
            if reasons[0] == "ConditionalCheckFailed":  # this claim took its slot before
                return WindowClaim(True, counted, managed, limit)
            if reasons[1] == "ConditionalCheckFailed":  # the window is full
                return WindowClaim(False, max(counted, limit), managed, limit)
            time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))  # TransactionConflict: again
        raise LedgerContention(f"removal window of {mapping.key}: kept conflicting; retrying claims again")

    def _expire(self, mapping: RoleGroupMapping, window: dict[str, Any], window_seconds: int) -> int:
        """Take expired buckets off ``total`` (each once: conditional on its count); returns the
        removals still counted."""
        buckets = _buckets(window)
        for start in expired_buckets(buckets, self.clock(), window_seconds):
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key=marshal(self.key(mapping)),
                    UpdateExpression="REMOVE #b SET #total = #total - :n",
                    ConditionExpression="#b = :n",
                    ExpressionAttributeNames={"#b": f"{BUCKET}{start}", "#total": "total"},
                    ExpressionAttributeValues=marshal({":n": buckets[start]}),
                )
            except Exception as exc:
                if aws.error_code(exc) != aws.CONDITION_FAILED:
                    raise  # else another container took it off (or it grew: still counted)
            buckets.pop(start)
        return sum(buckets.values())

    def _take(self, mapping: RoleGroupMapping, claim_id: str, limit: int, bucket: int, expires: float) -> None:
        claim = {**self.key(mapping, f"claim#{claim_id}"), "bucket": bucket, "ttl": int(expires) + CLAIM_TTL_SECONDS}
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": marshal(claim),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": marshal(self.key(mapping)),
                        "UpdateExpression": "SET #total = if_not_exists(#total, :zero) + :one, "
                        "#b = if_not_exists(#b, :zero) + :one",
                        "ConditionExpression": "attribute_not_exists(#total) OR #total < :limit",
                        "ExpressionAttributeNames": {"#total": "total", "#b": f"{BUCKET}{bucket}"},
                        "ExpressionAttributeValues": marshal({":zero": 0, ":one": 1, ":limit": limit}),
                    }
                },
            ]
        )


def _buckets(window: dict[str, Any]) -> dict[int, int]:
    return {int(name[len(BUCKET) :]): int(n) for name, n in window.items() if name.startswith(BUCKET)}


def _fresh(window: dict[str, Any], now: float, max_age_seconds: int) -> bool:
    return "managed" in window and now - float(window.get("managed_at", 0)) < max_age_seconds


def _cancellation_codes(exc: BaseException) -> tuple[str, str] | None:
    """A cancelled transaction's reason per item (claim, window), or None for any other error."""
    if aws.error_code(exc) != "TransactionCanceledException":
        return None
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    codes = [str((r or {}).get("Code") or "None") for r in reasons] + ["None", "None"]
    return codes[0], codes[1]
