"""Starting the deactivation sync for lifecycle events, whichever ingress saw them (event hook,
Log Streaming, System Log sweep): one Standard execution per event and User target, named by
:meth:`~okta_auth0_sync.domain.events.LifecycleEvent.execution_name` (the event's ``uuid``). Step
Functions refuses a name used before (``ExecutionAlreadyExists``): an event another ingress
already started is counted ``already_done`` and starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from okta_auth0_sync.domain.hooks import Selection
from okta_auth0_sync.domain.payloads.deactivation import DeactivationSyncInput
from okta_auth0_sync.store import executions


@dataclass
class Started:
    """What starting a selection did. ``started`` includes a start answered as the first one was
    (same name and input while that execution still runs: Step Functions' idempotent start)."""

    started: int = 0
    already_done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Started) -> None:
        self.started += other.started
        self.already_done += other.already_done
        self.failed += other.failed
        self.errors = sorted(set(self.errors) | set(other.errors))


def start_selected(state_machine_arn: str, selection: Selection, *, budget_seconds: float) -> Started:
    """Start the deactivation sync for every event of ``selection`` within ``budget_seconds``."""
    results = executions.start_many(
        state_machine_arn,
        [(name, DeactivationSyncInput.of_event(event).to_payload()) for name, event in selection.to_sync],
        budget_seconds=budget_seconds,
    )
    outcome = Started()
    for result in results:
        if result.status == "started":
            outcome.started += 1
        elif result.status == "duplicate":
            outcome.already_done += 1
        else:
            outcome.failed += 1
    outcome.errors = sorted({r.error for r in results if r.error})
    return outcome
