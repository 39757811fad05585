"""DPoP proof replay: remembers each proof's ``jti`` while the proof could still be accepted,
in DynamoDB (conditional put, TTL), so a proof is single-use across every container."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from okta_auth0_sync.store import aws
from okta_auth0_sync.store.dynamodb import marshal


class ProofReplayCache:
    """Remembers DPoP proof ``jti`` values while their proofs could still be accepted: DynamoDB
    (conditional put, TTL) so a proof is single-use across every container. Without a table
    (``table_name`` None), in this process only. ``client``: as for every store
    (:func:`okta_auth0_sync.store.aws.resolve`)."""

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
        try:
            aws.resolve(self._client, "dynamodb").put_item(
                TableName=self.table_name,
                Item=marshal({"pk": f"jti#{hashlib.sha256(jti.encode()).hexdigest()}", "ttl": int(expires_at) + 60}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as exc:
            if aws.error_code(exc) == aws.CONDITION_FAILED:
                return False
            raise
        return True
