"""The System Log sweep: reconciliation of the lifecycle events an event hook or a log stream
may have lost.

Each sweep reads ``/api/v1/logs`` from its checkpoint (the ``next`` link the previous page
answered; a first sweep starts ``backfill_hours`` back), page by page, and for each page:

1. picks the handled lifecycle events (as the hook does) and starts the deactivation sync for
   each, named after the event's ``uuid``: an event already started by the hook or the stream
   answers ``ExecutionAlreadyExists`` and is counted *already done*;
2. only when every start of the page succeeded (or was already done) advances the checkpoint to
   the page's ``next`` link, with a conditional write on the version it read.

So a sweep that fails half way (Okta, Step Functions, a timeout) leaves the checkpoint at the
first page it had not finished: the next sweep reads that page again (no gap), and what was
started is already done (no repeat). Of two sweeps running at once, exactly one advances from
any checkpoint; the other stops at its first advance (``checkpoint_moved``). A sweep stops when
Okta answers a page shorter than asked (caught up), after ``max_pages`` requests (the System
Log's rate limit is small: 20-120 requests a minute per org), or before the Lambda deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from okta_auth0_sync.base.errors import UpstreamError
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain import system_log
from okta_auth0_sync.domain.hooks import select_lifecycle_events
from okta_auth0_sync.domain.payloads.system_log import SweepReport
from okta_auth0_sync.services.ingress import Started, start_selected
from okta_auth0_sync.store.checkpoints import Checkpoint, CheckpointMoved, CheckpointStore

# Seconds of Lambda time a page needs (one paced request and starting up to a page of executions).
PAGE_RESERVE_SECONDS = 20.0
START_BUDGET_SECONDS = 60.0


@dataclass(frozen=True)
class SweepOptions:
    state_machine_arn: str
    handled_types: Sequence[str]
    backfill_hours: int = 24
    page_size: int = 1000
    max_pages: int = 20


def _asked_limit(url: str | None, default: int) -> int:
    """The ``limit`` a ``next`` link asks for (it keeps the first query's), else ``default``."""
    if url is None:
        return default
    values = parse_qs(urlsplit(url).query).get("limit") or []
    try:
        return int(values[0]) if values else 100  # Okta's default limit
    except ValueError:
        return default


class Sweep:
    """One sweep (``Sweep(okta, store, options).run(time_left)``)."""

    def __init__(self, okta: OktaClient, store: CheckpointStore, options: SweepOptions) -> None:
        self.okta = okta
        self.store = store
        self.options = options
        self.report = SweepReport()

    def run(self, time_left: Callable[[], float | None], now: datetime | None = None) -> SweepReport:
        checkpoint = self.store.read(system_log.SOURCE)
        self.report.first_run = checkpoint.cursor is None
        self.report.checkpoint_version = checkpoint.version
        params = None
        if checkpoint.cursor is None:
            start = system_log.since(now or datetime.now(UTC), self.options.backfill_hours)
            params = system_log.polling_query(self.options.handled_types, start, self.options.page_size)
        self._pages(checkpoint, params, time_left)
        return self.report

    def _pages(
        self, checkpoint: Checkpoint, params: dict[str, str] | None, time_left: Callable[[], float | None]
    ) -> None:
        url = checkpoint.cursor
        while True:
            left = time_left()
            if self.report.pages >= self.options.max_pages:
                self.report.stopped = "page_limit"
                return
            if left is not None and left < PAGE_RESERVE_SECONDS:
                self.report.stopped = "time_limit"
                return
            events, following = self.okta.system_log_page(next_url=url, params=params)
            self.report.pages += 1
            if following is None:  # a polling query always has one
                raise UpstreamError("Okta answered a System Log polling query without a next link", tenant="okta")
            outcome = self._start(events, left)
            if outcome.failed:
                self.report.stopped = "start_failed"  # the checkpoint stays before this page
                return
            if following != checkpoint.cursor:
                try:
                    checkpoint = self.store.advance(checkpoint, following, note=self.report.to_payload())
                except CheckpointMoved:
                    self.report.stopped = "checkpoint_moved"
                    return
                self.report.checkpoint_version = checkpoint.version
            if len(events) < _asked_limit(url, self.options.page_size):
                self.report.stopped = "caught_up"
                return
            url, params = following, None

    def _start(self, events: list[Any], left: float | None) -> Started:
        self.report.read += len(events)
        selection = select_lifecycle_events(events, self.options.handled_types)
        self.report.skipped += len(selection.skipped)
        self.report.skipped_reasons = (self.report.skipped_reasons + selection.skipped)[:20]
        budget = START_BUDGET_SECONDS if left is None else max(1.0, min(START_BUDGET_SECONDS, left - 5.0))
        outcome = start_selected(self.options.state_machine_arn, selection, budget_seconds=budget)
        self.report.started += outcome.started
        self.report.already_done += outcome.already_done
        self.report.failed += outcome.failed
        self.report.errors = sorted(set(self.report.errors) | set(outcome.errors))
        return outcome
