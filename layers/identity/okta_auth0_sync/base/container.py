"""The execution environment: what the current invocation may still spend (the Lambda deadline),
and what a container keeps between invocations.

Handlers enter :func:`invocation` with their Lambda context; the HTTP layer asks
:func:`remaining_seconds` before sleeping for a retry so that no wait outlives the function.
Modules that keep per-container state (clients, caches) register a reset with
:func:`on_new_container`; :func:`new_container` runs them all (what a cold start gives you; the
test bed uses it to simulate one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_deadline: ContextVar[float | None] = ContextVar("okta_auth0_sync_deadline", default=None)


@contextmanager
def invocation(context: Any) -> Iterator[None]:
    """Bind the Lambda deadline (from ``context.get_remaining_time_in_millis``) for the duration."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    deadline = time.monotonic() + remaining_ms() / 1000.0 if callable(remaining_ms) else None
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining_seconds() -> float | None:
    """Seconds left before the Lambda deadline, or None outside an invocation (CLI, tests)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


_resets: list[Callable[[], None]] = []


def on_new_container(reset: Callable[[], None]) -> Callable[[], None]:
    """Register ``reset`` (forget this module's per-container state); usable as a decorator."""
    _resets.append(reset)
    return reset


def new_container() -> None:
    for reset in _resets:
        reset()
