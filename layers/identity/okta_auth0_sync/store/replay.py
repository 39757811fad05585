"""DPoP proof replay: remembers each proof's ``jti`` while the proof could still be accepted,
in DynamoDB (conditional put, TTL), so a proof is single-use across every container."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any


class ProofReplayCache:
    """Remembers DPoP proof ``jti`` values while their proofs could still be accepted: DynamoDB
    (conditional put, TTL) so a proof is single-use across every container."""

    def __init__(self, table_name: str | None, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, jti: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
            if jti in self._seen:
                return False
            self._seen[jti] = expires_at
        if not self.table_name:
            return True
        from okta_auth0_sync.store import aws

        dynamodb = self._client or aws.client("dynamodb")
        try:
            dynamodb.put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"jti#{hashlib.sha256(jti.encode()).hexdigest()}"},
                    "ttl": {"N": str(int(expires_at) + 60)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
