"""EventBridge rules of the template, delivering events the way EventBridge does.

``deliver(stack, "Auth0LogStreamBus", event)`` puts one event on a bus: every ``EventBridgeRule``
event of every function in the template (whose condition holds) that names that bus is matched
with **moto's** event-pattern implementation against the rule's ``Pattern`` as the template
resolves it, and each matching rule's function is invoked with the event (in-process, through
the stack's Lambda seam). Like an asynchronous target, a function that raises is invoked again
(up to ``attempts``); what still fails is returned as dead-lettered. Nothing about the rules is
repeated in tests: a rule that would not match in AWS does not match here either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .deployment import LocalDeployment


@dataclass
class Delivery:
    """What one event did: ``invoked`` (function, rule) pairs with their results, and dead letters."""

    matched: list[tuple[str, str]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    dead_letters: list[tuple[str, str, str]] = field(default_factory=list)  # (function, rule, error)


def rules(stack: LocalDeployment, bus: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(function, rule, pattern)`` of every EventBridgeRule event on the bus ``bus`` (logical id)."""
    template = stack.template
    found = []
    for function in template.of_type("AWS::Serverless::Function"):
        events = template.resources[function]["Properties"].get("Events", {})
        for name, spec in events.items():
            if spec.get("Type") != "EventBridgeRule":
                continue
            target_bus = spec["Properties"].get("EventBusName")
            if target_bus != {"Ref": bus}:
                continue
            found.append((function, name, template.resolve(spec["Properties"]["Pattern"])))
    return found


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    return EventPattern(None, pattern).matches_event(event)


def deliver(stack: LocalDeployment, bus: str, event: dict[str, Any], *, attempts: int = 3) -> Delivery:
    delivery = Delivery()
    for function, rule, pattern in rules(stack, bus):
        if not matches(pattern, event):
            continue
        delivery.matched.append((function, rule))
        error = ""
        for _ in range(attempts):
            try:
                delivery.results.append(stack.invoke(function, event))
                break
            except Exception as exc:  # an async invocation's failure: EventBridge/Lambda retry it
                error = f"{type(exc).__name__}: {exc}"
        else:
            delivery.dead_letters.append((function, rule, error))
    return delivery


class LogStream:
    """The Auth0 log stream of a sandbox tenant, into the stack: every new log becomes its
    EventBridge event (``sandbox.auth0.logs``) and is delivered to the stack's rules on ``bus``,
    either when the test calls :meth:`pump` or, after :meth:`start`, as it is written (a thread)."""

    def __init__(self, stack: LocalDeployment, tenant: Any, bus: str = "Auth0LogStreamBus") -> None:
        import queue

        self.stack, self.bus = stack, bus
        self.events: list[dict[str, Any]] = []  # every event the stream carried
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: Any = None
        self._unsubscribe = tenant.tenant_logs.subscribe(self._put)

    def _put(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._queue.put(event)

    def pump(self) -> list[Delivery]:
        """Deliver every event queued so far (in this thread); returns their deliveries."""
        import queue

        done = []
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return done
            if event is not None:
                done.append(deliver(self.stack, self.bus, event))
                self.deliveries.append(done[-1])

    def start(self) -> LogStream:
        import threading

        def run() -> None:
            while (event := self._queue.get()) is not None:
                self.deliveries.append(deliver(self.stack, self.bus, event))

        self._thread = threading.Thread(target=run, name="auth0-log-stream", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._unsubscribe()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
