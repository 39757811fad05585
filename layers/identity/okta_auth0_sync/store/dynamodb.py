"""What every DynamoDB store shares: the :class:`Table` base (a table name and an injectable
client) and the item marshalling between plain Python values and DynamoDB attribute values.

The marshalling is local rather than ``boto3.dynamodb.types``: that module is cheap itself (under
1 ms in ``python -X importtime``) but imports all of boto3 first (1.4-3.5 s measured on a loaded
machine), which a store given a fake client, or a table-less cache, should not pay; and its
serializer refuses ``float`` and reads numbers as ``Decimal``, where these tables hold epoch
seconds as floats. Scalars only: what the tables here hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from okta_auth0_sync.store import aws

AttributeValue = dict[str, Any]  # {"S": "..."}, {"N": "42"}, {"B": b"..."}, {"BOOL": True}, {"NULL": True}


class Table:
    """One DynamoDB table. ``client``: a boto3 DynamoDB client to use, or None for the
    container's shared one, created on first use (:func:`okta_auth0_sync.store.aws.resolve`)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:  # a boto3 DynamoDB client
        return aws.resolve(self._client, "dynamodb")

    def unless_condition_fails(self, call: Callable[..., Any], **kwargs: Any) -> bool:
        """``call(TableName=..., **kwargs)``, a conditional write: True if it was made, False if
        its condition failed; any other error is raised."""
        try:
            call(TableName=self.table_name, **kwargs)
        except Exception as exc:
            if aws.error_code(exc) == aws.CONDITION_FAILED:
                return False
            raise
        return True


def marshal(values: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """Plain values as DynamoDB attribute values (an item, a key, or expression values).
    ``str`` -> S, ``int``/``float`` -> N (``str``/``repr``: exact), ``bytes`` -> B, ``bool`` ->
    BOOL; a None value leaves the attribute out."""
    return {name: _attribute(name, value) for name, value in values.items() if value is not None}


def unmarshal(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """A DynamoDB item as plain values: S -> ``str``, N -> ``int`` (or ``float`` when not
    integral), B -> ``bytes``, BOOL -> ``bool``, NULL -> None."""
    return {name: _value(name, attribute) for name, attribute in item.items()}


def _attribute(name: str, value: Any) -> AttributeValue:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # before int: bool is an int
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    raise TypeError(f"attribute {name}: cannot store a {type(value).__name__} in DynamoDB")


def _value(name: str, attribute: AttributeValue) -> Any:
    ((kind, raw),) = attribute.items()
    if kind == "S":
        return raw
    if kind == "N":
        try:
            return int(raw)
        except ValueError:
            return float(raw)
    if kind == "B":
        return bytes(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    raise TypeError(f"attribute {name}: DynamoDB type {kind} is not read here")
