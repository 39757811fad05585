"""Checkpoints of log pollers (DynamoDB): where the poller of a log source resumes.

Any poller that reads a log from a cursor and acts on each record can keep its place here: the
Okta System Log sweep (source ``okta-system-log``; the cursor is the polling query's ``next``
link), an Auth0 ``GET /api/v2/logs`` poller (its source name; the cursor is the last ``log_id``).
The store never interprets a cursor.

One item per source, ``pk = checkpoint#{source}``:

- ``cursor``: the opaque position to read from next;
- ``version``: 1 on the first :meth:`CheckpointStore.advance`, +1 on each one after (and on a
  :meth:`CheckpointStore.reset`, which removes the cursor);
- ``updated_at``: epoch seconds of the last advance;
- ``note``: an optional small JSON object of the poller's own (e.g. what its last run did).

**The contract.** A poller :meth:`~CheckpointStore.read` s its checkpoint, reads records from the
cursor, acts on them (idempotently: the same record acted on twice must do nothing the second
time), and only then :meth:`~CheckpointStore.advance` s to the position after them. The advance
is a conditional write on the version it read, so:

- of two pollers that read the same checkpoint, exactly one advances it; the other gets
  :class:`CheckpointMoved` and should stop (what it did was idempotent, so nothing is lost or
  doubled);
- a poller that fails before advancing leaves the checkpoint where it was: the next run reads
  the same records again (no gap) and its idempotent actions do nothing twice (no repeat).

Usage::

    store = CheckpointStore(table_name)
    checkpoint = store.read("okta-system-log")          # cursor None: a first run
    ...act on the records after checkpoint.cursor...
    checkpoint = store.advance(checkpoint, new_cursor)  # or CheckpointMoved
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from okta_auth0_sync.store.dynamodb import Table, marshal, unmarshal

MAX_CURSOR_CHARS = 8192
MAX_NOTE_CHARS = 4096
_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")


class CheckpointMoved(Exception):
    """Another poller advanced (or reset) the checkpoint since it was read: this one must stop and
    leave the checkpoint to the other."""


@dataclass(frozen=True)
class Checkpoint:
    """A source's checkpoint as read. ``cursor`` None: nothing to resume from (never advanced,
    ``version`` 0, or reset): the poller starts as on its first run."""

    source: str
    cursor: str | None = None
    version: int = 0
    updated_at: float | None = None
    note: Mapping[str, Any] = field(default_factory=dict)


def _key(source: str) -> dict[str, Any]:
    if not isinstance(source, str) or not _SOURCE.fullmatch(source):
        raise ValueError(f"checkpoint source must match {_SOURCE.pattern}, not {str(source)[:40]!r}")
    return marshal({"pk": f"checkpoint#{source}"})


class CheckpointStore(Table):
    """``CheckpointStore(table_name, client=None)``: see :class:`~okta_auth0_sync.store.dynamodb.Table`.
    The table has a string hash key ``pk`` and nothing else required."""

    def read(self, source: str) -> Checkpoint:
        """The source's checkpoint (a strongly consistent read), or version 0 if it has none."""
        response = self.client.get_item(TableName=self.table_name, Key=_key(source), ConsistentRead=True)
        item = response.get("Item")
        if not item:
            return Checkpoint(source)
        values = unmarshal(item)
        note = json.loads(values["note"]) if isinstance(values.get("note"), str) else {}
        return Checkpoint(
            source=source,
            cursor=values.get("cursor"),
            version=int(values.get("version", 0)),
            updated_at=values.get("updated_at"),
            note=note if isinstance(note, dict) else {},
        )

    def advance(self, checkpoint: Checkpoint, cursor: str, *, note: Mapping[str, Any] | None = None) -> Checkpoint:
        """Move ``checkpoint`` (as read) to ``cursor``: written only if nobody advanced it since it
        was read, else :class:`CheckpointMoved`. Returns the new checkpoint."""
        if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError(f"a cursor is a non-empty string of at most {MAX_CURSOR_CHARS} characters")
        noted = json.dumps(dict(note), separators=(",", ":"), sort_keys=True) if note else None
        if noted is not None and len(noted) > MAX_NOTE_CHARS:
            raise ValueError(f"a checkpoint note is at most {MAX_NOTE_CHARS} characters of JSON")
        now = time.time()
        values: dict[str, Any] = {":cursor": cursor, ":version": checkpoint.version + 1, ":now": now}
        update = "SET #cursor = :cursor, #version = :version, updated_at = :now"
        if noted is not None:
            values[":note"] = noted
            update += ", note = :note"
        else:
            update += " REMOVE note"
        if checkpoint.version == 0:
            condition = "attribute_not_exists(pk)"
        else:
            condition = "#version = :read"
            values[":read"] = checkpoint.version
        advanced = self.unless_condition_fails(
            self.client.update_item,
            Key=_key(checkpoint.source),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#cursor": "cursor", "#version": "version"},
            ExpressionAttributeValues=marshal(values),
        )
        if not advanced:
            raise CheckpointMoved(f"checkpoint {checkpoint.source} moved since version {checkpoint.version} was read")
        return Checkpoint(checkpoint.source, cursor, checkpoint.version + 1, now, dict(note or {}))

    def reset(self, source: str) -> Checkpoint:
        """Forget where the source's poller was (its next run starts over, as a first run does).
        The version still moves forward, so a poller that read the checkpoint before the reset
        cannot advance it afterwards (:class:`CheckpointMoved`)."""
        response = self.client.update_item(
            TableName=self.table_name,
            Key=_key(source),
            UpdateExpression="SET #version = if_not_exists(#version, :zero) + :one, updated_at = :now "
            "REMOVE #cursor, note",
            ExpressionAttributeNames={"#cursor": "cursor", "#version": "version"},
            ExpressionAttributeValues=marshal({":zero": 0, ":one": 1, ":now": time.time()}),
            ReturnValues="ALL_NEW",
        )
        values = unmarshal(response["Attributes"])
        return Checkpoint(source, None, int(values["version"]), values.get("updated_at"))
