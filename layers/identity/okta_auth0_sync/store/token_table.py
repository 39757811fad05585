"""The shared token cache's table (DynamoDB): sealed tokens, and the leases of who mints them.

Items:

- ``pk = token#{cache key}``: ``ciphertext`` (B: the token, sealed by the cache), ``token_type``,
  ``scope``, ``expires_at`` and ``minted_at`` (epoch seconds), ``ttl``;
- ``pk = lease#{cache key}``: ``holder``, ``lease_until`` (epoch seconds), ``ttl``: one container
  mints while it holds the lease.

What the ciphertext holds, and when to lease, read or give up, is the cache's business
(:mod:`okta_auth0_sync.clients.tokens.cache`); this module only reads and writes items. Every
method raises what DynamoDB raises, except the condition failures its answer reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from okta_auth0_sync.store.dynamodb import AttributeValue, Table, marshal, unmarshal

LEASE_ITEM_TTL_SECONDS = 3600


@dataclass(frozen=True)
class SealedToken:
    """A token as the table holds it: the secret parts sealed, the rest in clear."""

    ciphertext: bytes = field(repr=False)
    token_type: str
    expires_at: float
    minted_at: float
    scope: str = ""


class TokenTable(Table):
    """``TokenTable(table_name, client=None)``: see :class:`~okta_auth0_sync.store.dynamodb.Table`."""

    def read(self, cache_key: str) -> SealedToken | None:
        item = self.client.get_item(TableName=self.table_name, Key=_key("token#", cache_key), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        values = unmarshal(item)
        return SealedToken(
            ciphertext=values["ciphertext"],
            token_type=values["token_type"],
            expires_at=float(values["expires_at"]),
            minted_at=float(values["minted_at"]),
            scope=values.get("scope", ""),
        )

    def write(self, cache_key: str, token: SealedToken) -> None:
        item = {
            "pk": "token#" + cache_key,
            "ciphertext": token.ciphertext,
            "token_type": token.token_type,
            "scope": token.scope or "-",
            "expires_at": token.expires_at,
            "minted_at": token.minted_at,
            "ttl": int(token.expires_at) + 60,
        }
        self.client.put_item(TableName=self.table_name, Item=marshal(item))

    def delete(self, cache_key: str, *, minted_at: float) -> bool:
        """Delete the token minted at ``minted_at``; False: the item holds another (or none)."""
        return self.unless_condition_fails(
            self.client.delete_item,
            Key=_key("token#", cache_key),
            ConditionExpression="minted_at = :m",
            ExpressionAttributeValues=marshal({":m": minted_at}),
        )

    def take_lease(self, cache_key: str, holder: str, *, now: float, seconds: float) -> bool:
        """Hold the lease until ``now + seconds``; False: another holder's lease is still running."""
        return self.unless_condition_fails(
            self.client.put_item,
            Item=_lease_item(cache_key, holder, now=now, seconds=seconds),
            ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
            ExpressionAttributeValues=marshal({":now": now}),
        )

    def confirm_lease(self, cache_key: str, holder: str, *, now: float, seconds: float) -> bool:
        """Still ``holder``'s lease? Then extend it to ``now + seconds`` and answer True (the
        holder id is the fencing token: a lease that expired and was taken by another is lost for
        good, even if that one has already released it)."""
        return self.unless_condition_fails(
            self.client.put_item,
            Item=_lease_item(cache_key, holder, now=now, seconds=seconds),
            ConditionExpression="holder = :h",
            ExpressionAttributeValues=marshal({":h": holder}),
        )

    def release_lease(self, cache_key: str, holder: str) -> bool:
        """Give the lease back; False: ``holder`` no longer held it."""
        return self.unless_condition_fails(
            self.client.delete_item,
            Key=_key("lease#", cache_key),
            ConditionExpression="holder = :h",
            ExpressionAttributeValues=marshal({":h": holder}),
        )


def _lease_item(cache_key: str, holder: str, *, now: float, seconds: float) -> dict[str, AttributeValue]:
    ttl = int(now) + LEASE_ITEM_TTL_SECONDS
    return marshal({"pk": "lease#" + cache_key, "holder": holder, "lease_until": now + seconds, "ttl": ttl})


def _key(kind: str, cache_key: str) -> dict[str, AttributeValue]:
    return marshal({"pk": kind + cache_key})
