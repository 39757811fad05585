"""AWS SDK clients, one per service per container, created on first use (boto3 costs ~150 ms to
import and set up: functions that never touch a service never pay for it)."""

from __future__ import annotations

import threading
from typing import Any

from okta_auth0_sync.base import container

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


@container.on_new_container
def _forget_clients() -> None:
    _clients.clear()
