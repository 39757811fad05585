"""Provisioning step 2 (beside the listing, looped): take each batch the listing writes, create
its members in the Okta group (or add the existing, or restore those who came back), as many in
flight as the Okta create quota allows; return where to go on when the deadline nears.

Input (``WorkerInput``): ``{"request": <the execution input>, "run_id", "next"}``; with
``"failure": {"Error", "Cause"}`` (the step's Catch) it records the members of the batches not
done as failed instead. Output (``WorkerResult``): ``{"next", "more"}``.

Or one given batch (``BatchInput``, an event-driven caller's batch of one): ``{"run", "batch":
{"index", "user_ids"}}`` (+ ``"failure"``), answered with ``BatchResult`` ``{"index", "counts"}``.
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.provisioning.batch import BatchInput, BatchResult, WorkerInput, WorkerResult
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services.provisioning.usage import recorded_usage
from okta_auth0_sync.services.provisioning.worker import RunWorker, record_worker_failure
from okta_auth0_sync.store.provisioning_state import StateTable


def _one_batch(event: dict, context) -> dict:
    request = BatchInput.from_payload(event)
    run, index = request.run, request.batch.index
    config = settings.current()
    state = StateTable(config.require("state_table"))
    user_ids = list(request.batch.user_ids)
    if request.failure is not None:
        state.put_summary(run.run_id, f"batch#{index:06d}", {"user_ids": user_ids})
        record_worker_failure(run, state, index, request.failure.error, request.failure.cause, last_batch=index)
        result = state.part(run.run_id, f"result#{index:06d}") or {}
        return BatchResult(index, result.get("counts", {})).to_payload()
    worker = RunWorker(
        run,
        auth0=connections.auth0(),
        okta=connections.okta(),
        state=state,
        policy=config.provisioning_policy,
        deprovision_policy=config.deprovision_policy,
    )
    with recorded_usage(state, run.run_id, "batch", context, worker.thread_usage):
        result = worker.run_batch(index, user_ids)
    return BatchResult(index, result.get("counts", {})).to_payload()


@handler(correlation_id_path="run_id")
def lambda_handler(event: dict, context) -> dict:
    if isinstance(event, dict) and "batch" in event:
        return _one_batch(event, context)
    request = WorkerInput.from_payload(event)
    run = request.run
    config = settings.current()
    state = StateTable(config.require("state_table"))
    if request.failure is not None:
        failed = record_worker_failure(run, state, request.next_batch, request.failure.error, request.failure.cause)
        logger.warning("worker failed; members recorded as failed", extra={"run_id": run.run_id, "failed": failed})
        return WorkerResult(request.next_batch, False).to_payload()
    worker = RunWorker(
        run,
        auth0=connections.auth0(),
        okta=connections.okta(),
        state=state,
        policy=config.provisioning_policy,
        deprovision_policy=config.deprovision_policy,
    )
    with recorded_usage(state, run.run_id, "worker", context, worker.thread_usage):
        next_batch, more = worker.run(request.next_batch)
    logger.info("worker round done", extra={"run_id": run.run_id, "next": next_batch, "more": more})
    return WorkerResult(next_batch, more).to_payload()
