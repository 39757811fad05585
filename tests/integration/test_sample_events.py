"""The events/ samples are what `sam local invoke -e` and `aws stepfunctions start-execution`
send: every function has some, and each works as is against the sandbox (same stack name and
hook secret as `make sandbox`)."""

import json

import pytest

from okta_auth0_sync.base import counters
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.template import ROOT

EVENTS = ROOT / "events"
FUNCTIONS = {
    "MintTokenFunction": ["mint_token.json"],
    "LookupUsersFunction": ["lookup_users.json"],
    "UpdateMetadataFunction": ["update_metadata.json"],
    "EventHookFunction": [
        "event_hook_verify.json",
        "event_hook_deactivate.json",
        "event_hook_reactivate.json",
        "event_hook_preview.json",
    ],
    "ListRoleMembersFunction": ["list_role_members.json"],
    "ProvisionMembersFunction": ["provision_members.json"],
    "ProvisioningReportFunction": ["provisioning_report.json"],
    "DeprovisionMembersFunction": ["deprovision_members.json"],
    "StartProvisioningRunsFunction": ["start_provisioning_runs.json"],
    "ApiAuthorizerFunction": ["api_authorizer.json"],
    "InvokeApiFunction": [
        "invoke_api_provision.json",
        "invoke_api_sync_user.json",
        "invoke_api_status.json",
        "invoke_api_reconcile.json",
    ],
    "ReconcileFunction": ["reconcile.json"],
    "SystemLogSweepFunction": ["system_log_sweep.json"],
    "Auth0LifecycleFunction": ["auth0_lifecycle.json"],
}
# Functions the default stack does not have (a parameter turns each on); their samples are tested
# with them (tests/integration/test_system_log_ingress.py).
CONDITIONAL = {
    "LogStreamFunction": ["log_stream_deactivate.json"],
    # tests/integration/test_auth0_lifecycle.py
    "Auth0LogEventsFunction": ["auth0_log_event.json"],
    "Auth0LogPollFunction": ["auth0_log_poll.json"],
}
EXECUTIONS = {
    "IdentityLookupStateMachine": "identity_lookup_execution.json",
    "DeactivationSyncStateMachine": "deactivation_sync_execution.json",
    "ProvisioningStateMachine": "provisioning_execution.json",
    "ReconciliationStateMachine": "reconciliation_execution.json",
    "Auth0LifecycleStateMachine": "auth0_lifecycle_execution.json",
}


def event(name):
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def stack(sb, credentials):
    counters.api_calls.reset()
    secrets = {
        "Auth0ConnectionSecret": credentials.auth0,
        "OktaConnectionSecret": credentials.okta,
        "EventHookSecret": {"current": "local-dev-hook-secret-change-me", "previous": ""},
    }
    with LocalDeployment(
        secrets,
        stack_name="okta-auth0-sync",
        parameters={
            "OktaDomain": sb.okta.domain,
            "Auth0Domain": sb.auth0.domain,
            "ApiIssuer": f"{sb.okta.base_url}/oauth2/aus7gqIzvk6Dnq4hJmNN",
        },
    ) as deployment:
        yield deployment


def test_every_function_and_state_machine_has_samples(stack):
    assert set(FUNCTIONS) == set(stack.template.of_type("AWS::Serverless::Function"))
    assert set(EXECUTIONS) == set(stack.template.of_type("AWS::Serverless::StateMachine"))
    used = (
        {f for files in (*FUNCTIONS.values(), *CONDITIONAL.values()) for f in files}
        | set(EXECUTIONS.values())
        | {"provisioning_schedule_execution.json"}
    )
    assert used == {p.name for p in EVENTS.glob("*.json")}


def test_task_samples(sb, stack):
    assert stack.invoke("MintTokenFunction", event("mint_token.json"))["auth0"]["token_type"] == "Bearer"
    assert stack.invoke("LookupUsersFunction", event("lookup_users.json"))["match_count"] == 1
    assert stack.invoke("UpdateMetadataFunction", event("update_metadata.json"))["counts"] == {"flagged": 1}
    listing = stack.invoke("ListRoleMembersFunction", event("list_role_members.json"))
    assert listing["members"]["members"] == 6 and listing["members"]["batches"] == 1
    batch = stack.invoke("ProvisionMembersFunction", event("provision_members.json"))
    assert batch["counts"] == {"would_create": 4, "would_add_existing": 1, "would_fail": 1}
    deprovisioning = stack.invoke("DeprovisionMembersFunction", event("deprovision_members.json"))
    assert deprovisioning["safety_stop"]["planned"] == 0 and deprovisioning["counts"] == {}
    report = stack.invoke("ProvisioningReportFunction", event("provisioning_report.json"))
    assert report["members"] == 6 and report["batches"] == 1
    runs = stack.invoke("StartProvisioningRunsFunction", event("start_provisioning_runs.json"))
    assert [r["status"] for r in runs["runs"]] == ["started"]
    stack.wait_all("ProvisioningStateMachine")
    sweep = stack.invoke("SystemLogSweepFunction", event("system_log_sweep.json"))
    assert sweep["first_run"] is True and sweep["stopped"] == "caught_up" and sweep["failed"] == 0
    lifecycle = stack.invoke("Auth0LifecycleFunction", event("auth0_lifecycle.json"))
    assert lifecycle["outcome"] == "not_provisioned"  # no mapping in this stack: nothing of ours to follow
    step = stack.invoke("ReconcileFunction", event("reconcile.json"))
    assert step["dry_run"] is True and step["phase"] == "done" and step["counts"]["started"] == 0


def test_http_samples(stack):
    verify = stack.invoke("EventHookFunction", event("event_hook_verify.json"))
    assert verify["statusCode"] == 200
    for name in ("event_hook_deactivate.json", "event_hook_reactivate.json", "event_hook_preview.json"):
        assert stack.invoke("EventHookFunction", event(name))["statusCode"] == 204, name
    assert len(stack.executions("DeactivationSyncStateMachine")) == 2  # the preview is skipped
    refused = stack.invoke("ApiAuthorizerFunction", event("api_authorizer.json"))  # a placeholder token
    assert refused["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert refused["context"]["challenge"].startswith('Bearer realm="okta-auth0-sync", error="invalid_token"')
    started = stack.invoke("InvokeApiFunction", event("invoke_api_provision.json"))
    assert started["statusCode"] == 202
    assert stack.invoke("InvokeApiFunction", event("invoke_api_sync_user.json"))["statusCode"] == 202
    assert stack.invoke("InvokeApiFunction", event("invoke_api_status.json"))["statusCode"] == 404
    assert stack.invoke("InvokeApiFunction", event("invoke_api_reconcile.json"))["statusCode"] == 202
    stack.wait_all("ReconciliationStateMachine")
    stack.wait_all("ProvisioningStateMachine")
    stack.wait_all("DeactivationSyncStateMachine")


@pytest.mark.parametrize("machine", sorted(EXECUTIONS))
def test_execution_samples(stack, machine):
    run = stack.execute(machine, event(EXECUTIONS[machine]))
    assert run.status == "SUCCEEDED", run.cause_message


def test_schedule_sample_matches_what_the_schedule_sends(stack):
    sample = event("provisioning_schedule_execution.json")
    schedule = json.loads(stack.schedule("ProvisioningStateMachine", "Nightly")["Input"])
    assert set(sample) == set(schedule)
    fan_out = stack.execute("ProvisioningStateMachine", sample)
    assert fan_out.status == "SUCCEEDED" and fan_out.output["runs"][0]["status"] == "started"
    stack.wait_all("ProvisioningStateMachine")
