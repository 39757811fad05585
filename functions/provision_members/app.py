"""Provisioning step 2, one Distributed Map item: a batch of role members into the Okta group.

Input (the map's ItemSelector): ``{"run": {...run options...}, "batch": {"index", "user_ids"}}``;
with ``"failure": {"Error", "Cause"}`` (the item's Catch) it records the batch as failed instead.
Output: a small summary; the details go to the state table.
"""

import os

from okta_auth0_sync.base import counters
from okta_auth0_sync.base.errors import InvalidInput, cause_message
from okta_auth0_sync.domain.provisioning import ProvisioningPolicy, RunOptions
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.provisioning.worker import BatchWorker, record_batch_failure
from okta_auth0_sync.store.provisioning_state import StateTable


@handler(correlation_id_path="run.run_id")
def lambda_handler(event: dict, context) -> dict:
    event = event or {}
    options = RunOptions.parse(event.get("run") or {})
    batch = event.get("batch") or {}
    user_ids = batch.get("user_ids")
    if (
        not isinstance(user_ids, list)
        or not all(isinstance(u, str) for u in user_ids)
        or not isinstance(batch.get("index"), int)
    ):
        raise InvalidInput('batch must be {"index": n, "user_ids": [...]}')
    state = StateTable(os.environ["STATE_TABLE"])
    part = f"batch#{batch['index']:06d}"
    with counters.usage() as usage:
        try:
            if "failure" in event:
                failure = event["failure"] or {}
                summary = record_batch_failure(
                    options,
                    state,
                    user_ids,
                    str(failure.get("Error", "Unknown")),
                    (cause_message(failure.get("Cause")) or "")[:300],
                )
            else:
                worker = BatchWorker(
                    options,
                    auth0=connections.auth0(),
                    okta=connections.okta(),
                    state=state,
                    policy=ProvisioningPolicy.from_env(),
                )
                summary = worker.run(user_ids)
        except Exception:
            # This attempt fails (Step Functions retries it): what it spent still counts in the report.
            state.put_summary(options.run_id, f"{part}#attempt#{context.aws_request_id}", {"usage": usage.to_dict()})
            raise
    state.put_summary(options.run_id, part, {**summary, "usage": usage.to_dict()})
    for outcome, count in summary["counts"].items():
        metrics.add_metric(name=f"Members_{outcome}", unit=MetricUnit.Count, value=count)
    logger.info(
        "batch provisioned",
        extra={
            "run_id": options.run_id,
            "batch": batch["index"],
            "counts": summary["counts"],
            "usage": usage.to_dict(),
        },
    )
    return {"index": batch["index"], "counts": summary["counts"]}
