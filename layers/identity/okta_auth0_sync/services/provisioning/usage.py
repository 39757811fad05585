"""What every step of a run spent, recorded per invocation whether it succeeded or not, so the
report adds up the API calls, 429s, tokens, Lambda time and state transitions of the whole run,
failed and retried attempts included.

Each invocation writes ``run#{run}/usage#{step}#{request id}``: ``{"step", "ok", "seconds",
"memory_mb", "api_calls", "rate_limited", "tokens_minted"}``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from okta_auth0_sync.base import counters
from okta_auth0_sync.store.provisioning_state import StateTable


class SharedUsage:
    """Usage counted in worker threads (each member under its own :func:`counters.usage`, which
    threads do not inherit), merged under a lock into one total."""

    def __init__(self) -> None:
        self.total = counters.Usage()
        self._lock = threading.Lock()

    def add(self, part: counters.Usage) -> None:
        with self._lock:
            self.total.api_calls.update(part.api_calls)
            self.total.rate_limited.update(part.rate_limited)
            self.total.tokens_minted += part.tokens_minted


@contextmanager
def recorded_usage(
    state: StateTable, run_id: str, step: str, context: Any, extra: SharedUsage | None = None
) -> Iterator[counters.Usage]:
    """Count what the invocation spends and record it when it ends, successfully or not."""
    started = time.monotonic()
    ok = False
    with counters.usage() as usage:
        try:
            yield usage
            ok = True
        finally:
            spent = usage.to_dict()
            if extra is not None:
                more = extra.total.to_dict()
                for key in ("api_calls", "rate_limited"):
                    for tenant, n in more[key].items():
                        spent[key][tenant] = spent[key].get(tenant, 0) + n
                spent["tokens_minted"] += more["tokens_minted"]
            request_id = getattr(context, "aws_request_id", None) or f"local-{time.time_ns()}"
            state.put_summary(
                run_id,
                f"usage#{step}#{request_id}",
                {
                    "step": step,
                    "ok": ok,
                    "seconds": round(time.monotonic() - started, 3),
                    "memory_mb": int(getattr(context, "memory_limit_in_mb", 0) or 0),
                    **spent,
                },
            )
