"""The provisioning state table (DynamoDB): each member's outcome per mapping, and run summaries.

Items:

- ``pk = map#{role_id}#{group_id}``, ``sk = member#{auth0 user id}``: ``outcome``
  (provisioned | existing_added | restored | removed | failed | skipped | unverified_email),
  ``okta_user_id``, ``reason``, ``run_id`` (the run that wrote the outcome: a step retried or
  redriven counts a member its earlier attempt wrote with that outcome, once), ``updated_at``,
  ``v`` (a version: every write is conditional on the version read, so two writers for one
  member cannot both win), ``created`` (sticky: this package created the Okta user),
  ``okta_action`` (suspended | deactivated: what this package did to the Okta user on
  deprovisioning, undone on a rejoin), ``departed`` (left_role | blocked | deleted). A member
  whose outcome is in :data:`DONE` is not touched again (unless a run asks to ``recheck``);
  the others are retried by every run.
- ``pk = run#{run_id}``: what each step of a run did, read back by the report: ``sk = progress``
  (the listing's progress and counts), ``batch#000042`` (a batch of member ids for the worker),
  ``result#000042`` (a batch's counts: every member of the batch once, recounted whole when the
  batch is redone), ``deprovision`` (the deprovisioning step's counts, recounted whole when it is
  retried), ``usage#{step}#{request id}`` (every invocation's API calls, 429s, tokens, success or
  not). Expire after 30 days (``ttl``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.dynamodb import AttributeValue, Table, marshal, unmarshal

DONE = frozenset({"provisioned", "existing_added", "restored"})  # in the group, put there by this package
SUMMARY_TTL_SECONDS = 30 * 24 * 3600


class StateTable(Table):
    """``StateTable(table_name, client=None)``: see :class:`~okta_auth0_sync.store.dynamodb.Table`."""

    # -- member outcomes --------------------------------------------------------------------
    def outcomes(self, mapping: RoleGroupMapping, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(user_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 100):
            keys = [marshal({"pk": mapping.key, "sk": f"member#{i}"}) for i in ids[start : start + 100]]
            request = {
                self.table_name: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": (
                        "sk, outcome, okta_user_id, reason, run_id, v, created, okta_action, departed"
                    ),
                }
            }
            for response in self._until_processed(self.client.batch_get_item, request, "UnprocessedKeys"):
                for item in response.get("Responses", {}).get(self.table_name, []):
                    user_id, values = _member(item)
                    found[user_id] = values
        return found

    def record(self, mapping: RoleGroupMapping, run_id: str, outcomes: Iterable[dict[str, Any]]) -> None:
        now = _now()
        items = []
        for outcome in outcomes:
            item = {
                "pk": mapping.key,
                "sk": f"member#{outcome['user_id']}",
                "outcome": outcome["outcome"],
                "run_id": run_id,
                "updated_at": now,
                "okta_user_id": outcome.get("okta_user_id") or None,  # None: left out
                "reason": outcome["reason"][:1000] if outcome.get("reason") else None,
            }
            items.append({"PutRequest": {"Item": marshal(item)}})
        self._batch_write(items)

    def member(self, mapping: RoleGroupMapping, user_id: str) -> dict[str, Any] | None:
        """One member's item (consistent read), or None."""
        item = self.client.get_item(
            TableName=self.table_name,
            Key=marshal({"pk": mapping.key, "sk": f"member#{user_id}"}),
            ConsistentRead=True,
        ).get("Item")
        return {"user_id": user_id, **_member(item)[1]} if item else None

    def write_member(
        self, mapping: RoleGroupMapping, run_id: str, outcome: dict[str, Any], *, seen_version: int
    ) -> bool:
        """Record one member's outcome if the item is still at ``seen_version`` (0: no item, or
        one written before versions existed); False when another writer got there first.

        ``outcome``: ``user_id``, ``outcome``, and optionally ``okta_user_id``, ``reason``,
        ``created`` (True: sticky, never cleared), ``okta_action`` and ``departed`` (set, or
        removed when present as None)."""
        values: dict[str, Any] = {
            ":outcome": outcome["outcome"],
            ":run": run_id,
            ":now": _now(),
            ":next": seen_version + 1,
        }
        sets = ["outcome = :outcome", "run_id = :run", "updated_at = :now", "v = :next"]
        removes = []
        if outcome.get("okta_user_id"):
            sets.append("okta_user_id = :okta")
            values[":okta"] = outcome["okta_user_id"]
        if outcome.get("reason"):
            sets.append("reason = :reason")
            values[":reason"] = str(outcome["reason"])[:1000]
        else:
            removes.append("reason")
        if outcome.get("created"):
            sets.append("created = :true")
            values[":true"] = True
        for name in ("okta_action", "departed"):
            if name in outcome:
                if outcome[name]:
                    sets.append(f"{name} = :{name}")
                    values[f":{name}"] = outcome[name]
                else:
                    removes.append(name)
        if seen_version:
            condition = "v = :seen"
            values[":seen"] = seen_version
        else:
            condition = "attribute_not_exists(v)"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=marshal({"pk": mapping.key, "sk": f"member#{outcome['user_id']}"}),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=marshal(values),
            )
        except Exception as exc:  # botocore's ClientError, without importing botocore here
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def members(self, mapping: RoleGroupMapping) -> Iterator[dict[str, Any]]:
        """Every member ever recorded for the mapping (for drift: who left the role)."""
        return self._query_members(
            {
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": marshal({":pk": mapping.key}),
                "ProjectionExpression": "sk, outcome, okta_user_id, run_id, v, created, okta_action, departed",
            }
        )

    def _query_members(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True, **query}
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                user_id, values = _member(item)
                yield {"user_id": user_id, **values}
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- run summaries -------------------------------------------------------------------------
    def put_summary(self, run_id: str, part: str, summary: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=marshal(
                {
                    "pk": f"run#{run_id}",
                    "sk": part,
                    "data": json.dumps(summary),
                    "ttl": int(time.time()) + SUMMARY_TTL_SECONDS,
                }
            ),
        )

    def part(self, run_id: str, part: str) -> dict[str, Any] | None:
        """One part of a run (consistent read): the listing's progress, a batch, a result."""
        item = self.client.get_item(
            TableName=self.table_name, Key=marshal({"pk": f"run#{run_id}", "sk": part}), ConsistentRead=True
        ).get("Item")
        return json.loads(unmarshal(item)["data"]) if item else None

    def parts(self, run_id: str, parts: list[str]) -> dict[str, dict[str, Any]]:
        """Several parts of a run at once (consistent batch reads, 100 a call)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(parts), 100):
            keys = [marshal({"pk": f"run#{run_id}", "sk": p}) for p in parts[start : start + 100]]
            request = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            for response in self._until_processed(self.client.batch_get_item, request, "UnprocessedKeys"):
                for item in response.get("Responses", {}).get(self.table_name, []):
                    values = unmarshal(item)
                    found[values["sk"]] = json.loads(values["data"])
        return found

    def summaries(self, run_id: str, prefix: str | None = None) -> dict[str, dict[str, Any]]:
        """Every part of a run (or those whose name starts with ``prefix``)."""
        condition = "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else "")
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": marshal({":pk": f"run#{run_id}", ":prefix": prefix}),
            "ConsistentRead": True,
        }
        out: dict[str, dict[str, Any]] = {}
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                values = unmarshal(item)
                out[values["sk"]] = json.loads(values["data"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- plumbing ------------------------------------------------------------------------------
    def _batch_write(self, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), 25):
            for _ in self._until_processed(
                self.client.batch_write_item, {self.table_name: items[start : start + 25]}, "UnprocessedItems"
            ):
                pass

    @staticmethod
    def _until_processed(
        call: Callable[..., Any], request: dict[str, Any], unprocessed: str
    ) -> Iterator[dict[str, Any]]:
        """A DynamoDB batch call, repeated with backoff for what it left unprocessed; yields each answer."""
        for attempt in range(8):
            response = call(RequestItems=request)
            yield response
            request = response.get(unprocessed) or {}
            if not request:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise RuntimeError("DynamoDB kept throttling the state table")


def _member(item: dict[str, AttributeValue]) -> tuple[str, dict[str, Any]]:
    """A member item as (Auth0 user id, its other attributes)."""
    values = unmarshal(item)
    values.pop("pk", None)
    return values.pop("sk")[len("member#") :], values


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
