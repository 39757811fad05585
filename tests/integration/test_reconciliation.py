"""Full-state reconciliation end to end: the real reconciliation ASL in moto looping the reconcile
function over the sandbox tenants, seeded with a few hundred people and drift both ways (every
lifecycle change made without an event: the events were lost), fixed through the same on-demand
deactivation-sync executions the invoke API starts."""

import json

import pytest

from okta_auth0_sync.base import counters
from okta_auth0_sync.domain.reconciliation import execution_name
from okta_auth0_sync.services import reconciliation
from okta_auth0_sync.store import executions
from okta_auth0_sync_cli.main import main
from okta_auth0_sync_testbed.timescale import scaled_retry_waits

MACHINE, SYNC = "ReconciliationStateMachine", "DeactivationSyncStateMachine"
DB, WORKFORCE = "Username-Password-Authentication", "okta-workforce"
PEOPLE = 160


def flag(okta_user_id: str) -> dict:
    return {
        "okta_sync": {
            "deactivated": True,
            "okta_user_id": okta_user_id,
            "event_type": "user.lifecycle.deactivate",
            "event_uuid": "seeded",
            "published": "2026-01-05T10:00:00.000Z",
            "blocked": True,
        }
    }


@pytest.fixture
def world(sb):
    """PEOPLE Okta users, each with an Auth0 account: a quarter deactivated and flagged (in sync),
    the rest active and unflagged, and the drift: 5 deactivated but not flagged (one of them with
    a second account in the IdP's letter case, one flagged on one account only), 4 active but
    flagged, and a flag naming an Okta user that was deleted (kept: not drift)."""
    people = []
    for n in range(PEOPLE):
        deactivated = n % 4 == 0
        email = f"rec.person{n}@acme.example"
        okta = sb.okta.add_user(
            {"login": email, "email": email, "firstName": "Rec", "lastName": str(n)},
            status="DEPROVISIONED" if deactivated else "ACTIVE",
        )
        account = sb.auth0.add_user(
            connection=DB, email=email, app_metadata=flag(okta["id"]) if deactivated else {}, blocked=deactivated
        )
        people.append({"okta": okta["id"], "accounts": [account["user_id"]], "deactivated": deactivated})
    missing = []
    for n in (1, 2, 3, 5, 6):  # deactivated in Okta with no event reaching Auth0
        login = f"gone{n}@acme.example"
        profile = {"login": login, "email": f"Gone{n}@Acme.example", "firstName": "Gone", "lastName": str(n)}
        missing.append(sb.okta.add_user(profile, status="DEPROVISIONED")["id"])
        accounts = [sb.auth0.add_user(connection=DB, email=login)["user_id"]]
        if n == 1:  # a second account, in the IdP's letter case
            accounts.append(sb.auth0.add_user(connection=WORKFORCE, email=f"Gone{n}@Acme.example")["user_id"])
        if n == 2:  # flagged on one account only
            flagged = sb.auth0.add_user(connection=WORKFORCE, email=login, app_metadata=flag(missing[-1]))
            accounts.append(flagged["user_id"])
        people.append({"okta": missing[-1], "accounts": accounts, "deactivated": True})
    stale = [people[n] for n in (7, 9, 10, 11)]  # active people whose accounts carry the flag
    for person in stale:
        sb.auth0.update_user(person["accounts"][0], {"app_metadata": flag(person["okta"]), "blocked": True})
    sb.auth0.add_user(connection=DB, email="deleted@acme.example", app_metadata=flag("00uDeletedLongAgo0001"))
    return {"people": people, "missing": missing, "stale": [p["okta"] for p in stale]}


def account_state(sb, user_id):
    user = sb.auth0.get_user(user_id)
    return (user.get("app_metadata") or {}).get("okta_sync"), bool(user.get("blocked"))


def auth0_state(sb, people):
    return {a: account_state(sb, a) for p in people for a in p["accounts"]}


@pytest.fixture
def quick_retries():
    """The nine fixes start at once on the deactivation sync's three reserved slots: the throttled
    ones wait out the throttle Retry (1 s to 30 s, full jitter) a hundredth as long here (the real
    ASL computes each wait; testbed/timescale.py shortens only the sleep)."""
    with scaled_retry_waits(1 / 100) as clock:
        yield clock


