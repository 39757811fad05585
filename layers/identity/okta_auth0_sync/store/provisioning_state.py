"""The provisioning state table (DynamoDB): each member's outcome per mapping, and run summaries.

Items:

- ``pk = map#{role_id}#{group_id}``, ``sk = member#{auth0 user id}``: ``outcome``
  (provisioned | existing_added | failed | skipped), ``okta_user_id``, ``reason``, ``run_id``,
  ``updated_at``. A member whose last outcome is provisioned/existing_added is not touched
  again (unless a run asks to ``recheck``); failed members are retried by every run.
- ``pk = run#{run_id}``, ``sk = list`` / ``batch#000042``: what each step of a run did (counts,
  failures, API calls, tokens), read back by the report. Expire after 30 days (``ttl``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.store.dynamodb import AttributeValue, Table, marshal, unmarshal

DONE = frozenset({"provisioned", "existing_added"})
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
                    "ProjectionExpression": "sk, outcome, okta_user_id, reason",
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

    def members(self, mapping: RoleGroupMapping) -> Iterator[dict[str, Any]]:
        """Every member ever recorded for the mapping (for drift: who left the role)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": marshal({":pk": mapping.key}),
            "ProjectionExpression": "sk, outcome, okta_user_id",
        }
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

    def summaries(self, run_id: str) -> dict[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": marshal({":pk": f"run#{run_id}"}),
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
