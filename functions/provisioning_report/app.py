"""Provisioning step 3: the run's report from the state table: counts per outcome, the failed
members with reasons, drift, API calls per tenant, 429s, tokens minted, duration. Returned as
the execution output (small), stored whole in S3, logged as JSON and published as metrics.

Input: ``{"run": {...}, "members": {"batches"}, "started_at", "tokens_minted"}``.
"""

import json
import os

from okta_auth0_sync.domain.provisioning import RunOptions
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.provisioning.report import build_report
from okta_auth0_sync.store import aws
from okta_auth0_sync.store.provisioning_state import StateTable

METRIC_NAMES = {
    "provisioned": "MembersProvisioned",
    "existing_added": "MembersExistingAdded",
    "failed": "MembersFailed",
    "skipped": "MembersSkipped",
    "unchanged": "MembersUnchanged",
}


@handler(correlation_id_path="run.run_id")
def lambda_handler(event: dict, context) -> dict:
    event = event or {}
    options = RunOptions.parse(event.get("run") or {})
    report = build_report(
        options,
        StateTable(os.environ["STATE_TABLE"]),
        started_at=event.get("started_at"),
        extra_usage={"usage": {"tokens_minted": int(event.get("tokens_minted") or 0)}},
        expected_batches=int((event.get("members") or {}).get("batches", 0)),
    )
    key = f"reports/{options.run_id}.json"
    aws.client("s3").put_object(
        Bucket=os.environ["PROVISIONING_BUCKET"],
        Key=key,
        Body=json.dumps(report, indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    report["report_key"] = key
    if not options.dry_run:
        for outcome, name in METRIC_NAMES.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=report["counts"].get(outcome, 0))
        metrics.add_metric(name="MembersLeftRole", unit=MetricUnit.Count, value=report["drift"]["left_role"])
        if report["duration_seconds"] is not None:
            metrics.add_metric(name="ProvisioningRunSeconds", unit=MetricUnit.Seconds, value=report["duration_seconds"])
    logger.info("provisioning report", extra={"report": report})
    return report