def test_reconciliation_finds_and_fixes_drift_both_ways_dry_run_changes_nothing(
    sb, stack, world, capsys, monkeypatch, quick_retries
):
    before = auth0_state(sb, world["people"])
    counters.api_calls.reset()

    # Auth0's flagged accounts are read 10 a page here (100 in production), each page starting at
    # the last one's created_at: none is read twice, and the fixing run's own writes (flags set
    # while it reads) shift nothing.
    monkeypatch.setattr(reconciliation, "PER_PAGE", 10)
    dry = stack.execute(MACHINE, {"dry_run": True, "requested_by": "test"})
    assert dry.status == "SUCCEEDED", dry.cause
    report = dry.output
    assert report["counts"]["missing_flag"] == 5 and report["counts"]["stale_flag"] == 4
    assert report["counts"]["started"] == 0 and stack.executions(SYNC) == []
    assert {d["okta_user_id"] for d in report["drift"] if d["kind"] == "missing_flag"} == set(world["missing"])
    assert {d["okta_user_id"] for d in report["drift"] if d["kind"] == "stale_flag"} == set(world["stale"])
    assert counters.api_calls.total("auth0", method="PATCH") == 0
    assert auth0_state(sb, world["people"]) == before  # a dry run changes nothing
    # Checked: every deactivated Okta user, and every flagged account exactly once.
    deactivated = [u for u in sb.okta.users() if u["status"] == "DEPROVISIONED"]
    assert report["counts"]["okta_users_checked"] == len(deactivated)
    flagged = [u for u in sb.auth0.users() if ((u.get("app_metadata") or {}).get("okta_sync") or {}).get("deactivated")]
    assert report["counts"]["auth0_accounts_checked"] == len(flagged) > 4 * 10

    fix = stack.execute(MACHINE, {"requested_by": "test"})
    monkeypatch.undo()
    assert fix.status == "SUCCEEDED", fix.cause
    assert fix.output["counts"]["missing_flag"] == 5 and fix.output["counts"]["stale_flag"] == 4
    assert fix.output["counts"]["started"] == 9 and fix.output["counts"]["failed_to_start"] == 0
    syncs = stack.wait_all(SYNC)
    assert len(syncs) == 9 and all(r.status == "SUCCEEDED" for r in syncs.values())
    for person in world["people"]:
        for account in person["accounts"]:
            record, blocked = account_state(sb, account)
            if person["okta"] in world["missing"]:
                assert record["deactivated"] is True and blocked, account
            if person["okta"] in world["stale"]:
                assert record["deactivated"] is False and not blocked, account

    # Each fix is the execution the names say: starting it again starts nothing.
    name = next(d["execution"] for d in fix.output["drift"] if d["kind"] == "stale_flag")
    assert name in syncs and name.startswith("reconcile-")
    assert executions.start(stack.ref(SYNC), name, {"okta_user": {"id": "00uX"}}).status == "duplicate"

    # A second run, on demand from the CLI, finds nothing and starts nothing, in few calls: pages of
    # 200 Okta users, 50 emails an Auth0 search, 100 flagged accounts a page, 50 Okta ids a search.
    counters.api_calls.reset()
    code = main(["reconcile", "--state-machine-arn", stack.ref(MACHINE), "--wait", "--timeout", "60"])
    out = capsys.readouterr().out
    again = json.loads(out[out.index('{\n  "status"') :])  # after the in-process handlers' log lines
    assert code == 0 and again["status"] == "SUCCEEDED" and again["requested_by"] == "cli"
    assert again["drift_found"] == 0 and again["counts"]["started"] == 0
    assert len(stack.executions(SYNC)) == 9
    assert counters.api_calls.total("okta") <= 4 and counters.api_calls.total("auth0") <= 6


def test_execution_names_are_per_user_and_status_change():
    a = execution_name("00uA1", "DEPROVISIONED", "2026-01-05T10:00:00.000Z")
    assert a == execution_name("00uA1", "DEPROVISIONED", "2026-01-05T10:00:00.000Z")
    assert a != execution_name("00uA1", "ACTIVE", "2026-01-05T10:00:00.000Z")
    assert a != execution_name("00uA1", "DEPROVISIONED", "2026-02-05T10:00:00.000Z")
    assert len(execution_name("00u" + "x" * 61, "DEPROVISIONED", "2026-01-05T10:00:00.000Z")) <= 80
