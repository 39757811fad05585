"""Fan-out for the schedule: one provisioning execution per role->group mapping, each run on its
own. Names are derived from the mapping and the schedule's time, so a repeated schedule delivery
starts nothing new.

Input (``FanOutInput``): ``{"request": <the execution input: {"mappings": [...], "dry_run",
"recheck", "scheduled_time"}>, "execution_name", "state_machine_arn"}`` (the state machine passes
its own ARN). The occasion naming the runs is the schedule's time, or the execution's name for a
run started by hand. Output (``FanOutResult``): ``{"runs": [{role_id, group_id, execution, status}]}``.
"""

from okta_auth0_sync.domain.payloads.provisioning.runs import FanOutInput, FanOutResult
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services.provisioning.runs import start_mapping_runs


@handler(correlation_id_path="execution_name", trace=False)
def lambda_handler(event: dict, context) -> dict:
    result = FanOutResult(tuple(start_mapping_runs(FanOutInput.from_payload(event))))
    output = result.to_payload()
    logger.info("provisioning runs started", extra=output)
    return output
