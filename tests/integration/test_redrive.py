"""The redrive runbook end to end: a deactivation sync fails on a permanent error (a missing
scope), the operator fixes the configuration and runs `okta-auth0-sync redrive`. The CLI talks to
the stack in moto (the real ASL). `okta-auth0-sync reconcile`: test_reconciliation.py."""

from okta_auth0_sync_cli.main import main
from okta_auth0_sync_cli.operations import plan_redrives

from .conftest import deliver

GRACE = "00uieg27N0mAaWp92N5J"
GRACE_DB = "auth0|c7d4c9e39de14f953e9cd582"
MACHINE = "DeactivationSyncStateMachine"


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_failed_sync_is_redriven_once_after_the_fix(sb, stack, credentials, hook, capsys):
    read_only = {**credentials.auth0, "client_id": "1LNojA4rDEqKRRUKxXz6jRd7lj8gZjU1"}  # fixture: read:users only
    read_only["client_secret"] = sb.auth0.register_client_secret(read_only["client_id"])
    stack.put_secret("Auth0ConnectionSecret", read_only)
    stack.cold_start()
    sb.okta.deactivate_user(GRACE)
    deliver(sb)
    (failed,) = stack.wait_all(MACHINE).values()
    assert failed.status == "FAILED" and failed.error == "PermissionDenied"

    stack.put_secret("Auth0ConnectionSecret", credentials.auth0)  # the fix: the right app again
    stack.cold_start()
    arn = stack.ref(MACHINE)
    code, out, _ = cli(capsys, "redrive", "--state-machine-arn", arn, "--dry-run")
    assert code == 0 and f"would redrive     {failed.name} as {failed.name}-r1  (PermissionDenied)" in out
    assert len(stack.executions(MACHINE)) == 1  # a dry run starts nothing
    code, out, _ = cli(capsys, "redrive", "--state-machine-arn", arn, "--error", "AuthenticationFailed")
    assert code == 0 and out == ""  # filtered out: not that error

    code, out, err = cli(capsys, "redrive", "--state-machine-arn", arn)
    assert code == 0 and f"redriven          {failed.name} as {failed.name}-r1" in out, err
    runs = stack.wait_all(MACHINE)
    assert runs[f"{failed.name}-r1"].status == "SUCCEEDED"
    assert sb.auth0.get_user(GRACE_DB)["app_metadata"]["okta_sync"]["deactivated"] is True

    code, out, err = cli(capsys, "redrive", "--state-machine-arn", arn)  # again: nothing more
    assert code == 0 and "already redriven" in out and "0 started" in err
    assert len(stack.executions(MACHINE)) == 2


def test_plan_redrives_picks_the_next_attempt_and_skips_what_is_done():
    def e(name, status):
        return {"name": name, "status": status, "executionArn": f"arn:{name}"}

    listed = [e("a", "FAILED"), e("a-r1", "FAILED"), e("b", "FAILED"), e("b-r1", "RUNNING"), e("c", "SUCCEEDED")]
    listed += [e("d", "TIMED_OUT"), e("x-r1", "FAILED")]  # x-r1 has no original in the window: an original itself
    plans = plan_redrives(listed)
    assert [(p["name"], n) for p, n in plans] == [("a", "a-r2"), ("b", None), ("d", "d-r1"), ("x-r1", "x-r1-r1")]
