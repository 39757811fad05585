"""Fan-out for the schedule: one provisioning execution per role->group mapping, each run on its
own. Names are derived from the mapping and the schedule's time, so a repeated schedule delivery
starts nothing new.

Input: ``{"request": <the execution input: {"mappings": [...], "dry_run", "recheck",
"scheduled_time"}>, "execution_name", "state_machine_arn"}`` (the state machine passes its own
ARN). The occasion naming the runs is the schedule's time, or the execution's name for a run
started by hand.
"""

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services.provisioning.runs import start_mapping_runs


@handler(correlation_id_path="execution_name", trace=False)
def lambda_handler(event: dict, context) -> dict:
    event = event or {}
    request = event.get("request") or {}
    arn = event.get("state_machine_arn")
    occasion = request.get("scheduled_time") or event.get("execution_name")
    if not isinstance(arn, str) or not arn.startswith("arn:") or not isinstance(occasion, str) or not occasion:
        raise InvalidInput("state_machine_arn and a scheduled_time or execution_name are required")
    started = start_mapping_runs(
        arn,
        request.get("mappings"),
        occasion=occasion,
        dry_run=request.get("dry_run") is True,
        recheck=request.get("recheck") is True,
    )
    logger.info("provisioning runs started", extra={"runs": started})
    return {"runs": started}
