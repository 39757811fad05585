"""Provisioning step 3: the run's report from the state table: counts per outcome, the failed
members with reasons, drift, API calls per tenant, 429s, tokens minted, duration. Returned as
the execution output (small), stored whole in S3, logged as JSON and published as metrics.

Input (``ReportInput``): ``{"request": <the execution input>, "run_id", "started_at", "tokens_minted"}``.
Output: the report (``RunReport``), with ``report_key`` naming its S3 object.
"""

import json
from dataclasses import replace

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.provisioning.report import ReportInput
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.provisioning.members import read_departures
from okta_auth0_sync.services.provisioning.report import build_report
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.provisioning_state import StateTable

METRIC_NAMES = {
    "provisioned": "MembersProvisioned",
    "existing_added": "MembersExistingAdded",
    "failed": "MembersFailed",
    "skipped": "MembersSkipped",
    "unchanged": "MembersUnchanged",
    "removed": "MembersRemoved",
    "restored": "MembersRestored",
}


@handler(correlation_id_path="run.run_id")
def lambda_handler(event: dict, context) -> dict:
    request = ReportInput.from_payload(event)
    config = settings.current()
    state, bucket = StateTable(config.require("state_table")), config.require("provisioning_bucket")
    s3 = aws.client("s3")
    report = build_report(
        request.run,
        state,
        started_at=request.started_at,
        tokens_minted=request.tokens_minted,
        report_memory_mb=int(getattr(context, "memory_limit_in_mb", 0) or 512),
        departures=lambda: [d["user_id"] for d in read_departures(s3, bucket, request.run.run_id)["departures"]],
    )
    key = f"reports/{request.run.run_id}.json"
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(report.to_payload(), indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    report = replace(report, report_key=key)
    if not request.run.dry_run:
        for outcome, name in METRIC_NAMES.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=report.counts.get(outcome, 0))
        metrics.add_metric(name="MembersLeftRole", unit=MetricUnit.Count, value=report.left_role)
        if report.cost is not None:
            metrics.add_metric(
                name="ProvisioningRunStateTransitions", unit=MetricUnit.Count, value=report.cost.state_transitions
            )
        if report.duration_seconds is not None:
            metrics.add_metric(name="ProvisioningRunSeconds", unit=MetricUnit.Seconds, value=report.duration_seconds)
    output = report.to_payload()
    logger.info("provisioning report", extra={"report": output})
    return output
