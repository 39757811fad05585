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

DONE = frozenset({"provisioned", "existing_added"})
SUMMARY_TTL_SECONDS = 30 * 24 * 3600


class StateTable:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:  # a boto3 DynamoDB client
        if self._client is None:
            from okta_auth0_sync.store import aws

            return aws.client("dynamodb")
        return self._client

    # -- member outcomes --------------------------------------------------------------------
    def outcomes(self, mapping: RoleGroupMapping, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(user_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 100):
            keys = [{"pk": {"S": mapping.key}, "sk": {"S": f"member#{i}"}} for i in ids[start : start + 100]]
            request = {
                self.table_name: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "sk, outcome, okta_user_id, reason",
                }
            }
            for response in self._until_processed(self.client.batch_get_item, request, "UnprocessedKeys"):
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item["sk"]["S"][len("member#") :]] = _plain(item)
        return found

    def record(self, mapping: RoleGroupMapping, run_id: str, outcomes: Iterable[dict[str, Any]]) -> None:
        now = _now()
        items = []
        for outcome in outcomes:
            item = {
                "pk": {"S": mapping.key},
                "sk": {"S": f"member#{outcome['user_id']}"},
                "outcome": {"S": outcome["outcome"]},
                "run_id": {"S": run_id},
                "updated_at": {"S": now},
            }
            if outcome.get("okta_user_id"):
                item["okta_user_id"] = {"S": outcome["okta_user_id"]}
            if outcome.get("reason"):
                item["reason"] = {"S": outcome["reason"][:1000]}
            items.append({"PutRequest": {"Item": item}})
        self._batch_write(items)

    def members(self, mapping: RoleGroupMapping) -> Iterator[dict[str, Any]]:
        """Every member ever recorded for the mapping (for drift: who left the role)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": mapping.key}},
            "ProjectionExpression": "sk, outcome, okta_user_id",
        }
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                yield {"user_id": item["sk"]["S"][len("member#") :], **_plain(item)}
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- run summaries -------------------------------------------------------------------------
    def put_summary(self, run_id: str, part: str, summary: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={
                "pk": {"S": f"run#{run_id}"},
                "sk": {"S": part},
                "data": {"S": json.dumps(summary)},
                "ttl": {"N": str(int(time.time()) + SUMMARY_TTL_SECONDS)},
            },
        )

    def summaries(self, run_id: str) -> dict[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"run#{run_id}"}},
            "ConsistentRead": True,
        }
        out: dict[str, dict[str, Any]] = {}
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                out[item["sk"]["S"]] = json.loads(item["data"]["S"])
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


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get("S", v.get("N")) for k, v in item.items() if k not in ("pk", "sk")}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
