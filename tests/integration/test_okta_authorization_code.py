"""The Okta authorization-code connection mode end to end: a web app acting for the admin who
consented, its refresh token rotated by the functions (stored back in the secret before use),
shared by concurrent containers, and a revoked authorization ending in ConsentRequired, its
metric and its alarm, with no retry storm."""

import hashlib
import json
import time
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from okta_auth0_sync.base import counters
from okta_auth0_sync.runtime import observability
from okta_auth0_sync_sandbox.clock import FakeClock
from okta_auth0_sync_testbed import refresh_rotation
from okta_auth0_sync_testbed.fidelity import atomic_dynamodb_items

from .conftest import deliver

ADA = "00uZPx7YubxGT9rKLiKE"
GRACE = "00uieg27N0mAaWp92N5J"
GRACE_DB = "auth0|c7d4c9e39de14f953e9cd582"
PARTNER_ROLE = "rol_rRVnAbarjZsuC2Xn"
PARTNERS_GROUP = "00gU18bXbD9XEKxR56aB"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def web_app(sb, stack):
    """The web app, the admin's consent, and the Okta connection secret in this mode."""
    app = sb.okta.register_web_app(
        name="okta-auth0-sync", scopes=refresh_rotation.SCOPES, redirect_uris=[refresh_rotation.REDIRECT]
    )
    secret = sb.okta.register_client_secret(app.client_id)
    stack.put_secret(
        "OktaConnectionSecret",
        {
            "mode": "authorization_code",
            "domain": sb.okta.domain,
            "base_url": sb.okta.base_url,
            "client_id": app.client_id,
            "client_secret": secret,
            "scopes": refresh_rotation.SCOPES,
            "refresh_token": refresh_rotation.consent(sb, app.client_id, secret),
        },
    )
    stack.cold_start()
    return app


def stored(stack):
    sm = stack.client("secretsmanager")
    return json.loads(sm.get_secret_value(SecretId=stack.ref("OktaConnectionSecret"))["SecretString"])


def test_flows_run_in_this_mode_and_the_rotated_token_is_stored_before_use(sb, stack, web_app, hook):
    consented = stored(stack)["refresh_token"]
    stack.cold_start_every_invocation = True  # every container finds the token the first one cached
    lookup = stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA})
    assert lookup.status == "SUCCEEDED", lookup.cause_message
    rotated = stored(stack)["refresh_token"]
    assert rotated != consented  # Okta rotated it; the function wrote the new one to the secret

    sb.okta.deactivate_user(GRACE)  # the deactivation flow, delivered by the event hook
    deliver(sb)
    (run,) = stack.wait_all("DeactivationSyncStateMachine").values()
    assert run.status == "SUCCEEDED", run.cause_message
    assert sb.auth0.get_user(GRACE_DB)["blocked"] is True

    report = stack.execute(
        "ProvisioningStateMachine", {"role_id": PARTNER_ROLE, "group_id": PARTNERS_GROUP}, timeout=600
    )
    assert report.status == "SUCCEEDED", report.cause_message
    counts = report.output["report"]["counts"]
    assert counts.get("provisioned", 0) + counts.get("existing_added", 0) >= 4  # users created in this mode
    assert all("firstName" in f["reason"] for f in report.output["report"]["failed_members"])  # the fixture's one

    # one refresh for all of it, whatever container ran what; the secret holds the valid token
    assert counters.tokens_minted.total("okta") == 1
    assert counters.api_calls.total("okta", route="/oauth2/v1/token", status=200) == 1
    (family,) = sb.okta.grants.families.values()
    assert family.current == hashlib.sha256(rotated.encode()).hexdigest() and not family.revoked
    assert "eyJ" not in json.dumps([lookup.history, run.history, report.history], default=str)
    assert rotated not in json.dumps([lookup.history, run.history, report.history], default=str)


def test_a_revoked_authorization_is_a_clear_error_a_metric_and_no_retry_storm(sb, stack, web_app, monkeypatch):
    published = []
    monkeypatch.setattr(observability.metrics, "add_metric", lambda name, unit, value: published.append((name, value)))
    sb.okta.grants.revoke_all(web_app.client_id)  # reuse detected elsewhere, or an admin revoked it
    run = stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA})
    assert run.status == "FAILED" and run.error == "ConsentRequired"
    assert "re-run the consent command" in run.cause_message and "invalid_grant" in run.cause_message
    assert ("OktaConsentRequired", 1) in published
    assert stored(stack)["refresh_token_revoked"]  # remembered: nobody presents the dead token again
    calls = counters.api_calls.total("okta", route="/oauth2/v1/token")
    assert calls == 1  # ConsentRequired is not retried by the state machine

    stack.cold_start()  # a new container, which reads the secret afresh
    again = stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA})
    assert again.error == "ConsentRequired"
    assert counters.api_calls.total("okta", route="/oauth2/v1/token") == calls  # not one more Okta call
    assert published.count(("OktaConsentRequired", 1)) == 2  # the alarm stays in ALARM while it is broken


def test_the_alarm_and_the_refresh_permissions_in_the_template():
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    resources = template["Resources"]
    alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    (alarm,) = [r for r in alarms if r["Properties"].get("MetricName") == "OktaConsentRequired"]
    props = alarm["Properties"]
    assert props["Namespace"] == "OktaAuth0Sync" and props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert "consent" in props["AlarmDescription"]
    statements = resources["OktaConnectionAccess"]["Properties"]["PolicyDocument"]["Statement"]
    puts = [s for s in statements if "secretsmanager:PutSecretValue" in _actions(s)]
    assert puts and all(s["Resource"] == {"Ref": "OktaConnectionSecret"} for s in puts)
    for name, resource in resources.items():  # nobody else may write a secret
        for statement in _statements(resource):
            if "secretsmanager:PutSecretValue" in _actions(statement):
                assert name == "OktaConnectionAccess"


def test_refresh_rotation_across_8_concurrent_containers(tenants):
    """The mechanism of `make refresh-rotation` (1,000 refreshes), smaller: every refresh once,
    a holder killed between Okta's answer and its secret write, 0 invalid_grant, one valid token."""
    clock = FakeClock()
    tenants.set_clock(clock)
    try:
        with mock_aws(), atomic_dynamodb_items():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            dynamodb.create_table(
                TableName=refresh_rotation.TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            )
            secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
            figures = refresh_rotation.run(
                tenants, (dynamodb, secretsmanager), clock, refreshes=8, crash_rate=0.0, crash_writes=(3,)
            )
    finally:
        tenants.set_clock(time.time)
        tenants.reset()
    assert figures.refreshes == 8 and figures.crashes == 1
    assert figures.invalid_grant == 0 and not figures.errors
    assert figures.token_requests == figures.refreshes  # the crashed holder's refresh counts once: Okta answered it
    assert figures.used_old_token > 0  # losers kept using the still-valid token meanwhile
    assert figures.valid_refresh_tokens_at_end == 1 and figures.secret_holds_the_valid_one


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {("Ref" if suffix == "Ref" else f"Fn::{suffix}"): value}


_Loader.add_multi_constructor("!", _tag)


def _statements(resource):
    props = resource.get("Properties") or {}
    inline = [p.get("PolicyDocument") for p in props.get("Policies") or [] if isinstance(p, dict)]
    docs = [props.get("PolicyDocument"), *inline]
    return [s for d in docs if isinstance(d, dict) for s in d.get("Statement", [])]


def _actions(statement):
    action = statement.get("Action")
    return action if isinstance(action, list) else [action]
