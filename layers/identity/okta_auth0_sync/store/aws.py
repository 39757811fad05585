"""AWS SDK clients, one per service per container, created on first use (boto3 costs ~150 ms to
import and set up: functions that never touch a service never pay for it), and the two idioms
every store module shares:

- :func:`resolve`: a store takes ``client: Any = None`` and calls ``resolve(client, service)`` at
  each use, so an injected client (tests, the test bed) wins, and otherwise the container's shared
  client is created only when the store first does I/O;
- :func:`error_code`: the AWS error code of an exception (``ConditionalCheckFailedException``...),
  read the same way everywhere.
"""

from __future__ import annotations

import threading
from typing import Any

from okta_auth0_sync.base import container

CONDITION_FAILED = "ConditionalCheckFailedException"

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            import boto3

            _clients[service] = boto3.client(service)
        return _clients[service]


def resolve(injected: Any, service: str) -> Any:
    """``injected`` if a client was given, else this container's shared client for ``service``
    (looked up on each call, so a store built at import time still creates nothing)."""
    return injected if injected is not None else client(service)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code a botocore ``ClientError`` carries; None for anything else (a connection
    error, a bug), so ``error_code(exc) == CONDITION_FAILED`` never mistakes one for the other."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code else None


@container.on_new_container
def _forget_clients() -> None:
    _clients.clear()
