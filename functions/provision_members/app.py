"""Provisioning step 2, one Distributed Map item: a batch of role members into the Okta group.

Input (the map's ItemSelector, ``BatchInput``): ``{"run": {...run options...}, "batch": {"index",
"user_ids"}}``; with ``"failure": {"Error", "Cause"}`` (the item's Catch) it records the batch as
failed instead. Output (``BatchResult``): the batch's counts; the details go to the state table.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.base import counters
from okta_auth0_sync.domain.payloads.provisioning.batch import BatchInput, BatchResult
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.provisioning.worker import BatchWorker, record_batch_failure
from okta_auth0_sync.store.provisioning_state import StateTable


def _provision(request: BatchInput, state: StateTable) -> dict:
    """The batch's summary: its members provisioned, or (after the item's Catch) recorded as failed."""
    user_ids = list(request.batch.user_ids)
    if request.failure is not None:
        return record_batch_failure(request.run, state, user_ids, request.failure.error, request.failure.cause)
    worker = BatchWorker(
        request.run,
        auth0=connections.auth0(),
        okta=connections.okta(),
        state=state,
        policy=settings.current().provisioning_policy,
    )
    return worker.run(user_ids)


@handler(correlation_id_path="run.run_id")
def lambda_handler(event: dict, context) -> dict:
    request = BatchInput.from_payload(event)
    run, index = request.run, request.batch.index
    state = StateTable(settings.current().require("state_table"))
    part = f"batch#{index:06d}"
    with counters.usage() as usage:
        try:
            summary = _provision(request, state)
        except Exception:
            # This attempt fails (Step Functions retries it): what it spent still counts in the report.
            state.put_summary(run.run_id, f"{part}#attempt#{context.aws_request_id}", {"usage": usage.to_dict()})
            raise
    state.put_summary(run.run_id, part, {**summary, "usage": usage.to_dict()})
    for outcome, count in summary["counts"].items():
        metrics.add_metric(name=f"Members_{outcome}", unit=MetricUnit.Count, value=count)
    logger.info(
        "batch provisioned",
        extra={"run_id": run.run_id, "batch": index, "counts": summary["counts"], "usage": usage.to_dict()},
    )
    return BatchResult(index, summary["counts"]).to_payload()
