"""Every payload at a boundary, one class each: each handler's input and output, and each state
machine payload that Python writes or reads.

A class reads its payload with ``from_payload`` (raising :class:`InvalidInput` that names the
field, before the handler calls anything) and writes it with ``to_payload`` (exactly the JSON the
``statemachines/*.asl.json`` files select from and ``events/*.json`` show). Whoever writes a
payload and whoever reads it use the same class, so the two cannot drift apart; the domain values
they carry (:class:`~okta_auth0_sync.domain.events.LifecycleEvent`,
:class:`~okta_auth0_sync.domain.provisioning.RunOptions`...) are payloads the same way.

One module per flow (per step for provisioning), so a handler imports only its own models: a frozen
dataclass costs ~0.7 ms of cold start to create (Python 3.11; less on 3.13). This package's
``__init__`` holds the checks they share.

Flows and their payloads:

- :mod:`.tokens` (``mint_token``): :class:`TokenRequest` -> :class:`TokenReference` (one, or one
  per name);
- :mod:`.lookup` (``lookup_users``): :class:`LookupRequest` -> :class:`OktaUserRead`, or the
  identity match (:class:`okta_auth0_sync.services.lookup.IdentityMatch`);
- :mod:`.deactivation`: :class:`DeactivationSyncInput` (the execution input, from the event hook or
  the invoke API); ``update_metadata``: :class:`MetadataUpdateRequest` ->
  :class:`~okta_auth0_sync.domain.deactivation.SyncReport`;
- :mod:`.provisioning`, one module per step:
  :class:`~okta_auth0_sync.domain.provisioning.ProvisioningRequest` (the execution input);
  ``start_provisioning_runs`` (:mod:`.provisioning.runs`): :class:`FanOutInput` -> :class:`FanOutResult`;
  ``list_role_members`` (:mod:`.provisioning.members`): :class:`ListMembersInput` ->
  :class:`ListMembersResult` (with :class:`Listing`); ``provision_members``
  (:mod:`.provisioning.batch`): :class:`BatchInput` -> :class:`BatchResult` (the batches the listing
  writes to S3 are :class:`Batch`); ``provisioning_report`` (:mod:`.provisioning.report`):
  :class:`ReportInput` -> :class:`RunReport`;
- :mod:`.invoke`, the invoke API: :class:`StartedExecution` (what a ``POST`` answers),
  :class:`ExecutionStatus` (``GET``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput


def event_object(payload: Any) -> Mapping[str, Any]:
    """A handler's event as an object (an invocation without a payload reads as ``{}``)."""
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise InvalidInput("the input must be a JSON object")
    return payload


def optional_object(value: Any, name: str) -> Mapping[str, Any]:
    """An optional object field (absent or null: ``{}``)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{name} must be an object")
    return value


def optional_count(value: Any, name: str) -> int:
    """An optional count (absent or null: 0), as the state machine passes it: a whole number, at
    least 0 (not a string, a fraction, a boolean or infinity)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be a whole number, at least 0")
    return value
